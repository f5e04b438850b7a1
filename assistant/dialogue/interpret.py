"""A message read in the conversation's state: what a short answer means after what 金小二 just said.

The NLU parses one message on its own. :func:`interpret` then looks at the conversation's memory
(:class:`assistant.dialogue.state.DialogueState`) and, where the message only makes sense in context, rewrites the
parse so every step sees the same understanding whichever path answers the turn:

* **selection** — after a clarification, «第二个», «最后那个», «上面那个» or a few words of one offered option pick
  that option (for the question that was being asked);
* **refinement** — after a matter, a detail about the person's situation («是继承的», «我离职了», «我在重庆») is
  re-ranked within the current matter's family (the matters of the same main item), using the earlier question
  together with the new detail;
* **hall questions** — opening hours, address, metro, parking … of the district hall or a street centre become
  ``ask_hall`` with the topic and, when named, the hall;
* **complaints** go to ``complain``;
* **«删除我的记录»** goes to ``erase_my_data``, and right after 金小二 asked whether to erase, a typed yes / no
  becomes ``erase_confirm`` / ``erase_cancel`` (the same as its buttons);
* **a spoken question the kiosk is sure of** — its n-best decision (``voice.decision``) chose one matter with
  confidence — is answered for that matter when the hearing reads as a question about a matter or a policy
  (``heard_matter``); what the hearing asks (materials, place, time, fee) is kept.

A message that names another matter clearly is a new topic: it is left as the NLU parsed it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from dataclasses import replace
from functools import lru_cache
from typing import Any

from assistant.dialogue.state import DialogueState
from assistant.preservice.numbers import find_booking_numbers
from knowledge.hall_questions import HALL_ONLY_TOPICS, HallTopic
from knowledge.places import Places, Region
from knowledge.schema import office_said
from nlu.intents import (ANSWER_CLAUSE, COST_WORDS, EVENT_TOLD, FEE_WORDS, MATERIAL_WORDS, MATTER_INTENTS, PLAN,
                         SOCIAL_WORDS, label_question)
from nlu.rerank import VariantCues
from nlu.text import KIN, WHAT_ABOUT as _WHAT_ABOUT, cn_number, strip_frame, what_about

#: The detail intents (what to bring, where, how long, what it costs).
DETAIL_INTENTS = ("ask_materials", "ask_location", "ask_time", "ask_fee")
#: Intents a clarification can have been asked for (the chosen option is answered for the same question).
ASK_INTENTS = ("ask_matter", *DETAIL_INTENTS)
#: Intents the NLU gives to short context-only answers, which a refinement may re-read.
SOFT_INTENTS = {"nlu_fallback", "out_of_scope", "affirm", "deny", "goodbye", "chitchat", "ask_matter"}
#: A question of at most this many Han characters that names no other matter is about the conversation's matter.
_SHORT_QUESTION = 6
#: … and a question of a few characters only («能补不», «咋个弄»).
_TINY_QUESTION = 4
#: A fused search score (``matters[].score``) at which the message names a matter on its own, even when no name or
#: alias appears in it. Measured on the current NLU: questions that name a matter score 1.40-1.50, follow-ups
#: without one («要收费吗», «在哪里办») 0.9-1.2.
STRONG_SCORE = 1.35
#: A search score at which a matter the question also found may be what it meant (:func:`look_alikes`).
LOOK_ALIKE_SCORE = 0.5
#: A best match this far ahead of its nearest sibling was told apart by the question's meaning, though in words its
#: name does not use («买了房子能落户不»: 购房落户 1.46, 人才落户 -0.26): no need to ask which. Measured on the current
#: NLU: questions that say only the family lead by 0.03-0.65 («公积金提取» 0.16, «社保卡的事» 0.26, «养老认证» 0.65),
#: questions that say the situation by 0.4-1.7 («娃娃刚生要上户口» 1.15).
MEANING_APART = 1.0
#: Main items that group nothing (the catalogue's placeholder).
_NO_FAMILY = {"", "未分类", "其他"}

_ORDINALS = [
    # counted from the end first («倒数第二个» is no second option; «倒数第一» is the last)
    (re.compile(r"倒数\s*第?\s*[一1壹]"), -1),
    (re.compile(r"倒数\s*第?\s*[二2两贰]"), -2),
    (re.compile(r"倒数\s*第?\s*[三3叁]"), -3),
    # («第一次办», «第二回» count times: the first time, not the first option)
    (re.compile(r"(第\s*[一1壹]\s*(?![次回遍趟])[个项条种]?|头一个|最前面|最上面|上面那个|上面那项|前面那个)"), 0),
    (re.compile(r"第\s*[二2两贰]\s*(?![次回遍趟])[个项条种]?|中间那个"), 1),
    (re.compile(r"第\s*[三3叁]\s*(?![次回遍趟])[个项条种]?"), 2),
    (re.compile(r"(最后|最下面|下面那|末尾)"), -1),
]
#: An option picked by its number alone, or said to be picked («2», «二», «选二», «我选3», «就点1»).
_PICKED = r"^\s*(?:(?:我|就)?(?:选|点|选择))?\s*"
_BARE_NUMBER = re.compile(_PICKED + r"([1-9１-９])\s*[.。号]?\s*$")
_CHINESE_NUMBER = re.compile(_PICKED + r"([一二三两])\s*(个|项)?\s*$")
#: The person (or the relative asked for) cannot come to the hall («高龄津贴» is a matter, not the person).
_SAYS_CANNOT_COME = re.compile(r"卧床|瘫痪|行动不便|腿脚?不(方便|好|行|灵便|利索)|走路(不方便|困难|都困难)|走不(动|了)|"
                               r"下不了床|出不了门|住院|坐轮椅|失能|中风|偏瘫|瘫|躺在床|在床上|来不了|去不了|"
                               r"(医院|床|家里|屋头|屋里)\S{0,3}(出不来|出不去|走不开)|不能出门|出不得门")
#: … or may not: a disability, a great age said (help is offered, but nobody said they cannot come).
_MAY_NOT_COME = r"残疾|[89]\d\s*(多)?[岁了]|[八九]十[一二三四五六七八九]?(多|好几|来)?[岁了]|高龄(?!津贴|补贴)"
_CANNOT_COME = re.compile(f"{_SAYS_CANNOT_COME.pattern}|{_MAY_NOT_COME}")
#: Someone who needs a hand with the forms or the phone («不识字», «不会用手机», «眼睛看不见»).
_NEEDS_A_HAND = re.compile(r"不识字|不认识字|不会写字|文盲|看不见|看不清|听不见|听不清|耳朵背|不会用(手机|智能手机|电脑)|"
                           r"不会上网|不会弄手机|痴呆|失智|糊涂了|(自己|本人)(做|办|弄|搞|填)不(了|来|到)")
_CHONGQING = re.compile(r"重庆|川渝")
#: Yes and no: answers, which mean nothing when nothing was asked …
_ANSWERS = {"affirm", "deny"}
#: … that is, with no matter, option or form in the conversation, after a turn of these (or none); so do sounds
#: that only fill a pause, whatever the classifier made of them.
_FILLER = re.compile(r"[呃额嗯恩哦噢喔啊唔诶欸哎嗷昂哼\s,.，。!！?？~～…]+")
_ASKS_NOTHING = {None, "", "greet", "goodbye", "thanks", "affirm", "deny", "chitchat", "nlu_fallback", "out_of_scope"}
#: A message that asks something rather than saying or asking for it: inside a form, a question instead of the
#: answer; «可以找人帮我代办不» asks whether there is such a service, «帮我找人代办» asks for it.
#: A pronoun for someone told of before (the situation of a statement applies to a question about them).
_THEM = re.compile(r"[他她]的|[他她]们?(?:的|要|能|可以|该|咋|怎|还|想)|老人家的")
QUESTION = re.compile(r"[?？]|[吗呢嘛么][。!！]?\s*$|多少|多(?:详细|具体)|怎么|怎样|如何|咋|哪(?!怕)|谁|几天|几点|多久|"
                      r"要好久|提前好久|好久(?:才|能|可以|拿|办|到|约|之前|以前)|(?:要|需要|得)好多(?:天|个?工作日|时间)|"
                      r"什么|啥子?|"
                      r"([\u4e00-\u9fff])不\1|可以.*[不吗么嘛]\s*$|能否|有没有|有没得|"  # 收不收费, 能不能
                      r"\S{2}(不|没|没得|没有)[。!！]?\s*$|"  # «要带身份证不», «办好了没»: Sichuanese yes-no questions
                      r"(?<!好)几(次|回|遍|趟|个|年|岁|张|份|个月)\s*$|"  # «一年能取几次» (not «跑了好几次»)
                      r"((?<!好)的|对|是)吧[?？]?\s*$")  # «上门是免费的吧», «要本人去对吧» (not «好的吧», «算了吧»)
#: Words that make a message about a hall rather than about the person («坐轮椅方便不» vs «本人坐轮椅来不了»).
_HALL_WORDS = re.compile(r"大厅|政务中心|政务服务中心|服务中心|便民|服务站|你们(那|这|单位|的?(?=电话|热线|地址)|(?=开|上班|放假|休息))|窗口|现场|过去|开门|下班|上班|办事|"
                         r"延时|取号|排队|停车|自助|邮寄|进(得)?去|进门")
#: Asking the way to somewhere (a destination of its own: «春熙路怎么走»), not how to reach the hall.
_GOES_ELSEWHERE = re.compile(r"(?P<to>[\u4e00-\u9fff]{2,})(怎么走|怎么去|咋个?去|咋个?走|如何去|在哪)")
#: Here or there, said of the hall («你们那儿», «这边»).
_HERE = re.compile(r"你们|这里|那里|这儿|那儿|这边|那边")


#: A wish to ask, saying nothing of what («我想问个事», «打听一下», «有个事想咨询下»).
_ASKS_TO_ASK = re.compile(r"(你好|您好)?[，,]?(请问|我|我们)?(有个事|有点事|有件事|有个问题|有几个问题)?[，,]?(想|要)?"
                          r"(问|打听|咨询|请教)(你|您)?(个|点|一下|下)?"
                          r"(事|事情|问题)?(哈|嘛|啊|呀)?[。!！?？]?")
#: A request to book it, naming nothing («那帮我约一个», «好，预约一下»).
_BOOK_IT = re.compile(r"^(那|那就|好的?|行|可以)?[，, ]*(就)?(帮我|给我|麻烦|请|帮忙)?(约|预约|登记|安排)(一个|一下|个|下)?"
                      r"(吧|嘛|哈|呗)?[。!！]?$")
#: How one goes, said before where to («坐地铁», «开车去», «坐地铁过来的话»): no destination.
_BY_MEANS = re.compile(r"^(坐|乘|搭|打|开|骑)(地铁|轻轨|公交车?|公车|车|的士?|出租车?|摩托车?|电瓶车|自行车)(去|到|过来|过去|来)?(的话)?"
                       r"|^走路(去|到|过来|过去|来)?(的话)?")


def _goes_elsewhere(text: str, halls: Any) -> bool:
    """Whether a message asks the way to a destination of its own, not a hall (nor «你们那儿», «大厅»; «坐地铁咋走»
    says how, not where to)."""
    m = _GOES_ELSEWHERE.search(text)
    to = _BY_MEANS.sub("", m.group("to")) if m is not None else ""
    return len(to) >= 2 and not _HALL_WORDS.search(to) and not _HERE.search(to) and halls.find(text) is None


#: Words that ask for a person (a helper, the phone, someone to come), where «帮忙» alone asks for help with a thing.
_A_PERSON = re.compile(r"人工|真人|工作人员|专员|帮办|客服|换个人|叫个人|喊个人|派个?人|专人|打电话|联系我|当面|机器人|代办|有人")
#: Words that ask for help, whoever gives it.
_HELP_ASKED = re.compile(r"帮忙|帮我办|找人|找个人|跑一趟")
#: Hall words that also describe where a matter is done (its places name the window).
_MATTER_PLACE_WORDS = {"窗口", "现场", "过去"}
#: Going to the hall at all, asked of a matter («要跑大厅不», «必须到政务中心去吗»): whether it is done there or
#: elsewhere (online), which its places say.
_GO_TO_HALL = re.compile(r"(?<![不没])(跑|去|到|来)(一趟|一哈|一下)?(大厅|政务中心|政务服务中心|服务中心)")


def _trip_to_hall(text: str) -> bool:
    """Whether ``text`` asks whether one must go to the hall (:data:`_GO_TO_HALL`), not tells who cannot come."""
    return bool(_GO_TO_HALL.search(text)) and not _CANNOT_COME.search(text)
#: The policy words proper (a firm's facts alone — 注册, 公司 — may also ask for a matter: «我想注册个公司»).
_POLICY_WORDS = re.compile(r"政策|扶持|优惠|补贴|补助|奖补|减税|减免|免税|税收|惠企|享受|一本通|支持")
#: An action (a form, a cancellation, a person, a check of one's materials) is asked for by a message that says
#: what it is for: «驾照到期了要换» asks about the renewal itself, «结婚登记预约» and «去大厅要预约不» are not
#: home-visit bookings, «个体户注销» is not the end of a licence reminder, «我要办个人独资企业» asks for no person,
#: «身份证咋办» lists no materials. Every example of these intents in ``nlu/data/intents.yml`` has its words.
ACTION_WORDS = {
    # («身份证过期了告诉我怎么办» asks how: 告诉我 alone asks for no reminder)
    "register_licence": re.compile(r"提醒|通知我|登记.{0,6}(证|照)|到期前|证照登记|有效期|到期时间|记一下|帮我记"),
    "book_home_visit": re.compile(r"上门|(?<!寄)到家|来家|家里来|屋头来|到屋|来不了|去不了|出不了门|行动不便|卧床|瘫痪|走不动"),
    "cancel_booking": re.compile(r"[Ss][Mm]-|取消|撤销|撤回|不要了|不用了|不需要|作废|退订|退掉|别来|不用来|不麻烦"),
    # (a licence's registration: «公司注销登记», «要不要去登记» end no reminder)
    "cancel_licence": re.compile(r"提醒|通知|消息|登记的(证|许可)|(证|证照|许可证)登记"),
    "request_human": re.compile(f"{_A_PERSON.pattern}|{_HELP_ASKED.pattern}"),
    "change_booking": re.compile(r"预约|上门|[Ss][Mm]-|改约|改期|改时间|改个时间|换个时间|时间|日子|日期|那天|哪天|换一天|改到|改成|推迟|提前"),
    "booking_status": re.compile(r"预约|约的|约好|上门|来我家|排到|[Ss][Mm]-|状态|进度"),
    "list_licences": re.compile(r"登记|提醒|证照|许可证|我的证|几张证"),
    "precheck_materials": re.compile(r"带了|有了|我有|都有|准备了|拿了|手头|齐|够|差|缺|少|核对|对一下|预审|检查|除了"),
    # the firm policies: a policy word, or the firm's own facts the policy list asks for («我们成立两年了»)
    "ask_policy": re.compile(rf"{_POLICY_WORDS.pattern}|成立|注册|小微|企业|公司|个体户"),
}
#: A place of one's own that changes («地址要变», «住址改了»): a detail of a matter, no question about the hall's address.
_PLACE_CHANGES = re.compile(r"(地址|住址|经营场所|门面)(要|想|已经|得|会|也)?(变|改|换|迁|搬)")
#: Wanting to do something («我想注册个公司»): a request, where a firm's bare facts («个体户») are not one.
_WANTS_TO = re.compile(r"想|要|准备|打算|申请|办")
#: A message that says who the person is («我是职工医保», «我们俩都是外地户口»), not what they ask for.
_DESCRIBES_SELF = re.compile(rf"^(我|我们|我家|我们家|本人|俺|他|她|他们|她们|(我|俺)[{KIN}]{{1,2}})(俩|两个|两口子|一家)?"
                             r"(是|属于|算|都是)"
                             r"(?!.*(办|申请|咋|怎么|想|要))|"
                             r"^(?!.*(办|申请|咋|怎么|想|要|吗|不|呢|[?？]))[\u4e00-\u9fff]{0,8}的?"
                             r"(学生|毕业生|老人|职工|工人|农民工?|军人|残疾人|员工|人员|户|者|医保)[。!！]?$")
#: Where someone's household registration is, told («她户口不在成都», «户籍在老家», «他不是成都户口»): who the person
#: is, as :data:`_DESCRIBES_SELF` says it — a detail of the matter, no 户口 matter asked for.
_RESIDENCE_TOLD = re.compile(r"^(?!.*(办|申请|咋|怎么|想|要|吗|呢|[?？]))[\u4e00-\u9fff]{0,4}"
                             r"((户口|户籍)(也|还|都)?(是|在|不在|没在)[\u4e00-\u9fff]{1,6}(的)?|"
                             r"(是|不是)[\u4e00-\u9fff]{1,4}(户口|户籍)(的)?)[。!！]?$")
#: A question how to get something done («优待证咋办», «怎么申请»), not whether it is needed («需要公证不»).
#: How, asked («咋个», «怎么», «如何»).
_HOW = r"(咋|怎么|怎样|如何|啷个)(个|样)?"
_HOW_TO = re.compile(rf"{_HOW}(办|弄|整|搞|申请|申领|领|开|处理)")
#: A question what has to be got for something («卖烟要办啥», «开网店要啥证») or whether one can have it («能贷款不»,
#: «社保有补贴吗»), not whether a thing is needed («需要公证不»).
_ASKS_FOR_IT = re.compile(r"办(啥|什么|哪些)|(啥|什么|哪些)(证|手续|许可)|^(能|可以|能不能|可不可以)|有没有|"
                          r"有[^，,。？?]{0,6}(吗|不|没)[？?]?$")
#: The words asking which («啥子», «哪些» …).
_WHICH_WORDS = r"啥子?|什么|哪些|哪几个?"
#: The place every matter here is of: no word of what is asked («我刚来成都打工…»).
_OUR_PLACES = frozenset({"成都", "金牛", "四川"})
#: Our own places said in a message (which say nothing of the matter asked about).
_OUR_PLACE = re.compile("|".join(sorted(_OUR_PLACES)))
#: Which certificates or procedures to get («需要办什么证», «要办哪些手续»), not what to bring («要带什么证件»).
_WHICH_TO_GET = re.compile(rf"办(个|些)?({_WHICH_WORDS})(证|照|手续|许可)|"
                           rf"(证|照|手续|许可)(?!件)(都|还)?(要|需要|得)(办)?({_WHICH_WORDS})|"
                           rf"(要|需要|得)(办)?(个|些)?({_WHICH_WORDS})(证|照|手续|许可)(?!件)")
#: Words naming only a kind of procedure — an approval, a filing, a declaration — and no matter: «要审批不».
_PROCEDURE = re.compile(r"审批|申报|审核|报批|批准|核准|批复|备案|报备|许可|登记")
#: Of those, everyday words for the one a matter's name says («报备»: 工伤事故备案).
_PROCEDURE_NAMED = {"报备": "备案", "报批": "审批"}
#: Of those, the ones a licence is (a matter of the type 行政许可 is asked «要审批不» of itself).
_APPROVAL = frozenset({"审批", "报批", "批准", "核准", "批复", "许可"})
#: What a question says around them (whether it is needed, where, how), and nothing of its own: «在哪申报».
_AROUND_PROCEDURE = frozenset("要不吗么嘛呢啊呀还也都那这个是否需用必须先得能可以在哪里儿去到怎咋如何没有一下手续办？?。！!，, ")
#: What must be done first («要先办啥», «得先弄个啥»): what a thing needs before it.
_DONE_FIRST = re.compile(r"(要|得|需要|应该)?先(要|得)?(办|弄|做|搞|整)(个|点)?(啥子?|什么|哪些|哪个)")
#: Which to do first («先办哪个», «哪个先办», «先后顺序»): the order of matters, not a place.
_WHICH_FIRST = re.compile(r"先办(哪|啥|什么)|(哪个|哪样|啥子?)先(办|弄)|先后顺序|办的顺序")
#: Whether someone can do or have something («孩子能在成都读书不», «我老婆可以随迁吗»).
_SOMEONE_CAN = re.compile(r"^[\u4e00-\u9fff]{1,4}?(能|可以|能不能|可不可以)[\u4e00-\u9fff]{2,10}(吗|不|么|没)[？?]?$")
#: Words of a detail (what to bring, where, how long, what it costs): «那材料呢» asks the detail.
_DETAIL_WORDS = re.compile(r"材料|资料|证件|带|哪|地方|地点|地址|时间|多久|好久|几天|钱|费|收(?!入|养)")
#: A place named as what changed («地址变了», «换了经营场所», «小卖部要换个地方»): no place asked for.
_CHANGED_PLACE = re.compile(r"(地址|住址|地点|场所|经营场所)(要|想|已经|也)?(变|换|改|迁|搬)|"
                            r"(变更|更改|更换|换|改|迁|搬)了?(个|一下|下)?(新的?)?(地址|住址|地点|经营场所|场所|地方|门面|店面|铺面)")
#: Words of a question about a service itself rather than a request for it.
_ABOUT_SERVICE = re.compile(r"条件|资格|收费|收钱|要钱|费用|多少钱|哪些人|什么人|啥子人|谁可以|谁能|范围|流程|怎么收")
#: «不是这个，是抵押», «不对，我要办的是换证», «都不对，我是要查房子», «我说的是公司», «我说错了，是补证», «不是开宠物
#: 医院那种哈 就是自己屋头养的泰迪»: what was understood is corrected.
_CORRECTION = re.compile(r"^(?:(?:都|我(?:刚才)?(?=[说搞弄点选打写]错))?(不是|不对|错了|搞错了|弄错了|点错了|选错了|说错了|打错了|"
                         r"写错了)(?P<wrong>[^，,。！!]{0,12}?)[哈哦嘛噻]?[，,。！!\s]*"
                         r"(我要办的是|我要的是|我说的是|我问的是|我是要|我是想|我是说|我是问|我想问|我要问|我要|我想|就是|其实是|而是|"
                         r"是|要|办)|"
                         r"(我说的是|我是说|我指的是|我问的是|我要问的是))(?P<rest>.{2,20})$")
#: A correction said the other way round («我开的是公司不是个体», «是租房，不是买房»): what was meant first (not whose
#: it is: «是我爸的不是我的»).
_MEANT_FIRST = re.compile(r"^(?:我)?(?:[\u4e00-\u9fff]{0,3}的)?是(?P<rest>[^，,。！!\s不]{1,9}[^，,。！!\s不的])[，,\s]*(?:而)?不是"
                          r"(?P<wrong>[^，,。！!]{1,6})[。！!]?$")


#: The words of a correction that say what is wished for («不对，我是要离婚»), not what a thing is («不对，是离婚证»).
_WISHED = frozenset({"我是要", "我是想", "我要", "我想", "要"})


#: What it takes, asked in no words of any matter («要办啥子手续», «需要办哪些手续», «那要办些啥»).
_WHAT_IT_TAKES = re.compile(r"^(?:那|那么|请问)?(?:我|我们)?(?:还)?(?:要|需要|得)?(?:先)?办(?:些|哪些|点)?(?:啥子?|什么|哪些)"
                            r"(?:手续)?(?:嘛|呢|哦|啊)?[？?]?$")
#: Only what is not meant, said («不是出生证哈», «不是身份证那个»).
_NOT_THIS = re.compile(r"^(?:都)?不是(?P<what>[\u4e00-\u9fffA-Za-z]{2,10}?)(?:的|那个|这个)?[哈哦嘛啊呀噻了]*[。！!，,~～]*$")


def _only_denied(text: str, parse: dict[str, Any], kb: Any) -> bool:
    """Whether ``text`` says nothing but that a matter it names (of the three it finds first) is not meant, with no
    kind of request said of it («不是新办的» asks another kind: not this)."""
    m = _NOT_THIS.match(text.strip())
    if m is None or _cues().of_query(m.group("what")):
        return False
    what = m.group("what")
    found = [kb.get(str(h.get("code"))) for h in (parse.get("matters") or [])[:3]]
    return any(x is not None and any(len(t) >= 2 and (what in t or t in what) for t in [x.name, *x.aliases])
               for x in found)


def _said_correction(text: str) -> re.Match[str] | None:
    """A correction of what was understood («不是个体户，是公司»; said the other way round, «是公司不是个体» reads so)."""
    t = text.strip()
    first = _MEANT_FIRST.match(t)
    return _CORRECTION.match(f"不是{first.group('wrong')}，是{first.group('rest')}" if first else t)


#: What a thing is not, said beside what it is («她是企业的工人，不是机关事业单位的», «是零售药店，不是诊所», «是普通
#: 高中不是职高»): not «不是很清楚», «是不是要本人去».
_IS_NOT = re.compile(r"[，,、\s]*(?:而|但|并|可)?(?:也)?(?<!是)不是(?![很太特别说因为所以要想能])"
                     r"(?P<what>[^，,。；;！!？?\s]{1,12})")
#: A 是 that says what a thing is (not «是不是», «是否», «不是»).
_IS = re.compile(r"(?<!不)是(?!不是|否)")


def meant_text(text: str) -> str:
    """``text`` without what it says a thing is not, when it says what it is too: the words that tell siblings apart
    are the ones said of what it is («她是企业的工人，不是机关事业单位的» → «她是企业的工人»). A correction of what was
    understood («不是个体户，是公司») and a message that says only what it is not («我不是本地户口») are left as they are."""
    if "不是" not in text or _said_correction(text) is not None:
        return text
    spans = [m.span() for m in _IS_NOT.finditer(text) if not QUESTION.search(m.group())]
    if not spans:
        return text
    rest = "".join(text[a:b] for a, b in zip([0] + [e for _, e in spans], [s for s, _ in spans] + [len(text)]))
    return rest if _IS.search(rest) and len(_CJK.findall(rest)) >= 4 else text


#: Issuing a paper («派出所能开不», «去社区开»), not opening a business or a door («在金牛开了个店»).
_ISSUE = r"开(?![了个家店公司车会门业办])"
#: Whether the matter can be done at a hall the message names («荷花池街道能办不», «在区政务中心可以办吗»).
_CAN_DO_THERE = re.compile(r"能办|可以办|能不能办|可不可以办|办得了|办不了|能弄|可以弄|能不能弄|受理|办理[吗不么]|能去|可以去|"
                           rf"(能|可以|能不能){_ISSUE}|开得了|去.{{0,8}}(办|弄|补|换|领|{_ISSUE})|"
                           rf"在.{{0,8}}(办|弄|补|换|领|{_ISSUE})")
#: Where inside a hall («几楼», «哪个窗口»).
_WHERE_IN_HALL = re.compile(r"几楼|哪层|几层|哪一层|哪个窗口|几号窗口|哪个区域|哪个柜台")
#: Where the person lives, told («我在茶店子住», «我家住营门口», «住在金泉街道»).
_LIVES_AT = re.compile(r"(我|我家|我们|我们家|屋头|家)(就)?(住|在|住在)|住在|^住")
#: A kind of place named first, and whether it can («银行能激活不», «派出所能开不», «街道能办不»).
_PLACE_CAN = re.compile(r"^(我们|我|那)?(街道|社区|便民服务中心|服务中心|政务中心|大厅|区上|附近|家附近|派出所|公安局|户籍室|网|线|手机|"
                        r"银行|医院|税务局|社保局|医保局|民政局)(上|里|那里|那边)?(能|可以|能不能|可不可以)")
#: Doing it at a place («在医院可以办不», «去街道能办吗», «街道能办不»), not whether one may («我这种情况能办不»).
_AT_A_PLACE = re.compile(rf"(在|去|到)[^，,。？?]{{1,8}}(办|弄|补|换|领|申请|{_ISSUE})|{_PLACE_CAN.pattern}")
#: Questions about the conversation's home-visit booking.
_BOOKING_INTENTS = {"booking_status", "change_booking", "cancel_booking"}
#: Words that speak of a booking itself.
_BOOKED = re.compile(r"预约|约的|约好|上门|[Ss][Mm]-")
#: A booking the person made already («我约的上门办», «约好的上门啥时候来», «已经预约了»).
_OWN_BOOKING = re.compile(r"(我|我们|我家|[给帮]我[^，,。]{0,3})(约|预约)(的|好的|了的|过的)|(约|预约)好(的|了)|"
                          r"已经(约|预约)|"
                          # (a booking made on a day gone: «我昨天在网上给我妈预约了上门服务»)
                          r"(昨天|前天|前两天|前几天|上周|上个?星期|上个?礼拜|上个月|之前|早就|刚才|刚刚)[^，,。]{0,10}?"
                          r"(约|预约)了")
#: Words that back out of what was being done, in a short message («算了», «不办了»): a form ends, options are dropped …
BACK_OUT_WORDS = "取消|算了|算球|不办了|不约了|不预约了|不登记了|退出|不弄了|不整了|不搞了"
#: … and the whole messages that do (with the ones that only mean «no more» said alone): «算了不办了».
BACKS_OUT = re.compile(rf"^\s*(({BACK_OUT_WORDS}|不要了|不用了|先不了|先不办了?)(吧|了|啊|哈)?[\s，,。!！.]*)+$")
#: After options: none of them is what the person wants («都不是», «没有我要的»), as the «都不是，转人工» button says.
_NONE_OF_THEM = re.compile(r"^(不是|不对|没有|没得)[啊呀哦嘛。！!]*$|都不是|都不对|一个都不|没有我要|没得我要|不是这几个|不是这些")
#: Why a reading offers options of its own (the options some words of the message share; matters for people read
#: with the conversation): they are offered as they are, not narrowed again by the message's words.
CHOSEN_OPTIONS = frozenset({"narrowed", "for_people", "options_again"})
#: A matter that only advises (its name: 政策咨询, 业务咨询 …), beside the one that does it.
_ADVICE = re.compile(r"咨询")

#: Options that are no choice for a message that does not say what they are for: each a pattern of their names and
#: the words that ask for them. A matter that only advises on the rules of another (入学政策咨询 beside 入学办理), for
#: a question about rules or conditions; the booking of another (结婚登记预约 beside 中国内地公民婚姻登记), for one that
#: asks to book; a move out (户口迁出 beside 户口迁移审批), for one that says where to (or out, away, back).
_ASIDE = ((re.compile(r"政策咨询$"), re.compile(r"政策|咨询|了解|规定|条件")),
          (re.compile(r"预约$"), re.compile(r"约")),
          (re.compile(r"迁出"), re.compile(r"出|走|回|去|往|外地|老家|别的|其他|[省市县区州]")))


def no_choice_for(text: str, name: str) -> bool:
    """Whether the matter called ``name`` is no choice for ``text``, which does not say what it is for
    (:data:`_ASIDE`)."""
    return any(n.search(name) and not asked.search(text) for n, asked in _ASIDE)


#: How to do it, and nothing else («咋办», «要办啥手续», «怎么弄呢»): no detail of any matter.
_ONLY_HOW = re.compile(rf"(那|请问|所以|那我|我)?(该|应该|要|需要|得)?{_HOW}(办|弄|整|搞|处理|申请)"
                       r"(呢|啊|嘛|哦|喃|哇|嗦)?|(那|请问)?(要|需要|得)?(办|准备|走)?(啥|什么|哪些|啥子)(手续|流程|步骤)(呢|啊|嘛)?")
#: Intents a message is not an answer to options with.
_NOT_A_CHOICE = {"request_human", "complain", "complain_ticket", "erase_my_data", "book_home_visit", "booking_status",
                 "change_booking", "cancel_booking"}
#: A question whether something is needed («需要公证不», «要交契税吗»): about the matter it is needed for.
_NEEDED = re.compile(r"需要|需不需要|要不要|用不用|得不得|必须|一定要|非得|(^|要)(要|得|还要|先要)[^，,。？?]{1,8}(吗|不|么|没)[？?]?$|"
                     r"要[^，,。？?啥什哪几多]{1,6}(吗|不|么|没)[？?]?$")
#: Whether one can («外地户口可以不», «能不能在这边读»).
_WHETHER_ONE_CAN = re.compile(r"(可以|能|行)(不|吗|么|嘛|没)[？?]?$|能不能|可不可以|行不行")
#: Money received, not paid («能领钱不», «一个月发好多»): a question about a benefit, not a fee.
_RECEIVES = re.compile(r"领(钱|多少|好多|得到)|能领|可以领|发(钱|多少|好多)|拿(多少|好多)?钱|能拿|有钱(拿|领)|补(多少|好多)|"
                       r"给(多少|好多)钱|有没有钱")
#: How or where («怎么», «咋个», «去哪儿» …), before what is done.
_HOW_WHERE = r"(怎么|咋个?|如何|啷个|去哪儿?|哪里|哪儿|哪点|在哪儿?|到哪儿?)(去)?"
#: Part of it («能报一部分不», «能报点不»).
_SOME = r"(一部分|一点|点|一些|些|部分)?"
#: How to receive money, or how much one may borrow or receive: «丧葬费怎么领», «能贷多少», «额度多少», «补贴标准是
#:多少», «这个钱能报不», «能报多少» (no fee question, though 费 or 多少 is in it).
_RECEIVED_HOW = re.compile(rf"{_HOW_WHERE}(领|申领|领取)|"
                           r"(贷|取|提)(多少|好多)|(领|拿|发)(得到|到|得了)?(多少|好多|几多)|额度|(补贴|补助|津贴|待遇|救助|抚恤金?)(的)?(标准|金额)|"
                           rf"(能|可以|能不能|可不可以)报(销)?{_SOME}(不|吗|么|嘛|没)?$|报(销)?(多少|好多|几多|几成)|报销(比例|标准)")
#: How to claim money back («生孩子的费用咋报», «医药费怎么报销», «报销咋弄»): costs one had, not a fee — 报名, 报到,
#: 报考 … are no claim.
_CLAIMED_HOW = re.compile(rf"{_HOW_WHERE}(报销|报账|报(?![名到考警案价关]))|(报销|报账)(手续)?(要|该|得)?(怎么|咋个?|如何|啷个)")
#: Whether costs are paid back, asked alone («能报不», «这个钱可以报一部分不», «咋报销»).
_PAID_BACK_ALONE = re.compile(rf"^(这个?|那个?)?(钱|费用)?(还)?(?:{_HOW_WHERE})?(能|可以|能不能|可不可以)?(报|报销)"
                              rf"{_SOME}(不|吗|么|嘛|没|呢)?[？?]?$")
#: How much, of anything («一个月多少», «能报好多»).
_HOW_MUCH = re.compile(r"多少|好多|几多|几百|几千")
#: A cost said as one: what is charged or paid for the service («要收费不», «办这个要多少钱», «工本费好多»).
_COSTS = re.compile(rf"{COST_WORDS}|收钱|手续费|(要|得|交|花|出|给)(多少|好多)钱|钱(要|得)?(多少|好多)|"
                    r"贵不贵|贵吗|贵不")
#: How much is paid into an insurance or a fund, per year or month («一年交多少», «每个月缴好多», «每年多少钱»).
_PAID_IN = re.compile(r"(交|缴|存)(得|了|的)?(多少|好多|几多|几百|几千)|(每年|一年|每个?月|一个月)(要|得)?(多少|好多)")
#: Whether someone must go or be there in person («房东要去不», «要不要本人来», «两个人都要到场吗»).
_MUST_ATTEND = re.compile(r"(要|得|需要|必须)(本人|亲自|一起|都)?(去|来|到场|到现场|出面|在场)(不|吗|么|嘛|没)|"
                          r"要不要.{0,4}(去|来|到场)")
#: Words asking for a list or a look at what is registered («我登记了哪些证照», «提醒列表», «看看我的证»).
_LISTS = re.compile(r"哪些|哪几|列表|列出|清单|查|看|有几|几张|几个|都有|显示|登记了|登记过|登记的|设置的|还在|我的证|的证照")
#: Asking to be reminded or told ahead («提醒我», «提前通知我»), and a licence's renewal or expiry: the reminder.
_REMIND_ME = re.compile(r"提醒|通知我|提前通知|通知一下|短信通知|发个通知")
_RENEWAL = re.compile(r"续证|续期|到期|过期|延续|换证|年审|有效期")
_LICENCE_INTENTS = frozenset({"register_licence", "list_licences", "cancel_licence"})
#: What else is to be done («还要办啥», «接下来要办什么», «下一步»).
_NEXT_ASKED = re.compile(r"(还|接下来|然后|之后|后面|下来)(还)?(要|需要|得)?(办|弄|做)(些)?(啥|什么|哪些)|下一步")
#: A matter done («营业执照办好了», «我刚注册了一家公司», «证已经拿到了»).
_DONE = re.compile(r"办好了|办下来了|拿到了|办完了|已经办了|注册了|注册好了|领到了|批下来了|(弄|搞|整)(好|起|完|定)了|搞定了")
#: The clauses of a message.
_CLAUSES = re.compile(r"[，,。；;！!？?、\s]+")
#: Money held in a card or an account («旧卡里的钱咋办», «账户余额»): no charge.
#: Whether one must go to another office too («税务也要去吗», «还要去税务局不»): a step of the matter, no fee (税 is
#: the office's name here, not money).
_GOES_TO_OFFICE = re.compile(r"(去|跑|到)(一趟|一下)?(税务|银行|派出所|公安|社区|街道|社保|医保|民政|法院)|"
                             r"(税务|银行|派出所|社区|街道|社保局|医保局|民政)(局|所|部门|那边|那里|那儿)?"
                             r"(也|还)?(要|得|需要)?(去|跑)")
_HELD_MONEY = re.compile(r"(卡|账户|账上|账)(里|里面|里头)?的?(钱|余额|资金)|余额")
#: The capital a firm is registered with or starts on: no charge for registering it («要多少注册资金»).
_CAPITAL = re.compile(r"注册资金|注册资本|资本金|启动资金|本钱")
#: «提前» of doing something in advance («提前准备啥», «要提前多久申请», «提前几天预约»), not of a matter's name.
_IN_ADVANCE = re.compile(r"提前(?=准备|多久|多长|几天|几个|多少天|好久|预约|申请|办|去|来|联系|报名|约|弄|交|带|拿|备|说)")
#: Words of how long or when («要等很久吗», «什么时候»): a time question, whatever else it asks.
_TIME_WORDS = re.compile(r"久|几天|多长|时间|时限|几点|时候|几号|哪天|工作日|多少天")
#: Whether a step is needed, and nothing else («要年审不», «还要体检吗», «每年要审核吗»).
_WHETHER_NEEDED = re.compile(r"^(每年|每个?月|以后|今后|还|也|都)*(要|需要|得|用)[\u4e00-\u9fff]{1,5}(不|吗|么|没|嘛)[？?]?$")
#: A question asked for a yes or a no («…不», «…吗»).
_YES_OR_NO = re.compile(r"(不|吗|么|嘛|没|没有)[。？?]?$")
#: Whether it is to be done over again («要重新办不», «需要重新申请吗»).
_ANEW = re.compile(r"重新(办|申请|领|弄|搞|整|做|登记|办理)")
#: Whether something can still be done («还能上不», «现在还可以办吗»).
_STILL_CAN = re.compile(r"(还|仍然?|现在)(能|可以|能不能|可不可以)")
#: What follows for the person if a matter is not done, or late («会罚款不», «影响征信不»).
_CONSEQUENCE = re.compile(r"罚|处罚|影响|后果|征信|信用|黑名单|异常名录|滞纳金")
#: What is written on a certificate changed («营业执照上的法人要换», «户口本上的名字要改»): a 变更, not a new card.
_CONTENT_CHANGES = re.compile(r"(?P<doc>[\u4e00-\u9fff]{1,4}(证|照|本|簿|卡))(上|上面)的?[\u4e00-\u9fff]{1,6}?"
                              r"(要|想|需要|得)?(换|改|变|更改|变更|加|减)")
#: Someone of the family going to an institution («孩子要上幼儿园», «我家娃要读小学»), or the person learning there.
_SOMEONE_ATTENDS = re.compile(r"(孩子|娃|儿子|女儿|小孩|宝宝|老人|[我俺](爸|妈))[^，,。？?]{0,4}([，,][^，,。？?]{0,3})?"
                              r"(上|读|进|去|入)|"  # (also «孩子3岁了，能上幼儿园不»)
                              # (or the person learns: «失业了想学个技能», «想参加个培训»)
                              r"(学|参加|报)(个|点|一门|一下)?(技能|手艺|技术|培训)")
#: Founding an institution said («想开个幼儿园», «举办一所学校»).
_FOUNDS = re.compile(r"开|办个|办一个|办一所|设立|筹设|筹建|举办|创办|成立|申办")
#: Matters of founding an institution (their names say so).
_FOUNDING = re.compile(r"设立|筹设|筹建")
#: A charge for the service itself, said as one («手续费多少», «要收费不»).
_SERVICE_CHARGE = re.compile(r"手续费|工本费|收费|收钱|收不收|办理费")
#: Matters of paying into an insurance or a fund (their names say so).
_PAID_INTO = re.compile(r"参保登记|缴存|补缴|保险费")
#: A wish to pay into an insurance or a fund («我想交医保», «要续交社保»).
_PAYS_IN = re.compile(r"(想|要|准备|打算)(交|缴|买|参保|续交|补交|续缴|补缴)")
#: Readings a question about what is paid into an insurance may be given (the fee, the matter, a refinement, or
#: none: «每个月交好多», in Sichuan's «好多» for «多少», is out of scope alone).
_CONTRIBUTION_READS = frozenset({"ask_fee", "ask_matter", "nlu_fallback", "out_of_scope"})
#: For how long money is received («能领多久», «发几个月»).
_RECEIVED_HOW_LONG = re.compile(r"(领|拿|发|享受|补|给)(得)?(多久|多长时间|几个月|几年|好久|几期)")
#: A deadline asked («什么时候截止», «最晚哪天»).
_DEADLINE = re.compile(r"截止|最晚|最迟|过期(了)?(还)?能")
#: The income or assets one may have, asked («收入多少才能办», «存款不能超过好多»).
_INCOME_ASKED = re.compile(r"(收入|工资|存款|财产|低于|不超过|超过|以下)[^，,。]{0,4}(多少|好多|几)")
#: Money spent, told («花了好多钱», «垫付了几万»).
_SPENT = re.compile(r"(花|用|出|垫|付|垫付|自费|交)了(好多|很多|不少|多少|几[十百千万]|[0-9一二三四五六七八九十两几]+[万千百块元])(块)?钱?")
#: A matter's name that says it pays («失业保险金申领», «高龄津贴发放»).
_PAYS = re.compile(r"金|津贴|补贴|补助|待遇|救助|奖励|抚恤|报销|费支付")
#: Which of several («有啥补贴», «哪些能报»), not whether.
_WHICH = re.compile(rf"{_WHICH_WORDS}|几种")
#: A question no yes or no answers («有啥条件», «咋个弄», «要多少»): it asks what, how, where or how much.
_ASKS_WHAT = re.compile(rf"{_WHICH_WORDS}|怎么|咋|哪|多少|几|谁")
#: A question for money one receives («盲人有啥补贴», «有没有补助»).
_ASKS_PAY = re.compile(r"补贴|补助|津贴|救助|抚恤|领钱|发钱|有钱")
#: Words of a firm: a policy question with one asks for the firm policies («小微企业有啥补贴»).
_FIRM_WORDS = re.compile(r"企业|公司|小微|个体|商户|店|厂|单位|老板|门面|营业|纳税|经营|员工|招工|招聘")
#: Hiring people («招», «雇», «安排…就业»).
_HIRES = re.compile(r"招|雇|聘|录用|安排.{0,4}就业")
#: Something done to the person («我被裁员了», «公司把我辞退了»): they are the one it happened to, not the firm.
_HAPPENED_TO_ME = re.compile(r"^(我|俺|本人)(被|遭|让人)|把我")
#: How to make an appointment («怎么预约», «在哪预约»): no booking of the person's to look up; said and nothing
#: else, about no matter, it asks how to book at the hall.
_HOW_TO_BOOK = re.compile(r"(怎么|咋个?|如何|啷个|在哪儿?|哪里|去哪儿?)(样)?(预约|约)")
_ONLY_HOW_TO_BOOK = re.compile(rf"(请问)?(我)?(想|要)?(?:{_HOW_TO_BOOK.pattern})(一下)?[?？呢啊呀嘛]*")
#: A question whether an appointment is needed («要提前预约吗», «需不需要预约»), not about one's own booking.
_NEEDS_APPOINTMENT = re.compile(r"(要|需要|得|用|必须)(先|提前)?预约|预约(吗|不|么|没)[？?]?$")
#: A request to erase what the assistant keeps of the conversation («删除我的记录», «把聊天记录清掉»).
_ERASE = re.compile(r"(删除|删掉|删了|清除|清空|清掉|抹掉|销毁|不要保留|别保留|不要留)\S{0,6}"
                    r"(记录|聊天|对话|信息|资料|数据|隐私|痕迹)|(记录|聊天记录|对话|信息|资料|数据)\S{0,4}(删除|删掉|删了|清除|清掉)")
#: A word of erasing (every example of ``erase_my_data`` has one): a message read so without one is not a request
#: to erase («公司把我辞退了»).
ERASE_SAID = re.compile(r"删|清除|清空|清掉|抹掉|销毁|注销我的|不想留|不要留|别留|不要保|别保")
#: After the erase question: a typed yes / no.
_ERASE_YES = {"affirm"}
_ERASE_NO = {"deny", "goodbye"}

#: Intents whose message may be a hall question without naming the hall (not a form, a person, a complaint or
#: something out of scope: «帮我约个上门办», «推荐部电影» are not about the hall's hours).
HALL_INTENTS = {"nlu_fallback", "ask_matter", "ask_materials", "ask_location", "ask_time", "ask_fee", "chitchat",
                "affirm", "deny", "greet", "goodbye", "thanks"}
#: A search score at which the message is about a matter.
MATTER_SCORE = 1.05
#: Two sibling matters whose search scores are closer than this are both plausible: ask which (measured on the
#: current NLU: «不动产登记» 0.019, «我想办个体户营业执照» 0.05, «开个小卖部要办啥子证» 0.12); two unrelated ones
#: within twice this are offered as a list.
SIBLING_GAP = 0.03
#: Hall topics that a question naming a matter asks of that matter's places (their hours, their booking).
_HOURS_OF_A_MATTER = HALL_ONLY_TOPICS - {HallTopic.PARKING} | {HallTopic.APPOINTMENT}
#: The hall's things one uses (the self-service area, the car park …) and the times of day a question about their use
#: may name: «晚上能用不» after the self-service area asks when it can be used, not the hall's evening service.
_THINGS_USED = frozenset({HallTopic.SELF_SERVICE, HallTopic.PARKING, HallTopic.FACILITIES, HallTopic.ACCESSIBILITY})
_TIMES = frozenset({HallTopic.HOURS, HallTopic.LUNCH, HallTopic.WEEKEND, HallTopic.HOLIDAY, HallTopic.EXTENDED})
#: A time on the clock («12点半», «8:30», «两点钟», «九点十分»).
_CLOCK = re.compile(r"(?:\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(?:点(?:半|钟|\d{1,2}|[一二三四五十]{1,3}分?)?|[:：]\d{2})")
_USE_IT = re.compile(r"(能|可以|可不可以|能不能)用|用得[了到成]")
#: Whether one is served then («星期六能补不», «周日开门不»; not «周末去哪玩»).
_SERVED = re.compile(r"能|可以|开门|上班|办|营业|有人")


def _time_told(text: str) -> bool:
    """Whether a time of day in a message is when the person does something, not a question of when one is
    served: the message asks nothing («晚上要赶工浇混凝土»), or asks which procedures to get («晚上要施工，要办啥
    手续»)."""
    return not QUESTION.search(text) or bool(_WHICH_TO_GET.search(text))


#: Readings of a hearing that the kiosk's sure matter answers (not a person, a form, a hall or a complaint).
HEARD_INTENTS = {*ASK_INTENTS, "ask_policy", "nlu_fallback"}
_REGISTER = re.compile(r"登记|联系我|回电话|打电话给我|专员|记下来")
COMPLAINT = re.compile(r"投诉|举报|差评|态度(很|太|好)?(差|恶劣|不好)|服务(也|真|简直)?(太|很|好)?差|差劲|没人接|不作为|乱收费|吃拿卡要|刁难|推诿|效率(太|很)?低|"
                        r"不满意|玩手机|爱理不理|不理人|甩脸色|给脸色|"
                        r"(太|好|很)慢了|慢得很|等了(好久|半天|一上午|一下午|[\d一二两三四五六七八九十几]+个?多?(钟头|小时))|"
                        r"跑了[\d一二两三四五六七八九十几]+趟|白跑|"
                        r"(让|叫|喊)我(明天|下次|改天|过几天|下周|下午|回去)?再来(一趟|一次)?[。！!，,~～]*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: Words that say what is asked, not which option or situation.
_GENERIC = set("办理 需要 材料 准备 哪些 什么 多少 哪里 时间 地方 申请 手续 怎么 如何 可以 一下 那个 这个 就是 "
               "我要 我想 要办 登记 事项 业务 证明 资料 费用".split())


#: Who a matter is for, said in its names («生孩子医疗费报销», «娃娃上户口»): a word shared by many matters of
#: one person, which alone calls none of them.
_WHO_WORDS = frozenset("孩子 小孩 娃娃 儿子 女儿 老人 父母 爸爸 妈妈 老公 老婆 丈夫 妻子 本人 家属 亲属".split())
#: Words of a matter's name for someone other than the person asking: a matter for them is not the person's own.
_OTHERS = ("子女", "父母", "配偶", "家属", "亲属", "遗属", "老人")


def _for_someone_unsaid(m: Any, said: str) -> bool:
    """Whether ``m``'s name says it is for someone other than the person (:data:`_OTHERS`) whom ``said`` (in
    everyday words too: 孩子 is 子女) does not name: «我是来成都打工的» after 居住证办理 says who the person is, a
    进城务工人员, not that a child of theirs starts school (进城务工人员随迁子女…入学). (After a matter of the same
    department — 入学办理 — the child is the conversation's already.)"""
    words = _in_names_words(said)
    people = [w for w in (*_OTHERS, "夫妻") if w in m.name]  # («投靠落户（夫妻投靠、父母投靠子女…）»: 嫁 says 夫妻)
    return any(w in _OTHERS for w in people) and not any(w in words for w in people)


#: Who asks, for a firm or for themselves: a word many unrelated matters' names say («机关事业单位…», «企业…»).
_REQUESTER_WORDS = frozenset("单位 企业 公司 个人 职工 员工 机关".split())
#: The people who hold a post in whatever holds a licence or a registration: a change of them is a change of that
#: thing, whatever else names them («法人换了» after 公共场所卫生许可新办审批 is its 变更, not 公司变更登记's).
_POST_WORDS = frozenset("法人 代表 负责 老板 股东 会长 理事 园长 校长 院长 站长".split())
#: … and the people a matter is for by what they cannot do («盲人保健按摩培训申请»): «我是盲人» tells who the person
#: is, it asks for no training.
_FOR_WHOM_WORDS = _WHO_WORDS | {"盲人", "聋人", "聋哑", "哑人"}
#: A relative's age, told («我妈70了», «我家老汉儿今年都七十五了»).
_KIN_AGE = re.compile(rf"^(我|俺|我家|我们家|我屋头)?的?(老)?[{KIN}]{{1,2}}儿?(今年|都|已经|刚|满|快|有)*"
                      r"[\d一二三四五六七八九十几]+(多|来)?岁?(多|了|啦)?[。!！]?$")


def _bigrams(text: str) -> set[str]:
    cjk = "".join(_CJK.findall(text))
    return {cjk[i:i + 2] for i in range(len(cjk) - 1)} - _GENERIC


def _strong(parse: dict[str, Any]) -> list[str]:
    """Codes the message names on its own (a strong search score)."""
    out = []
    for hit in parse.get("matters") or []:
        try:
            if float(hit.get("score") or 0) >= STRONG_SCORE:
                out.append(str(hit.get("code")))
        except (TypeError, ValueError):
            continue
    return out


def name_stem(name: str) -> str:
    """``name`` without what its brackets add («不动产转移登记（继承、受遗赠）» → 不动产转移登记)."""
    return re.split(r"[（(]", name, maxsplit=1)[0].strip()


#: The card or certificate a name begins with («残疾人证新办» → 残疾人证, «社会保障卡挂失» → 社会保障卡).
_OBJECT = re.compile(r"^[《“]?([\u4e00-\u9fff]{3,11}?[证卡])(?![明书件照])")


def _object(name: str) -> str:
    m = _OBJECT.match(name)
    return m.group(1) if m else ""


#: The family index of the last KB seen: ``(kb, main item → matters, name stem → matters, card → matters, name without
#: its kind → matters)``, built once per KB (a turn asks for families several times; scanning the whole catalogue each
#: time is wasted work).
_FAMILY_INDEX: list[Any] = [None, {}, {}, {}, {}]


def _family_index(kb: Any) -> tuple[dict[str, list[Any]], ...]:
    if _FAMILY_INDEX[0] is not kb:
        by_item: dict[str, list[Any]] = {}
        by_stem: dict[str, list[Any]] = {}
        by_object: dict[str, list[Any]] = {}
        by_plain: dict[str, list[Any]] = {}
        for x in kb.matters:
            item = (getattr(x, "main_item", "") or "").strip()
            if item not in _NO_FAMILY:
                by_item.setdefault(item, []).append(x)
            stem = name_stem(x.name)
            if len(stem) >= 4:
                by_stem.setdefault(stem, []).append(x)
            obj = _object(x.name)
            if obj:
                by_object.setdefault(obj, []).append(x)
            plain = _kindless(x.name)
            if len(plain) >= 4:
                by_plain.setdefault(plain, []).append(x)
        _FAMILY_INDEX[:] = [kb, by_item, by_stem, by_object, by_plain]
    return _FAMILY_INDEX[1], _FAMILY_INDEX[2], _FAMILY_INDEX[3], _FAMILY_INDEX[4]


@lru_cache(maxsize=1)
def _kind_name_pattern() -> re.Pattern[str]:
    """Any word a name says its kind of request by (:func:`_kind_name_words`), the longest first."""
    return re.compile("|".join(map(re.escape, sorted(_kind_name_words(), key=len, reverse=True))))


def _kindless(name: str) -> str:
    """A name before its bracket without the words of its kind of request («娱乐场所注销审批（含中外合资）» and
    «娱乐场所延续审批（含中外合资）»: 娱乐场所审批), or ``""`` when it says no such word."""
    stem = name_stem(name)
    plain = _kind_name_pattern().sub("", stem)
    return plain if plain != stem else ""


def kin(kb: Any, m: Any) -> dict[str, Any]:
    """Code → matter of ``m``'s family (:func:`family`, ``m`` first) and of the related matters its card offers
    («还需要办理»): the matters a detail about the person's situation may move the conversation to."""
    out = {x.code: x for x in family(kb, m)}
    for code in getattr(m, "related", None) or []:
        r = kb.get(code)
        if r is not None:
            out.setdefault(r.code, r)
    return out


def family(kb: Any, m: Any) -> list[Any]:
    """The matters of ``m``'s family, ``m`` first: the same main item, the same name before its bracket
    («住房公积金提取（离职）», «住房公积金提取（购房）» …), the same card or certificate («残疾人证新办»,
    «残疾人证挂失补办»), or the same name but for its kind of request («娱乐场所延续审批», «娱乐场所注销审批»), in
    catalogue order."""
    by_item, by_stem, by_object, by_plain = _family_index(kb)
    item = (getattr(m, "main_item", "") or "").strip()
    members = {x.code for x in by_item.get(item, [])} | {x.code for x in by_stem.get(name_stem(m.name), [])} | \
        {x.code for x in by_object.get(_object(m.name), [])} | {x.code for x in by_plain.get(_kindless(m.name), [])}
    return [m] + [x for x in kb.matters if x.code in members and x.code != m.code]


def _with_matter(parse: dict[str, Any], intent: str, code: str, name: str, reason: str) -> dict[str, Any]:
    out = dict(parse)
    out["intent"] = {"name": intent, "confidence": 1.0}
    out["intent_ranking"] = [out["intent"]]
    out["entities"] = [{"entity": "matter", "value": code, "start": 0, "end": len(parse.get("text") or ""),
                        "confidence_entity": 1.0, "extractor": reason}]
    out["matters"] = [{"code": code, "name": name, "score": 2.0}] + \
        [h for h in parse.get("matters") or [] if h.get("code") != code]
    out["ambiguous"] = False
    out["out_of_scope"] = False
    out["interpreted"] = reason
    return out


@lru_cache(maxsize=1)
def _cues() -> VariantCues:
    """The variant cues of ``nlu/data/variants.yml`` (read once)."""
    return VariantCues()


@lru_cache(maxsize=1)
def _kind_name_words() -> frozenset[str]:
    """The words a matter's name says its kind of request by (补领, 挂失, 变更 … : the ``name`` cues)."""
    return frozenset(w for words in _cues().name_cues.values() for w in words)


@lru_cache(maxsize=1)
def _kind_words() -> frozenset[str]:
    """Bigrams of the words that say which kind of request (补办, 换领, 注销 … of ``nlu/data/variants.yml``)."""
    return frozenset(b for w in _cues().words for b in _bigrams(w))


#: What a name says a matter is not («非公司企业法人…», «民办非企业单位»): no word of it calls the matter.
_NOT_A = re.compile(r"非(?!法|常)[\u4e00-\u9fff]{2}")


def _named_words(m: Any) -> set[str]:
    return _bigrams(_NOT_A.sub("", " ".join([m.name, *m.aliases])))


def _kinds(m: Any) -> frozenset[str]:
    """The kinds of request a matter is of, by its name and aliases (``不动产抵押登记`` → ``{"mortgage"}``)."""
    return _cues().of_name(" ".join([m.name, *m.aliases]))


def pays_unasked(text: str, m: Any, other: Any) -> bool:
    """Whether ``other`` pays money (a subsidy, an allowance …) where ``m`` does not, and ``text`` asks nothing of
    money: no sibling to ask about («失业了想学个技能»: 就业技能培训开班, not its 补贴申请)."""
    return bool(_PAYS.search(other.name)) and not _PAYS.search(m.name) \
        and not (_PAYS.search(text) or _POLICY_WORDS.search(text) or FEE_WORDS.search(text) or _HOW_MUCH.search(text))


#: The case a matter's name says it arises in («领取失业保险金期间…»: while receiving 失业保险金).
_DURING = re.compile(r"^(?P<case>[\u4e00-\u9fff]{2,12}?)期间")


#: A shortfall a matter's name says it is for («缴费不满15年»: fewer years than that).
_SHORT_OF = re.compile(r"(?:不满|不足|未满)(?P<n>\d+)年")
#: A shortfall said: «交了不到15年», «没交够», «才交了十年», «差两年».
_FALLS_SHORT = re.compile(r"不满|不到|不够|没满|没够|不足|未满|差[一二两三四五六七八九几\d]{1,2}年|(?:才|只)(?:交|缴|买)了")
#: A number of years told («二十多年», «12年», «十几年», «几年»).
_YEARS = re.compile(r"(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})?(?P<more>多|几)?年")


def _short_of_said(text: str, years: int) -> bool:
    """Whether ``text`` says fewer than ``years`` years, or may: a shortfall said («不到», «才交了»), or a number of
    years that may be fewer («12年», «十几年», «几年»); not when every number said is that many or more («二十多年»)."""
    if _FALLS_SHORT.search(text):
        return True
    told = [m for m in _YEARS.finditer(text) if m.group("n") or m.group("more") == "几"]
    if not told:
        return False
    for m in told:
        if not m.group("n"):
            return True  # («交了几年»: maybe)
        try:
            n = cn_number(m.group("n"))
        except ValueError:
            return True
        if n < years:  # («十几年»: from ten)
            return True
    return False


def case_unsaid(text: str, m: Any) -> bool:
    """Whether ``m``'s name says the case it arises in and ``text`` says no word of it: «领取失业保险金期间丧葬补助金
    和抚恤金申领» is not what «我爸走了 他一直在领退休金 家属能领丧葬费和抚恤金不» asks about, nor is «达到法定退休年龄缴费
    不满15年社保权益申请» what «交了二十多年社保，咋个开始领退休工资» asks (a shortfall of years, unsaid or contradicted)."""
    case = _DURING.match(m.name)
    if case is not None:
        return not (_bigrams(case.group("case")) - {"领取"}) & _bigrams(_in_names_words(text))
    short = _SHORT_OF.search(m.name)
    return short is not None and not _short_of_said(text, int(short.group("n")))


def within_unasked(text: str, m: Any, other: Any) -> bool:
    """Whether ``other`` is a case arising during ``m`` — its name says «…``m``期间…» («领取失业保险金期间丧葬补助金和
    抚恤金申领» during 失业保险金申领) — and ``text`` says none of ``other``'s own words: no sibling to ask about
    («失业金能领几个月»)."""
    core = _ASKED_FOR.sub("", m.name.split("（")[0])  # («失业保险金申领»: 失业保险金)
    return len(core) >= 3 and f"{core}期间" in other.name and not says_words_of(text, other, m)


def sibling_of_unasked_kind(text: str, found: Any, current: Any, kb: Any) -> bool:
    """Whether ``found`` is a sibling of ``current`` (its family) of a kind of request done to what one already has
    (:data:`_AFTER_GETTING`) that ``current`` is not of and ``text`` does not say: «还差个卫生的证» after 公共场所卫生
    许可新办 still asks for getting it, not for the 延续 its words find just ahead."""
    extra = _kinds(found) & _AFTER_GETTING - _kinds(current)
    return found.code != current.code and bool(extra) and not _cues().of_query(text) & extra \
        and any(x.code == found.code for x in family(kb, current))


def tells_apart(text: str, m: Any, siblings: list[Any]) -> bool:
    """Whether ``text`` says why ``m`` rather than its ``siblings``: a word of ``m``'s names that not all of them
    share, or a kind of request ``m`` is of («丢了» → 挂失). «公积金提取» says only the family."""
    if _cues().of_query(text) & _kinds(m):
        return True
    common = set.intersection(*(_named_words(x) for x in siblings)) if siblings else set()
    return bool(_bigrams(_in_names_words(text, _EVERYDAY_ACTS)) & (_named_words(m) - common))


def family_named(text: str, hits: list[dict[str, Any]], kb: Any) -> list[Any]:
    """The members of a family (three or more of one main item) that the question names by that item's name and
    by nothing that tells one of them apart («不动产登记», «不动产登记咋个办»: 首次、转移、抵押… — not the best match
    outside it, 不动产登记资料查询, which the question says nothing of but the item's name): at most three, the best
    found first; else ``[]``."""
    by_item = _family_index(kb)[0]
    scores = {str(h.get("code")): float(h.get("score") or 0) for h in hits}
    found = [m for m in (kb.get(str(h.get("code"))) for h in hits[:4]) if m is not None]
    for x in found:
        item = (getattr(x, "main_item", "") or "").strip()
        members = by_item.get(item, []) if item not in _NO_FAMILY and item in text else []
        rest = text.replace(item, " ")  # (the item's own name tells none of them apart, whoever is called by it)
        if len(members) < 3 or any(tells_apart(rest, m, members) for m in members) \
                or found[0] not in members and tells_apart(rest, found[0], [found[0], x]):
            continue
        return sorted(members, key=lambda m: -scores.get(m.code, -9.0))[:3]
    return []


def says_words_of(text: str, other: Any, current: Any) -> bool:
    """Whether ``text`` says a word of ``other``'s names that ``current``'s names do not have («不动产登记要带啥»
    after 上门办服务预约). «提前» said of doing something in advance («提前准备啥», «要提前多久») names no 提前退休."""
    return bool(_bigrams(_IN_ADVANCE.sub(" ", text)) & (_named_words(other) - _named_words(current)))


#: The city and district every matter here is of: a name says no subject by them («想转到成都来读» names no 机动车转入,
#: called «外地车转入成都»).
_HOME_PLACES = frozenset({"成都", "四川", "金牛"})


def _says_subject_of(text: str, other: Any, current: Any) -> bool:
    """Whether ``text`` says a word of ``other``'s names that ``current``'s do not have and that is no word of a
    kind of request nor the city's name: what it is about, not what is asked of it nor where («驾照» of 机动车驾驶证
    期满换证, not «出生» of 刚出生)."""
    return bool(_bigrams(text) & (_named_words(other) - _named_words(current)) - _kind_words() - _HOME_PLACES)


def says_subject_of(text: str, other: Any, current: Any) -> bool:
    """:func:`_says_subject_of`, with the names' words for ``text``'s everyday words («生孩子»: 生育) said too."""
    return _says_subject_of(_in_names_words(text), other, current)


#: The kinds of request done to what one already has (a reissue, a renewal, a change, a cancellation): a question
#: that says none of them is about getting the thing.
_AFTER_GETTING = frozenset({"reissue", "renew", "change", "cancel"})


def after_getting(m: Any) -> bool:
    """Whether ``m`` is done to what one already has (:data:`_AFTER_GETTING`): no next step of getting something."""
    return bool(_kinds(m) & _AFTER_GETTING)


#: Wanting to get one («想给他办个残疾证», «要申请一张», «帮我妈领个»).
_GET_ONE = re.compile(r"(?:想|要|准备|打算|帮|给)[^，。,？?！!]{0,4}?(?:办|申请|申领|领)(?:个|一个|张|一张|一本)")


def to_get_one(text: str, m: Any, other: Any) -> bool:
    """Whether ``text`` says it wants to get one, ``m`` is the getting of it, and ``other`` is done to one already
    had (or moves one: 迁移) by a kind of request ``text`` does not say: no sibling to ask about («我娃儿耳朵听不到
    想给他办个残疾证»: 残疾人证新办, not 挂失补办 or 迁移)."""
    kinds = _kinds(other)
    return bool(_GET_ONE.search(text)) and "new" in _kinds(m) and bool(kinds & (_AFTER_GETTING | {"transfer"})) \
        and not _cues().of_query(text) & kinds


#: Asking what one must get, or whether one must have it («要办啥子证», «兽药要许可证不», «听说要有养蜂证»).
_GETS_WHAT = re.compile(r"办(啥|什么|哪些)子?(证|手续|许可)|(要|需要|得)(有|办|弄|领)?(个|张|一个|一张)?"
                        r"[\u4e00-\u9fff]{0,4}(证|许可证?|执照)(不|吗|么|嘛|没)?[？?]?$|听说(要|得)(有|办)")
#: A plan to get a thing, not to do something («我想办残疾证», «要申请个…»).
_PLANS_TO_GET = re.compile(r"(想|要|准备|打算)(办|申请|申领|领|弄|补|换)")


def kind_unsaid(text: str, m: Any) -> bool:
    """Whether ``m`` is done to what one already has and ``text``, asking whether something must be had besides, or
    what one must get or have, or stating a plan to do something, says none of its kinds of request: «还要单独办食品
    许可吗» asks nothing of 食品经营许可延续, «想顺带卖点农药，要办啥子证» nothing of 农药经营许可证延续, «想在网上公开
    募捐» nothing of its certificate's 补发 (a bare «社保卡», or «我想办残疾证», a plan to get the thing, may be about one
    already had)."""
    plans = bool(PLAN.match(text)) and not _PLANS_TO_GET.search(text)
    return after_getting(m) and bool(_SEPARATE.search(text) or _whether_needed(text) or _GETS_WHAT.search(text)
                                     or plans) \
        and not _cues().of_query(text) & _kinds(m)


#: Everyday words for what is done (patterns) and the catalogue's word for the same (复业 is «又要开张»): these tell
#: siblings apart on their own too («残疾证要从成华区迁到金牛区»: 残疾人证迁移, not 新办 or 挂失补办).
_EVERYDAY_ACTS = {"(?:重新|又要?|再)(?:开张|开业|营业|开门)|恢复营业": "复业", "迁(?:到|来|入|过来|回)": "迁移"}
#: … and every everyday word (a name says 工作, people say 上班), used to tell options apart by their names («我在重庆
#: 上班，医保异地备案咋办»: 常驻异地工作人员备案).
_EVERYDAY = {"上班": "工作", "打工": "务工", "看病": "就医", "买房": "购房", "租房子": "租房", "生孩子": "生育",
             "生娃": "生育", "娃娃": "子女", "孩子": "子女", "小孩": "子女", "房子": "房屋",
             "嫁": "夫妻", "娶": "夫妻", "老公": "夫妻", "老婆": "夫妻", "丈夫": "夫妻", "妻子": "夫妻",
             "普票": "普通", "专票": "专用", "辞职": "离职", "辞工": "离职", **_EVERYDAY_ACTS}


def _in_names_words(text: str, everyday: dict[str, str] = _EVERYDAY) -> str:
    """``text`` with the names' words for its everyday words (:data:`_EVERYDAY`, or only ``everyday``) added."""
    return " ".join([text, *(official for said, official in everyday.items() if re.search(said, text))])


def said_apart(text: str, options: list[Any]) -> Any:
    """The one of (two or more) ``options`` whose own words ``text`` says more of than of any other option's, else
    ``None`` (:func:`_by_words` on the names): «结婚要预约不» says 结婚 and 预约 of 结婚登记预约, only 预约 of 离婚登记
    预约; «我想办个电子社保卡» says 电子 of 电子社会保障卡签发 only. «不动产登记要办哪些» says no option's own word, nor
    «户口» (the start of every name, whatever else a name says it again): they ask which. An option of a kind of
    request done to what one has (补领, 注销 …: :data:`_AFTER_GETTING`) the text does not say is not chosen over one
    of no kind called by the same words: «想办个结婚证» says 结婚证 of 补领结婚证 (and of 婚姻登记, called 办结婚证), but
    nothing says it was lost. An option found after another whose aliases say all the words it was picked by is not
    chosen over it, unless the text says its kind of request. Everyday words count as the names' words they stand
    for (:data:`_EVERYDAY`); a word of procedure (审批, 登记 …) only when it tells them apart."""
    said = _bigrams(_in_names_words(text))
    pick = _by_words(said, options, aliases=False) if len(options) >= 2 else None
    if pick is None and len(options) >= 2:
        # (a word of procedure said of some names, as much as another word of one name: «消防要审批不» after the
        # options 消防安全检查, 临时性建筑物…审批 and 户外广告的审批 is about 消防; the procedure's word names none)
        said = _bigrams(_PROCEDURE.sub(" ", _in_names_words(text)))
        pick = _by_words(said, options, aliases=False)
    if pick is None and len(options) >= 2 and _cues().of_query(text):
        # (what it is about, said in an alias of one only, before the kind of request said of others' names: «狗证要
        # 注销不» is of 犬类准养证核发, called 狗证办理, not 残疾人证注销 or 户口注销)
        counts = _own_word_counts(said - _kind_words(), options)
        pick = options[counts.index(max(counts))] if max(counts) > 0 and counts.count(0) == len(options) - 1 else None
    asked, words = _cues().of_query(text), _bigrams(text)
    by_whom = said & _bigrams(pick.name) if pick is not None else set()
    if pick is not options[0] and by_whom and by_whom <= _REQUESTER_WORDS \
            and not _bigrams(pick.name) & _bigrams(options[0].name):
        return None  # («单位要给职工开个食堂»: who asks, 单位, said of 机关事业单位…申报's name, tells no unrelated one)
    if pick is not None and pick is not options[0] and not asked & _kinds(pick):
        apart = said & _bigrams(pick.name)
        if any(apart <= _bigrams(" ".join(o.aliases)) for o in options[:options.index(pick)]):
            return None  # («孩子医保»: 医保 of 医保电子凭证申领's name, and of 城乡居民参保登记's aliases, found first)
    if pick is not None and _kinds(pick) & _AFTER_GETTING - asked and any(
            not _kinds(o) & _AFTER_GETTING - asked and words & _named_words(pick) & _named_words(o) for o in options):
        return None
    return pick


def other_kinds(text: str, m: Any, hits: list[dict[str, Any]], kb: Any) -> list[Any]:
    """``[m, …]`` to ask which, else ``[]``: ``m`` is of a kind of request (补领, 换发, 注销 …) that a question asking
    no kind does not say, and one of its two next best is called by the same words of the question, is not of that
    kind, and fits the question well on its own (:data:`MATTER_SCORE`). «办营业执照» finds 证照遗失补领、换发申请 first
    and 个体工商户设立登记 next: nothing says it is lost; «营业执照丢了» says so and is answered."""
    kinds = _kinds(m) - {"new"}
    if not kinds or "new" in _kinds(m) or _cues().of_query(text):
        return []  # (one that is got new too answers it: «身份证在哪办», 居民身份证办理（包括临时）, 首次申领 to 补领)
    words = _bigrams(text) & _named_words(m)
    out = [m]
    for h in hits[1:3]:
        other = kb.get(str(h.get("code")))
        if other is None or other.code == m.code or float(h.get("score") or 0) < MATTER_SCORE:
            continue
        if not _kinds(other) & kinds and words & _named_words(other):
            out.append(other)
    return out if len(out) > 1 else []


def unsaid_kinds_last(text: str, options: list[Any]) -> list[Any]:
    """``options`` with those of a kind of request (补领, 注销 …) that ``text`` does not say after the others, each
    group in its order: a question that says no kind is first of all about getting the thing («营业执照咋办»:
    个体工商户设立登记, then 证照遗失补领、换发申请 and 个体工商户注销登记)."""
    asked = _cues().of_query(text)
    return sorted(options, key=lambda m: bool(_kinds(m) - {"new"} - asked))


def the_thing_got(text: str, options: list[Any]) -> Any:
    """The one of ``options`` that gets the card or certificate a question names and nothing more («那身份证呢»:
    居民身份证办理, the name of the thing it is about; not 临时身份证明, whose 身份证明 is another word, nor 居民身份证
    挂失申报, a kind of request the question does not say); else ``None``."""
    if _cues().of_query(text):
        return None
    said = "".join(_CJK.findall(what_about(text) or strip_frame(text)))
    ones = [m for m in options if len(said) >= 2 and said in _object(m.name)
            and not _cues().of_name(m.name) & _AFTER_GETTING]
    return ones[0] if len(ones) == 1 else None


#: Words that only ask for a matter, before or after what it is called («低保申请», «申请低保»).
_ASKED_FOR = re.compile(r"^(申请|办理|申领)|(申请|办理|申领)$")


def _called_so(said: str, m: Any) -> bool:
    """Whether ``m`` is called ``said`` itself: a name or alias that is ``said``, alone or with a word that only asks
    for it («低保»: 最低生活保障, also called 低保申请; not 医疗救助, called 低保户医疗救助)."""
    return bool(said) and any(_ASKED_FOR.sub("", t) == said for t in [m.name, *m.aliases])


def only_shared_words(text: str, m: Any, hits: list[dict[str, Any]], kb: Any) -> list[Any]:
    """``[m, …]`` to ask which, else ``[]``: the question says nothing but words that ``m`` and another match that
    fits it well on its own (:data:`MATTER_SCORE`) are both called by — it names a field, not a matter («公积金»:
    贷款, 缴存 or 提取; «医保», «那医保呢») — unless it says what ``m`` alone is called (:func:`_called_so`).
    Offered: the three best called by all its words."""
    said = what_about(text) or strip_frame(text)
    words = _bigrams(said)
    if not words or not words <= _named_words(m):
        return []
    others = [(kb.get(str(h.get("code"))), float(h.get("score") or 0)) for h in hits[1:3]]
    others = [(x, score) for x, score in others if x is not None and x.code != m.code and words <= _named_words(x)]
    if not any(score >= MATTER_SCORE for _, score in others):
        return []
    if _called_so(said, m) and not any(_called_so(said, x) for x, _ in others):
        return []
    return [m] + [x for x, score in others if score >= LOOK_ALIKE_SCORE]


def look_alikes(text: str, m: Any, hits: list[dict[str, Any]], kb: Any) -> list[str]:
    """Codes of the other matters a question found (of its three next best) that it names by the same words as
    ``m`` and by nothing that tells ``m`` apart from them («优待证咋办»: 申领《四川省老年人优待证》 beside 退役军人和其他
    优抚对象优待证申领): a later detail of the person's situation may be about one of them."""
    words = _bigrams(text)
    out = []
    for h in hits[1:4]:
        other = kb.get(str(h.get("code")))
        if other is None or other.code == m.code or float(h.get("score") or 0) < LOOK_ALIKE_SCORE:
            continue
        if words & _named_words(m) & _named_words(other) and not tells_apart(text, m, [other]):
            out.append(other.code)
    return out


def _names_other(parse: dict[str, Any], codes: set[str], kb: Any = None, by: str = "meaning",
                 offered: bool = False) -> bool:
    """Whether the message is about a matter outside ``codes`` (its best match is outside and clearly better).

    With ``kb``, a message whose words shared with that matter's names are only words the matters of ``codes``
    are called by too, or words of a kind of request («补办», «换领那个» after 残疾人证新办), names no other matter:
    it says which of ours. A message that shares no word with it at all (matched by meaning) still does, unless
    ``by`` is ``"words"`` (only a word of its names counts) or ``"name"`` (only a whole name or alias)."""
    hits = parse.get("matters") or []
    if parse.get("ambiguous") and any(h.get("code") in codes for h in hits[:2]):
        return False  # its best two are within the calibrated ambiguity margin, one of them ours: nothing is clear
    inside = max((float(h.get("score") or 0) for h in hits if h.get("code") in codes), default=0.0)
    outside = [h for h in hits if h.get("code") not in codes]
    if not (outside and float(outside[0].get("score") or 0) >= MATTER_SCORE
            and float(outside[0].get("score") or 0) > inside + 0.02):
        return False
    other = kb.get(str(outside[0].get("code"))) if kb is not None else None
    if other is None:
        return True
    text = str(parse.get("text") or "")
    # a word ours are called by too says ours, unless a question finds the other — of no family of ours — strongly
    # and none of ours even as a look-alike («孤儿补助咋领» after 事实无人抚养儿童…, whose alias 事实孤儿补贴 says 孤儿:
    # 孤儿救助…, 1.41 to −0.54; a sibling, as 中国内地公民婚姻登记 for «结婚登记要带啥» after 涉外 options, is ours; a
    # statement is a detail: «贷款要用» after 开具个人所得税纳税记录 says what the record is for, it asks for no loan;
    # and only by a word of a subject: «要预约不» after 不动产转移登记（继承） finds 结婚登记预约 by 预约 alone)
    # (when ``codes`` are options offered, a word one of them has in its very name is no word of the other's: «有补贴
    # 不» after the options with 就业见习补贴申领 finds 创业补贴申请 strongly by 补贴)
    ours = [m for m in (kb.get(c) for c in codes) if m is not None]
    their = _bigrams(text) & _named_words(other) - _kind_words() \
        - (set().union(*(_bigrams(m.name) for m in ours)) if offered else set())
    apart = bool(QUESTION.search(text)) and float(outside[0].get("score") or 0) >= STRONG_SCORE \
        and inside < LOOK_ALIKE_SCORE and bool(their) and \
        not any(other.code in {x.code for x in family(kb, m)} for m in ours)
    return _calls(text, other, by) and (apart or not _says_ours(text, other, codes, kb))


def _calls(text: str, m: Any, by: str) -> bool:
    """Whether ``text`` may bring up matter ``m``: by meaning (always), by a word of its names (``"words"``), or
    never (``"self"``: a message saying who the person is, «我是职工医保», names the category they are of, not a
    matter they ask for)."""
    if by == "words":
        return bool(_bigrams(text) & _named_words(m))
    return by != "self"


def called_by_name(text: str, m: Any, shortest: int = 2) -> bool:
    """Whether ``text`` says one of ``m``'s names or aliases whole (of at least ``shortest`` characters)."""
    return any(len(t) >= shortest and t in text for t in [m.name, *m.aliases])


#: The shortest name said with a «的» put in that still names it («亲属关系的证明»).
_DE_PUT_IN_FROM = 4


def says_term(text: str, term: str) -> bool:
    """Whether ``text`` says ``term`` whole, or — a term of :data:`_DE_PUT_IN_FROM` characters or more — with a «的»
    put in («亲属关系的证明» says 亲属关系证明)."""
    return term in text or len(term) >= _DE_PUT_IN_FROM and term in text.replace("的", "")


def _money_received(text: str) -> bool:
    """Whether a message asks how to receive money or how much (:data:`_RECEIVED_HOW`) and names no cost, or how
    to claim costs back (:data:`_CLAIMED_HOW`, whatever cost it names)."""
    return bool(_RECEIVED_HOW.search(text)) and not FEE_WORDS.search(text) or bool(_CLAIMED_HOW.search(text))


#: The person finds the matter too hard to do alone («太复杂了», «看不懂», «搞不来»): a hand is wanted.
_TOO_HARD = re.compile(r"(太|好|这么|那么|有点|特别|真)(复杂|麻烦|难搞|难办|繁琐)|搞不懂|看不懂|弄不懂|整不懂|搞不来|弄不来|整不来|"
                       r"不会填|填不来|头都大了|晕了")

#: Something wanted, said to be free («免费的律师», «免费体检»), not whether a matter is free («免费吗», «免费办理不»).
_FREE_ONE = re.compile(r"免费的?(?![吗嘛么呢不没办理领申做])(?=[\u4e00-\u9fff])")


def _no_fee_asked(parse: dict[str, Any], state: DialogueState, kb: Any) -> str | None:
    """Why a message the classifier read as a fee question asks no fee (the reason, for ``interpreted``), else
    ``None``: how to receive money or how much («丧葬费怎么领», «能贷多少», «额度多少», «这个钱能报不»; any «多少»
    after a matter that pays — «一个月多少» after 护理补贴 — unless a cost is said as one); a topic with no cost asked
    («丧葬费»: 费); the income one may have («收入多少才能办»: who qualifies); money spent, told («我住院花了好多钱»);
    a fee word only inside the name said («住院费用报销»); the capital a firm is registered with («要多少注册资金»);
    money held in a card or an account («旧卡里的钱咋办»); whether one must go to another office too («税务也要去
    吗»); whether there is a benefit («有没有残疾人补贴»); something
    wanted said to be free, asking nothing («我想找个免费的律师»)."""
    text = str(parse.get("text") or "")
    if _money_received(text) or _PAYS.search(state.matter_name or "") and _HOW_MUCH.search(text) \
            and not _COSTS.search(text) and not state.form:
        return "receives_not_fee"
    if not (QUESTION.search(text) or FEE_WORDS.search(text) or _COSTS.search(text)):
        return "no_fee_asked"
    if _EXISTS.search(text) and _ASKS_PAY.search(text) and not FEE_WORDS.search(text) and not _COSTS.search(text):
        return "benefit_not_fee"  # whether there is a benefit («有没有残疾人补贴»), not what it costs
    if _INCOME_ASKED.search(text) and not _COSTS.search(text):
        return "income_not_fee"
    if _CAPITAL.search(text) and not _COSTS.search(_CAPITAL.sub("", text)):
        return "capital_not_fee"
    if _HELD_MONEY.search(text):
        return "held_not_fee"
    if _GOES_TO_OFFICE.search(text) and not FEE_WORDS.search(text) and not _COSTS.search(text):
        return "office_not_fee"
    if _SPENT.search(text) and not _COSTS.search(_SPENT.sub("", text)):
        return "spent_not_fee"
    if FEE_WORDS.search(text) and not FEE_WORDS.search(_without_names(text, _top(parse, kb)[0])):
        return "fee_in_name"
    rest = _FREE_ONE.sub("", text)
    if rest != text and not QUESTION.search(text) and not FEE_WORDS.search(rest) and not _COSTS.search(rest):
        return "wants_free"  # «我想找个免费的律师»: what is wanted, said to be free — no cost asked
    return None


#: Whether there is something, asked («有没有无障碍通道», «有停车场不»).
_EXISTS = re.compile(r"有没有|有没得|^有(?=.{1,8}(不|吗|没)[？?]?$)")
#: Whether something is to be brought or needed («取号要身份证不», «要带户口本吗»): what it names is the thing.
_NEEDED_THING = re.compile(r"(要|需要|得|带|拿|用)(带|拿|用)?(?P<thing>[\u4e00-\u9fff]{2,6}?)(不|吗|么|没)[？?]?$")


def _brought(text: str, matter: Any) -> bool:
    """Whether a question asks whether a thing the matter's names name is to be brought («取号要身份证不»: the card,
    not 身份证's matter)."""
    m = _NEEDED_THING.search(text)
    return m is not None and bool(_bigrams(m.group("thing")) & _named_words(matter))


def _done_then_asked(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """A message telling one matter done and asking about another («出生证明办好了，上户口要带啥»): the question
    asked about the matter its question part names clearly alone (出生登记's materials), not the matter done, which the
    whole message finds first or second, or a kin of it («结婚证领到了，我老婆的户口迁过来要带啥»: 婚姻登记, beside
    投靠落户); ``None`` when the message is not so, asks what follows (:data:`_NEXT_ASKED`) or its question part
    finds the matter done."""
    text = str(parse.get("text") or "")
    if state.form or nlu is None or not _DONE.search(text) or _NEXT_ASKED.search(text):
        return None
    clauses = [c for c in _CLAUSES.split(text) if c]
    asked = "".join(c for c in clauses if not _DONE.search(c))
    told = "".join(c for c in clauses if _DONE.search(c))
    first = _top(parse, kb)[0]
    if not asked or not told or first is None or not QUESTION.search(asked):
        return None
    done = _top(nlu.parse(told), kb)[0]
    alone = nlu.parse(asked)
    other, score = _top(alone, kb)
    near = {str(h.get("code")) for h in (parse.get("matters") or [])[:2]}
    if done is None or not near & {done.code, *kin(kb, done)} or other is None or other.code == done.code \
            or alone.get("out_of_scope") or alone.get("ambiguous") or score < MATTER_SCORE:
        return None
    return _with_matter(parse, _asked(alone["intent"]["name"]), other.code, other.name, "done_then_asked")


def _contribution_asked(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The matter of paying into an insurance or a fund (参保登记, 缴存, 补缴 …) a question asks how much is paid into
    («一年交多少», «城乡养老保险每年交好多钱»): the conversation's, else the one the message names strongly, else the
    first option offered that is one («每年交多少» after the options for «城乡居民养老保险»: its 参保登记, not what
    registering costs); ``None`` when the question names a charge for the service itself («手续费多少») or is about no
    such matter."""
    text = str(parse.get("text") or "")
    if state.form or not _PAID_IN.search(text) or _SERVICE_CHARGE.search(text):
        return None
    m = kb.get(state.matter_code) if state.matter_code else None
    if m is None and state.candidates and not _strong(parse):
        m = next((o for o in map(kb.get, state.candidates) if o is not None and _PAID_INTO.search(o.name)), None)
    if m is None:
        top, score = _top(parse, kb)
        m = top if top is not None and (score >= STRONG_SCORE or called_by_name(text, top)) else None
    return m if m is not None and _PAID_INTO.search(m.name) else None


#: Someone acting for the person: whether another may do the matter for them, or the person must come themselves
#: («可以让别人代办吗», «我老公能帮我去办不», «我帮他办行不», «要本人到场不», «补办要双方都去不»).
BY_ANOTHER = re.compile(rf"代办|代领|代签|代理|委托|亲自|到场|在场|出面|本人.{{0,4}}(去|来)|本人不在|不用本人|"
                         r"(找|让|请|叫|托)(个|别的)?人.{0,2}(代|帮)|"
                         r"(双方|两个人?|两人|两口子|夫妻|我们俩|俩人?)(都|一起|同时)?(要|得|必须|需要)?(去|来|到)|"
                         rf"(别人|他人|其他人|家里人|家人|亲戚|朋友|同事|子女|儿子|女儿|儿女|娃儿|老公|老婆|丈夫|妻子|爱人|"
                         rf"媳妇|家属|亲属|[{KIN}]{{2}}).{{0,4}}(帮|替|代)[我他她]?们?(去|来)?(办|跑|交|领|申请|签)|"
                         rf"我.{{0,3}}(帮|替|代)([他她]们?|老人家?|[我俺]?[{KIN}]{{1,2}})(去|来)?(办|跑|交|领|申请|签)")
#: … but the hall's own 帮办代办 named, or its charge asked, is the hall's question («金帮办能帮我代办吗»).
_HALL_PROXY = re.compile(r"金帮办|帮办|专员|工作人员|你们|人工|上门")
#: Matters that are that help themselves (金帮办帮办代办服务, 上门办服务预约).
_HELP_MATTERS = re.compile(r"帮办|代办|上门办")
#: Words that ask for a visit or for help, not only tell who cannot come («能上门不», «帮他约», «来家里办»).
_VISIT_ASKED = re.compile(r"上门|到家|来家|家里来|屋头来|到屋|预约|约|帮|代|替|请")
#: The form that books a home visit (``domain/preservice.yml``).
_VISIT_FORM = "home_visit_form"


def _visit_service(kb: Any) -> Any:
    """The 上门办 service's own matter (上门办服务预约…), else ``None``."""
    return next((m for m in kb.matters if "上门办" in m.name), None)


#: Who the matter is for, said alone («是我妈要办», «给我爸办的», «不是我，是我妈»).
_FOR_KIN = re.compile(rf"^(不是(我|给我|帮我)(自己)?(的|要办|办)?[，,、 ]*)?(是|给|帮|替)?(我|俺|我们?家)?的?(老)?[{KIN}]{{1,3}}"
                      r"(要|想|的|办|申请|领)*[。.!！]?$")


def _proxy_asked(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The matter a question asks whether someone else may do for the person, or whether the person must come
    themselves (:data:`BY_ANOTHER`): the one it names strongly, else the conversation's (inside a form, only the
    conversation's: «可以让我儿子代办吗» while booking a visit for 高龄津贴); ``None`` for none, or when it asks about the
    hall's 帮办代办 or a charge."""
    text = str(parse.get("text") or "")
    if not QUESTION.search(text) or _HALL_PROXY.search(text) or FEE_WORDS.search(text) or _COSTS.search(text):
        return None
    top, score = (None, 0.0) if state.form else _top(parse, kb)
    current = kb.get(state.matter_code) if state.matter_code else None
    # (the words of acting for someone find the hall's 帮办代办 itself: the matter is the conversation's then; a
    # first question names its matter by a word of it too — «我帮我妈办低保行不» —, a later one only clearly)
    named = top if top is not None and (score >= STRONG_SCORE or called_by_name(text, top) or current is None
                                        and score >= MATTER_SCORE and _bigrams(text) & _named_words(top)) \
        and not _HELP_MATTERS.search(top.name) else None
    if named is not None and current is not None and not BY_ANOTHER.search(_without_names(text, named)) \
            and BY_ANOTHER.search(_without_names(text, current)):
        named = None  # (its words are the asking for someone else: «可以找人代开不» after 无犯罪记录证明, not 代开发票)
    m = named or current
    if m is None or _HELP_MATTERS.search(m.name) or not BY_ANOTHER.search(_without_names(text, m)):
        return None
    return m


def _without_names(text: str, m: Any) -> str:
    """``text`` without the names and aliases of ``m`` it says whole (``text`` when ``m`` is ``None``)."""
    for name in sorted([m.name, *m.aliases], key=len, reverse=True) if m is not None else []:
        if len(name) >= 2:
            text = text.replace(name, " ")
    return text


def _top(parse: dict[str, Any], kb: Any) -> tuple[Any, float]:
    """The search's best match for the message (``None`` when none or unknown) and its score."""
    hits = parse.get("matters") or []
    if not hits:
        return None, 0.0
    return kb.get(str(hits[0].get("code"))), float(hits[0].get("score") or 0)


def _first_matches(parse: dict[str, Any], kb: Any, n: int = 3) -> list[Any]:
    """The search's first ``n`` matches for the message, as the KB's matters (``None`` for one it does not know)."""
    return [kb.get(str(h.get("code"))) for h in (parse.get("matters") or [])[:n]]


def _says_ours(text: str, other: Any, codes: set[str], kb: Any) -> bool:
    """Whether every word ``text`` shares with ``other``'s names is a word the matters of ``codes`` are called by
    too, or a word of a kind of request (at least one word shared: a match by meaning alone is not ours)."""
    shared = _bigrams(text) & _named_words(other)
    ours = set().union(*(_named_words(m) for m in (kb.get(c) for c in codes) if m is not None))
    return bool(shared) and not shared - ours - _kind_words()


def offered(state: DialogueState, kb: Any) -> list[Any]:
    """The matters offered in the last clarification, in the order shown."""
    return [m for m in (kb.get(c) for c in state.candidates) if m is not None]


def _beyond_options(text: str, strong: list[str], state: DialogueState, kb: Any) -> bool:
    """Whether the message names a matter strongly that is not one of the offered options — nor a sibling of one
    that its words do not tell apart from it («结婚登记要带啥» after options with 涉外婚姻登记 finds 中国内地公民婚姻登记,
    but says nothing the 涉外 one is not called), nor one found by words an option is called by too."""
    options = offered(state, kb)
    for code in strong:
        found = kb.get(code)
        if code in state.candidates or found is None:
            continue
        said = _bigrams(text) & _named_words(found)
        if said and any(said <= _named_words(o) for o in options):
            continue  # found by words an option is called by too: «有补贴不» after 就业见习补贴申领 among the options
        if not any(code in kin(kb, o) and not tells_apart(text, found, [o]) for o in options):
            return True
    return False


def _selection(text: str, parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The offered option ``text`` picks, or ``None``."""
    options = offered(state, kb)
    if not options:
        return None
    t = text.strip()
    m = _BARE_NUMBER.match(t)
    if m:
        i = int(m.group(1).translate(str.maketrans("１２３４５６７８９", "123456789"))) - 1
        return options[i] if i < len(options) else None
    m = _CHINESE_NUMBER.match(t)
    if m:
        i = {"一": 0, "二": 1, "两": 1, "三": 2}[m.group(1)]
        return options[i] if i < len(options) else None
    if len(t) <= 12:
        for pattern, i in _ORDINALS:
            if pattern.search(t):
                return options[i] if -len(options) <= i < len(options) else None
    words = _bigrams(t) - _OUR_PLACES  # («想迁到成都来» picks no 人才落户 by an alias's 成都)
    if not words:
        return None
    # the words of one offered option; else of one sibling of the offered options that was not shown (only the
    # top three are offered: «租房那个» after 住房公积金提取 options without the 租房 one)
    # by words of its own: a word an offered option is called by too («结婚登记» after options with 涉外婚姻登记, alias
    # 涉外结婚登记) picks no sibling (结婚登记预约)
    siblings = [x for x in family(kb, options[0]) if x.code not in {o.code for o in options}]
    taken = set().union(*(_named_words(o) for o in options))
    tries = [(options, options, words), (options + siblings, siblings, words - taken)]
    groups = [(g, w) for whole, g, w in tries if g and not _names_other(parse, {o.code for o in whole}, kb,
                                                                        offered=True)]
    # by the words of a name first («挂失那个» names 社会保障卡挂失, though an offered option's alias says 挂失 too),
    # then of the aliases, then by the kind of request — unless the search's best match for the message is a matter
    # elsewhere it calls by a word no option is called by («孩子刚出生» after 户口 options: 出生登记, though «刚出生»
    # is also a cue of a new request)
    other, score = _top(parse, kb)
    elsewhere = other is not None and score >= MATTER_SCORE and other.code not in {o.code for o in options} \
        and bool(words & _named_words(other) - taken)
    # nor when it finds a sibling of an option not shown and not the option of that kind (:func:`_by_kind`)
    near = {x.code for o in options for x in family(kb, o)} - {o.code for o in options}
    # A sibling not shown is no pick either then, unless it is that match («老人过世了房子要过户到我名下» after 购房落户
    # and 不动产权证书补发: not 投靠落户 by its alias's 老人, but 不动产转移登记（继承、受遗赠）, the message's own)
    for pick in (_by_names, lambda g, w: _by_words(w, g),
                 lambda g, w: None if elsewhere else _by_kind(t, g, parse, near)):
        for group, w in groups:
            picked = pick(group, w)
            if picked is not None and elsewhere and picked.code not in {o.code for o in options} \
                    and picked.code != other.code:
                continue
            if picked is not None:
                return _of_kind_asked_first(t, state.topic_text, _more_of_kind(t, parse, picked, kb), kb)
    return None


def _of_kind_asked_first(text: str, earlier: str, picked: Any, kb: Any) -> Any:
    """An option picked by words that say no kind of request, after options for a question that asked one the option
    is not of («我开的小卖部换老板了» → options → «营业执照咋办», picking 个体工商户设立登记): the one member of its
    family of that kind called by those words too (个体工商户变更登记（备案）); else ``picked``."""
    asked = _cues().of_query(earlier or "")
    if _cues().of_query(text) or not asked or asked & _kinds(picked):
        return picked
    words = _bigrams(text) - _kind_words()
    of_kind = [x for x in family(kb, picked) if asked & _kinds(x) and words & _named_words(x)]
    return of_kind[0] if len(of_kind) == 1 else picked


def _more_of_kind(text: str, parse: dict[str, Any], picked: Any, kb: Any) -> Any:
    """The member of ``picked``'s family that is of more of the kinds of request ``text`` asks than ``picked`` is
    and that the message itself finds well (:data:`MATTER_SCORE`), else ``picked``: «我爸去世了房子要过户给我»
    picks 不动产转移登记 by «过户» and asks 继承 too: 不动产转移登记（继承、受遗赠）."""
    asked = _cues().of_query(text)
    if not asked:
        return picked
    scores = {str(h.get("code")): float(h.get("score") or 0) for h in parse.get("matters") or []}
    better = [x for x in family(kb, picked) if scores.get(x.code, 0.0) >= MATTER_SCORE
              and len(asked & _kinds(x)) > len(asked & _kinds(picked))]
    return max(better, key=lambda x: (len(asked & _kinds(x)), scores[x.code])) if better else picked


def _narrowed(text: str, state: DialogueState, kb: Any) -> list[Any]:
    """The offered options (two or more, not all) whose own words (:func:`_own_word_counts`) a short message says
    equally and most of («个体户» after 个体工商户设立登记, 证照遗失补领, 个体工商户注销登记: the two 个体工商户
    ones), else ``[]``."""
    options = offered(state, kb)
    if len(options) < 3 or len(_CJK.findall(text)) > _SHORT_QUESTION + 2:
        return []
    counts = _own_word_counts(_bigrams(text), options)
    best = max(counts)
    picked = [o for o, n in zip(options, counts) if n == best]
    return picked if best > 0 and 1 < len(picked) < len(options) else []


def _points(text: str) -> bool:
    """Whether a message only points at an option by its place («二», «3», «第二个», «最后那个»)."""
    t = text.strip()
    if _BARE_NUMBER.match(t) or _CHINESE_NUMBER.match(t):
        return True
    # an ordinal and hardly anything else («第一次考» is a detail, not a place in a list)
    return any(p.search(t) and len(re.sub(r"[那个吧的就是要这]", "", "".join(_CJK.findall(p.sub("", t))))) == 0
               for p, _ in _ORDINALS)


def _by_kind(text: str, options: list[Any], parse: dict[str, Any] | None = None, near: set[str] = frozenset(),
             of: Any = None) -> Any:
    """The one option of the kind of request ``text`` asks for («新办一张» → the 申领 one), else ``None`` — also when
    the message's own best match (or the next) is one of ``near`` (siblings of the options, not offered) and that
    option is not among its matches at all: «娃娃刚生» after 户口 options finds 出生登记 (of 户口登记's family), not
    户口迁移审批, whose alias 准予迁入 is of a new request too; «刚生的» after 投靠落户 finds 出生医学证明 first, then
    出生登记. Of several of the kind, the one whose name begins most like ``of``'s (the matter talked about) is it:
    食品小作坊备案续期 for 食品小作坊备案发放, not 食品小经营店备案续期."""
    asked = _cues().of_query(text)
    fits = [o for o in options if asked & _kinds(o)] if asked else []
    if len(fits) > 1 and of is not None:
        alike = {o.code: len(os.path.commonprefix([o.name, of.name])) for o in fits}
        fits = [o for o in fits if alike[o.code] == max(alike.values())]
    if len(fits) != 1:
        return None
    hits = (parse or {}).get("matters") or []
    if any(float(h.get("score") or 0) >= LOOK_ALIKE_SCORE and h.get("code") in near for h in hits[:2]) \
            and all(h.get("code") != fits[0].code for h in hits):
        return None
    return fits[0]


def of_kind_asked(text: str, options: list[Any], scores: dict[str, float], lead: float) -> Any:
    """Of ``options`` found alike, the best one of the kind of request done to what one has (补领, 注销 …:
    :data:`_AFTER_GETTING`) that ``text`` asks, when some are of no such kind and the next one of that kind, if any,
    is ``lead`` behind it: «医生的执业证书丢了» finds 医师执业证书遗失补办 about as well as 医师新办执业注册, and nothing
    was lost in getting one new; else ``None``."""
    asked = _cues().of_query(text) & _AFTER_GETTING
    fits = [o for o in options if _kinds(o) & asked]
    if not fits or len(fits) == len(options):
        return None
    return fits[0] if len(fits) == 1 or scores.get(fits[0].code, 0.0) - scores.get(fits[1].code, 0.0) >= lead \
        else None


#: Characters of the words any question is framed in (asking, pointing, who): a pair with one says no subject.
_FRAME_CHARS = frozenset("要办啥咋么怎个的了吗呢哪什能不我你他她它们有是在去带多少久这那就还也都")


def told_by_subject(text: str, options: list[Any], kb: Any) -> Any:
    """The one of ``options`` (found alike) whose names or own texts say two or more of the question's pairs of
    characters that are no words of a kind of request nor of the question's frame, when no other option says any:
    «宝宝打疫苗的那个本子弄丢了» finds 残疾人证挂失补办 and 证照遗失补领 by 弄丢 alone, and 《预防接种证》办理 by 疫苗,
    宝宝, 本子 of its people's words. Not when the question asks a kind of request that one is not of and its family
    has a member of («我开的小卖部换老板了»: 食品小经营店备案发放 has its 变更, which is not offered: which is asked);
    else ``None``."""
    said = {b for b in _bigrams(text) - _kind_words() if not set(b) & _FRAME_CHARS}
    counts = [len(said & _bigrams(" ".join([m.name, _own_texts(m)]))) for m in options]
    best = max(counts, default=0)
    if best < 2 or sum(1 for c in counts if c) != 1:
        return None
    picked, asked = options[counts.index(best)], _cues().of_query(text)
    if asked - _kinds(picked) and any(_kinds(x) & asked for x in family(kb, picked)[1:]):
        return None
    return picked


def _own_texts(m: Any) -> str:
    """What a matter's guide says people ask and need: its aliases, phrasings, examples, conditions and FAQ
    questions."""
    return " ".join([*m.aliases, *getattr(m, "colloquial", []), *getattr(m, "examples", []),
                     *getattr(m, "conditions", []), *(f.question for f in getattr(m, "faqs", []))])


def _own_situation(text: str, m: Any) -> bool:
    """Whether the situation a detail describes by a kind's words is the matter's own: its texts (aliases,
    phrasings, examples, conditions) say one of those words («我爸去世了» after 遗属待遇申领, whose texts speak of
    去世, is not the family's 注销)."""
    cues = _cues()
    said = {c for k in cues.of_query(text) for c in cues.query_cues[k] if c in text}
    own = _own_texts(m)
    return any(c in own for c in said)


def _own_word_counts(words: set[str], options: list[Any], aliases: bool = True) -> list[int]:
    """How many of ``words`` each option's own words (or aliases) share. An option's own words are the character
    pairs of its name after the start all the names share («不动产…»: no «产登» of 不动产登记资料查询) that not every
    name has."""
    names = ["".join(_CJK.findall(o.name)) for o in options]
    start = os.path.commonprefix(names) if len(options) > 1 else ""
    own = [_bigrams(" ".join([n[len(start):], *(o.aliases if aliases else ())])) for n, o in zip(names, options)]
    common = set.intersection(*(_bigrams(n[len(start):]) for n in names)) | _bigrams(start) if len(options) > 1 \
        else set()
    return [len(words & (w - common)) for w in own]


def _by_names(options: list[Any], words: set[str]) -> Any:
    """The one option whose names' own words share the most of ``words`` (:func:`_by_words`), unless another option,
    its aliases counted, shares more of them than it does: «上户口要带啥» says 户口 of 户口变更's name, but 上户 and 户口
    of 出生登记（新生儿入户）'s alias 新生儿上户口 (that one is then chosen by the aliases, when it is the only one)."""
    picked = _by_words(words, options, aliases=False)
    if picked is None:
        return None
    counts = _own_word_counts(words, options)
    return picked if counts[options.index(picked)] == max(counts) else None


def _by_words(words: set[str], options: list[Any], aliases: bool = True) -> Any:
    """The one option whose own words (or aliases) share the most of ``words`` (:func:`_own_word_counts`), or
    ``None`` when none or several share as many."""
    counts = _own_word_counts(words, options, aliases)
    best = max(counts)
    return options[counts.index(best)] if best > 0 and counts.count(best) == 1 else None


#: A message that points at an option by what it is («取钱的», «查询那个»).
_POINTS_BY_WHAT = re.compile(r"(的|那个|那一个|这个)[。！!]?$")


def _siblings_unsaid(text: str, parse: dict[str, Any], state: DialogueState, kb: Any, refined: Any) -> list[Any]:
    """The family of the matter a detail given instead of picking an option found, not among the options, when
    the detail alone finds that family first and neither it nor the question before says anything that tells the
    matter from its siblings of the same kind of request (three or more): at most three of them to choose from,
    the message's best matches first; else ``[]``. («我想取出来» finds the 提取 ones, 退休 only a little ahead;
    «个体户» finds 设立 before 变更 and 注销, which a message saying no kind of request does not ask.) So too when the
    matter found is one of the options, found by meaning alone: «我想取出来» after 贷款, 提取（偿还住房贷款） and 异地
    转移接续 says nothing of a loan — unless the message points at that option by what it is («取钱的»)."""
    if refined is None or state.matter_code or not state.candidates \
            or refined.code in state.candidates and _POINTS_BY_WHAT.search(text.strip()):
        return []
    siblings = [m for m in family(kb, refined) if _kinds(m) == _kinds(refined)]
    hits = (parse.get("matters") or [])[:2]
    codes = {m.code for m in siblings}
    if len(siblings) < 3 or len(hits) < 2 or any(str(h.get("code")) not in codes for h in hits) \
            or float(hits[0].get("score") or 0) - float(hits[1].get("score") or 0) >= MEANING_APART \
            or tells_apart(f"{state.topic_text} {text}", refined, siblings):
        return []  # (the question before may tell it apart: «养老保险 → 我要退休了», the 企业职工 one by 养老保险)
    rank = {str(h.get("code")): i for i, h in enumerate(parse.get("matters") or [])}
    return sorted(siblings, key=lambda m: rank.get(m.code, len(rank)))[:3]


def _another_kind_asked(text: str, current: Any) -> bool:
    """Whether ``text`` says a kind of request (renewal, change …) that ``current`` is not of."""
    return current is not None and bool(_cues().of_query(text) - _kinds(current))


#: Asking for a licence to be kept on record («帮我记一下», «登记一下我的证»).
_KEEP_IT = re.compile(r"记一下|记下来|帮我记|登记")
#: Here, as where one's 户口 is («金牛区», «成都»): no reason for any 户口 matter (one elsewhere may be).
_HOME_PLACE = r"(?:成都市?)?金牛区?|成都市?|本地|本市|这边|这里"
#: A paper said as had («我们有居住证», «驾照拿了五年了», «身份证还在», «居住证都有了», «营业执照有了», «办了昆明的居住证»;
#: not a thing there is, «有分公司», «有护理补贴不»).
_HAD = re.compile(r"(?:已经|都|也)?有(?:了)?(?:个|张|本)?[\u4e00-\u9fff]{1,4}?(?:证|照|卡|簿)(?=[了的]?(?:[，,。\s]|$))|"
                  r"[\u4e00-\u9fff]{1,3}?(?:证|照|卡|簿)(?:还在|拿了|考了|拿到\S{0,3}年)|"
                  r"[\u4e00-\u9fff]{1,4}?(?:证明|证|照|卡|簿)(?:都|也|已经|早就)?(?:有了|有的|拿到了|办了|下来了)|"
                  r"(?:办了|拿了|拿到了?)(?:个|张|本)?[\u4e00-\u9fff]{0,4}的(?:证|照|卡|[\u4e00-\u9fff]{1,3}(?:证|照|卡))")
#: A 户口 here («户口在金牛区», «都是成都户口»): about the person, no request for a 户口 matter (one elsewhere tells
#: a matter's variants apart: «我们是外地户口» after 入学办理 is 随迁子女入学).
_HUKOU_AT = re.compile(rf"户口(?:都|也|还|一直)?(?:在|是)(?:{_HOME_PLACE})的?|(?:{_HOME_PLACE})户口")
_HAD_OR_HUKOU = re.compile(f"{_HAD.pattern}|{_HUKOU_AT.pattern}")


def _only_had(text: str, m: Any, told: re.Pattern = _HAD) -> bool:
    """Whether ``text`` calls ``m`` by words of its names only where it says a thing is had («我们有居住证», of 居住证
    办理), or what else ``told`` finds: telling what one has asks nothing of getting it."""
    if not _bigrams(text) & _named_words(m) or not told.search(text):
        return False
    return not _bigrams(told.sub(" ", text)) & _named_words(m)


#: Knowing how, said («晓得咋弄了»): no question.
_KNOWS_HOW = re.compile(r"(?:晓得|知道|明白|清楚|懂)了?(?:咋|怎么|如何|怎样)")
#: The longest closing formula (characters): «谢谢你哈», «好的拜拜», «辛苦你们了».
_CLOSING_CHARS = 6


def _closing(text: str) -> str | None:
    """Thanks or goodbye that closes a message of several clauses asking nothing («好嘞，晓得咋弄了，谢谢你哈»): that
    social intent, else ``None``."""
    clauses = [c for c in _CLAUSES.split(text.strip()) if c]
    if len(clauses) < 2 or len(_CJK.findall(clauses[-1])) > _CLOSING_CHARS or _CANNOT_COME.search(text) \
            or any(QUESTION.search(c) and not _KNOWS_HOW.search(c) for c in clauses):
        return None
    return next((x for x in ("thanks", "goodbye") if SOCIAL_WORDS[x].search(clauses[-1])), None)


def _says_our_name(text: str, current: Any, other: Any) -> bool:
    """Whether ``text`` says a word of ``current``'s name that ``other`` is not called by — a word of its subject, not
    of a kind of request, of who asks («公司») or of the city."""
    ours = _bigrams(current.name) - _named_words(other) - _kind_words() - _REQUESTER_WORDS - _HOME_PLACES
    return bool(_bigrams(text) & ours)


def _only_had_read(read: dict[str, Any], state: DialogueState, kb: Any, text: str) -> dict[str, Any]:
    """A statement read as about a matter outside the conversation's matter's kin that it calls only where it says a
    paper is had, or that one's 户口 is here: still about the conversation's matter («她今年82了，户口在金牛» after
    老年人优待证 asks for no 户口迁出)."""
    current = kb.get(state.matter_code) if state.matter_code and not state.form else None
    named = next((e for e in read.get("entities") or [] if e.get("entity") == "matter"), None)
    m = kb.get(str(named.get("value"))) if named is not None else None
    if current is None or m is None or m.code == current.code or m.code in kin(kb, current) or QUESTION.search(text):
        return read
    if not _only_had(text, m, _HAD_OR_HUKOU):
        return read
    return _with_matter(read, "ask_matter", current.code, current.name, "only_had")


def _refinement(text: str, parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> Any:
    """The matter of the current matter's family that the earlier question plus this detail fits best, when it
    differs from what the NLU read alone, else ``None``."""
    current = kb.get(state.matter_code) if state.matter_code else None
    answering = current is None and bool(state.candidates)  # a detail given instead of picking an option
    if answering:
        current = kb.get(state.candidates[0])
    if current is None or nlu is None or not state.topic_text or _points(text):
        return None  # («二», «最后那个» with no options offered says nothing of the situation)
    both = _reader(nlu, state.topic_text, text)  # (the two read together: parsed once, when first needed)
    elsewhere = None if answering else _same_act_in_another_field(parse, text, current, kb, both)
    if elsewhere is not None:
        return elsewhere
    if not answering and _PURPOSE.search(text) and not QUESTION.search(text):
        return current  # what it is for: «开餐馆用的» after 健康证 is no 食品经营许可 asked for
    if not answering and _PAYS_IN.search(text) and not _PAID_INTO.search(current.name) \
            and _PAID_INTO.search(getattr(_top(parse, kb)[0], "name", "")):
        return None  # a wish to pay into an insurance («我想交医保» after 住院费用报销) is no detail of a claim
    if not answering and EVENT_TOLD.search(text) and not QUESTION.search(text):
        together = _one_together(nlu, state.topic_text, text, kb, both())
        if together is not None and together.get("code") == current.code:
            # what happened to the person, which the two read together find ours for, is the situation of ours:
            # «公司把我开除了» after 失业保险金申领 (alone it finds 公司注销登记, by 公司)
            return current
    members = kin(kb, current)
    # the options offered and their families (a detail given instead of picking one may fit a sibling of an
    # option better than the options: «我要退休了» after the options for «公积金的事情» → 住房公积金提取（退休）),
    # and the matters the question named as much as the current one («我爸70了» after «优待证咋办»: the 老年人 one)
    of_options: set[str] = set()  # (the options' families)
    for code in (state.candidates if answering else []) + state.topic_matters:
        alike = kb.get(code)
        for m in (family(kb, alike) if answering and code in state.candidates else [alike]) if alike else []:
            members.setdefault(m.code, m)
            if code in state.candidates:
                of_options.add(m.code)
    found = _found_clearly(parse, kb) if answering else None
    if answering:
        # the matter the detail finds clearly, alone or read with the earlier question, whose names say every word
        # of that question, is of what was asked as much as the options are («我要退休了» after the options for
        # «养老保险»: 企业职工基本养老保险正常退休申请, of no option's family; «我是灵活就业的» after them: 灵活就业人员企业
        # 职工基本养老保险参保登记, which the detail alone does not find: it finds 就业登记)
        # (the question's own words: not its framing, «我想咨询一下营业执照» says 营业执照)
        question = _bigrams(strip_frame(_ASKER.sub("", state.topic_text)))
        hit = _one_together(nlu, state.topic_text, text, kb, both()) if question else None
        for clear in (found, kb.get(str(hit.get("code"))) if hit is not None else None):
            if clear is not None and question <= _named_words(clear):
                members.setdefault(clear.code, clear)
                of_options.add(clear.code)
    crossing = [c for c in parse.get("matters") or [] if c.get("code") in members]
    strong = _strong(parse)
    # «我是职工医保» says who the person is: it brings up no other matter; a detail given instead of picking an
    # option («从外地转回来») is about the options: it brings up only a matter by its words
    by = "self" if _DESCRIBES_SELF.match(text) or _RESIDENCE_TOLD.match(text) else "words" if answering \
        else "meaning"
    named = [m for m in (kb.get(c) for c in strong if c not in members) if m is None or _calls(text, m, by)]
    # «要考试不» after 网约车驾驶员证: the search finds 招生考试 by one word, «从外省转过来» after 养老保险转移 finds
    # 医保转移 by meaning; ours fits either with the question (a question may be a little longer: «本科学历可以不»)
    size = len(_CJK.findall(text))
    # (a statement of any length found elsewhere by meaning alone, sharing no word with it but who it is about:
    # «孩子是在外地医院生的» after 出生登记 finds 生育医疗费支付, called 生孩子医疗费报销)
    guess, guessed = _top(parse, kb)
    by_meaning = guess is not None and not QUESTION.search(text) \
        and not _bigrams(text) & _named_words(guess) - _WHO_WORDS
    separate = _SEPARATE.search(text) and guess is not None and guessed >= LOOK_ALIKE_SCORE
    if separate and guess.code not in {m.code for m in family(kb, current)} \
            and _bigrams(text) & (_named_words(guess) - _named_words(current)):
        return None  # «卖烟要另外办吗» after 个体工商户设立登记 asks about another matter, the one it names: 烟草证
    keep = not answering and (size <= _SHORT_QUESTION or size <= _SHORT_QUESTION + 2 and bool(QUESTION.search(text))
                              or by_meaning) and _fits_better(parse, text, current, members, state, kb, nlu, both) \
        and not _about_another(text, guess, members) and not _names_word_kin(parse, text, current, kb)
    # a kind of request no member is of, said after the matter, is asked of what the earlier question named: the
    # matter of that kind the two read together find clearly («医保卡 → 丢了»: 社会保障卡补领, for 医保电子凭证申领
    # is never lost)
    kinds_said = _cues().of_query(text)
    if kinds_said and not answering and not any(kinds_said & _kinds(m) for m in members.values()):
        hit = _one_together(nlu, state.topic_text, text, kb, both())
        other = kb.get(str(hit.get("code"))) if hit is not None else None
        if other is not None and other.code not in members and kinds_said & _kinds(other):
            return other
        if other is not None and other.code == current.code and not _strong(parse) and (
                guess is None or guess.code in members or not _says_subject_of(text, guess, current)):
            # («孩子刚出生» after 城乡居民参保登记 (新生儿医保参保): ours, not the 出生登记 options (出生: the kind's word);
            # not «对了我驾照也快到期了» after 居住证办理, which names 驾照)
            return current
    if not answering and not kinds_said and not QUESTION.search(text):
        elsewhere = _kind_kept_elsewhere(parse, text, state, kb, nlu, current)
        if elsewhere is not None:
            return elsewhere  # («是公司» after 个体工商户变更登记: 公司变更登记, not 公司设立登记)
        # (who the person is qualifies the matter, it moves nothing: «我爸住院了 → 他是城乡居民医保»)
        moved = None if _DESCRIBES_SELF.match(text) else _moved_together(both(), kb, current)
        if moved is not None:
            return moved
    if _ON_IT.match(text) and not answering:
        keep = True  # («上面名字写错了» after 不动产权证书: a detail of the thing on it, not 户口变更 found by 名字)
    if not answering and _asks_only_a_kind(text):
        keep = True  # («要是改名字呢» after 社会团体成立登记: its 变更, not 户口变更 found by 改名字)
    if not keep and not answering and guess is not None and guess.code not in members \
            and _asked_in_our_words(text, current, guess):
        keep = True  # («上幼儿园要查验不» after 《预防接种证》办理, whose guide speaks of 幼儿园 查验: not 幼儿园筹设审批)
    if not keep and (_names_other(parse, set(members), kb, by)
                     or any(m is None or not _says_ours(text, m, set(members), kb) for m in named)):
        together = None if answering else _kin_found_together(parse, text, state, kb, both, current, members)
        if together is not None:
            return together  # («住院花的钱咋报» after «工伤»: 工伤医疗（康复）费用申报, not 住院费用报销)
        if not (answering and not _about_another(text, guess, members)
                and _options_fit_together(parse, text, state, kb, nlu, members)):
            return None  # the message names another matter: a new topic (the search with the question: only then)
    # every member is scored (not only those that would reach the top of the whole KB) and re-scored among the
    # members, for the earlier question plus the detail and for the detail alone: the earlier question chose the
    # family, the detail is what tells the siblings apart, so it counts twice
    if not answering and _ANEW.search(text) and _YES_OR_NO.search(text) and not named:
        # whether it must be done over again, asked after the matter of the situation told («店搬家了» → 烟草专卖零售
        # 许可证变更, then «要重新办不»): that matter's card says, not its family's new one (新办)
        return current
    near = set(members) - set(state.candidates) - {current.code}
    # (of two of the kind done to what one has, one of ours and one of a related matter's family, ours: «要续不»
    # after 食品小作坊备案发放 is its 续期, not 食品小经营店备案续期's; a new one's words are too loose for it: «要开
    # 股东会不»)
    kind = _by_kind(text, list(members.values()), parse, near)
    if kind is None and not answering and (_cues().of_query(text) & _AFTER_GETTING or _asks_only_a_kind(text)):
        kind = _by_kind(text, family(kb, current), parse, near, of=current)
    if kind is not None and guess is not None and guess.code not in members and guessed >= MATTER_SCORE \
            and _cues().of_query(text) & _kinds(guess) \
            and (_bigrams(text) - _POST_WORDS) & (_named_words(guess) - _named_words(kind)) \
            and not _asks_only_a_kind(text):
        kind = None  # (the kind is said of another thing, named: «我要买二手房» is a house's 转移, not the fund's)
    if kind is not None and (kind.code != current.code or answering) and not _names_ours(text, parse, current, kind) \
            and (answering or not _own_situation(text, current)):
        return kind  # «店搬了地方» after 烟草专卖零售许可证新办: the one 变更 of the family
    if kind is current and not answering and QUESTION.search(text) and not _WHAT_ABOUT.match(text) \
            and (guess is None or not _says_subject_of(text, guess, current)):
        return current  # («许可证要变更不» after 食品经营许可变更法定代表人: the 变更 it is, not 变更经营项目 by meaning)
    if QUESTION.search(text) and not answering:
        # «在医院可以办不» asks about the matter; it does not describe the person's situation. A matter the search
        # found strongly by words of ours only («要去报到不» after 退役报到 → 高校毕业生报到) does not take it away.
        # A question in words only some members are called by («要预约不» after 婚姻登记: 结婚登记预约 and
        # 离婚登记预约) asks about one of them: the one the earlier question fits (the question's words chose them).
        called = [m for m in members.values() if m.code != current.code and called_by_name(text, m, 4)]
        if len(called) == 1:
            return called[0]  # «就业登记咋办» after 企业职工参保登记: the one member said by its whole name
        naming = _naming_members(text, current, members, kb, parse)
        # (a word the earlier question said too, ours chosen with it, names no other anew: «要开股东会不» after «公司股东
        # 要变» → 公司变更登记 is no 因公司的股东发生合并…变更登记)
        anew = _bigrams(text) - _named_words(current) - _bigrams(state.topic_text or "")
        naming = {c: m for c, m in naming.items() if anew & _named_words(m)}
        if _kinds(current) and not kinds_said:
            # (a question that says no kind of request keeps ours: «名字咋个取» after 个体工商户设立登记 is about the
            # name it is set up with, not 个体工商户变更登记, called «个体户改名字» too)
            naming = {c: m for c, m in naming.items() if not _kinds(m) or _kinds(m) & _kinds(current)}
        if naming:
            # (a related matter named competes with ours: «开公司能一次办完不» after 一窗通办 stays on it)
            # (one the message finds strongly itself, by words the others named do not share, is the one: «那失业金呢»
            # after 失业登记; «需要预约不» after 婚姻登记 names 结婚登记预约 and 离婚登记预约 alike)
            own = {x.code for x in family(kb, current)}
            # (or clearly, asking whether someone can: «孩子能在成都读书不» after 居住证办理 → 随迁子女入学)
            clear = _found_clearly(parse, kb) if _SOMEONE_CAN.search(text) else None
            first = next(iter(_strong(parse)), None) or (clear.code if clear is not None else None)
            if first in naming and _bigrams(text) & _named_words(naming[first]) - set().union(
                    *(_named_words(m) for c, m in naming.items() if c != first)):
                return naming[first]
            # (ours competes too when its own phrasings say the words that name the others: «户口咋个迁» after 夫妻
            # 投靠, whose people say «老婆户口能不能迁过来»)
            among = naming if set(naming) <= own and not _phrased_by_ours(text, current, naming) \
                else {**naming, current.code: current}
            return _best_member(nlu, f"{state.topic_text} {text}", "", _told_apart(text, current, among))[0]
        # whether one can, in words that find a matter elsewhere and that our kin is called by too («外地户口可以不»
        # after 义务教育入学, found as 出生登记 by «户口»): about the one of ours called by them (随迁子女入学, alias
        # 外地户口孩子入学); «要办许可证不» (whether it is needed) and «医保咋办» are not such questions
        other, score = _top(parse, kb)
        if other is not None and other.code != current.code and score >= MATTER_SCORE \
                and _WHETHER_ONE_CAN.search(text) \
                and (other.code in members or _says_ours(text, other, set(members), kb)):
            shared = _bigrams(text) & _named_words(other) - _named_words(current) - _kind_words()
            sharing = {c: m for c, m in members.items() if shared & _named_words(m)}
            if sharing:
                return _best_member(nlu, f"{state.topic_text} {text}", "", sharing)[0]
        sibling = _sibling_by_its_words(nlu, text, state.topic_text, current, members) if not named else None
        if sibling is not None:
            return sibling  # «能贷多少» after 住房公积金提取（购房）: 个人住房公积金贷款
        if keep or named or _a_related_word(parse, text, current, kb) or _only_a_guess(parse, current) and \
                _fit(nlu, f"{state.topic_text} {text}", current) >= float(parse["matters"][0].get("score") or 0) \
                or _WHAT_ABOUT.match(text) and _top(parse, kb)[0] is None \
                or guess is not None and guess.code not in members and _says_ours(text, guess, set(members), kb):
            # «在医院可以办不» after 出生登记: the search's weak 生育登记 is a guess, ours fits better; «那续签呢» after
            # 居住证办理 finds nothing else: an aspect of ours (not a goodbye) — unless it names one member's kind of
            # request: «换领呢» after 残疾人证新办 is 残疾人证换领; «许可证咋处理» after 医疗机构执业审批（注销） finds
            # 食品经营许可 by 许可证 only, a word our family is called by too
            return _kind_named_member(text, parse, current, members) or current
        if parse["intent"]["name"] == "ask_matter" and guess is not None and guess.code in members \
                and guess.code != current.code and guessed < STRONG_SCORE and not called_by_name(text, guess):
            # a matter asked, a sibling the question alone finds, not named, while the two read together name ours
            # clearly: «能不能早点退休» after «我在井下干了十几年» (提前退休) finds 正常退休 by 退休 alone
            together = _one_together(nlu, state.topic_text, text, kb, both())
            if together is not None and str(together.get("code")) == current.code:
                return current
        return None
    kind_named = None if answering else _kind_named_member(text, parse, current, members)
    if kind_named is not None:
        return kind_named
    # (who the person is says which option, not a matter related to them: «我是听力残疾» after the 残疾人证 options)
    if found is not None and found.code in (of_options if by == "self" else members):
        return found  # «公司的» after 营业执照's options finds 公司设立登记 clearly (with the question: 分公司设立登记)
    apart = said_apart(text, list(members.values())) if len(members) > 1 else None
    itself = {str(h.get("code")) for h in [*(parse.get("matters") or [])[:3], parse.get("named_matter") or {}]}
    if apart is not None and apart.code != current.code and apart.code in itself \
            and says_words_of(_in_names_words(text), apart, current) \
            and (by == "self" or not says_words_of(text, apart, current)) \
            and not (_for_someone_unsaid(apart, f"{state.topic_text} {text}")
                     and not _same_department(apart, [current])):
        # who the person is, in words of one related matter only, not ours, that finds it itself: «我是嫁过来的» after
        # 户口迁移审批 (嫁: 夫妻); «我是人才» after 购房补贴申请 (also called 人才购房补贴) says the person qualifies. Any
        # detail in everyday words only that matter's names have: «要开个普票给客户» after 代开增值税专用发票 (普票: 普通
        # 发票); not «娃娃刚生» after 户口 options (娃娃 is 子女, of 投靠落户 too): it finds 出生登记
        return apart
    # (who the person is, told instead of picking, says which option: not a matter only related to one, «我是听力
    # 残疾» after the 残疾人证 options is no 辅助器具适配)
    pool = {c: m for c, m in members.items() if c in of_options} if answering and by == "self" else members
    best, fit = _best_member(nlu, f"{state.topic_text} {text}", text, pool or members)
    if best is None:
        return None
    asked = kinds_said if answering or not _own_situation(text, current) else frozenset()
    of_kind = {c: m for c, m in members.items() if asked & _kinds(m)}
    if len(of_kind) >= 2 and not asked & _kinds(best):  # «新办一张» after 社保卡 options: one of the new ones
        best, fit = _best_member(nlu, f"{state.topic_text} {text}", text, of_kind)
    kept = _kinds(current) - _kinds(best) if not asked and not answering else frozenset()
    if kept and (_kinds(best) or kept & _cues().of_name(current.name) and not says_words_of(text, best, current)):
        # a detail that says no kind of request keeps the conversation's: «有分公司» after 公司注销登记 is about
        # 分公司注销登记 (of 分公司设立登记's family, named by its words too), though «分公司» alone finds the 设立 one
        near = {x.code for x in family(kb, best)} if _kinds(best) else set()
        same = {c: m for c, m in members.items() if c != current.code and c in near and kept & _kinds(m)
                and says_words_of(text, m, current)}
        if same:
            best, fit = _best_member(nlu, f"{state.topic_text} {text}", text, same)
        elif kept & _AFTER_GETTING and not _kinds(best) & _AFTER_GETTING and not _names_other(parse, set(members), kb):
            # «个体户的» after 证照遗失补领: whose licence was lost, not a new 个体工商户设立登记; «我们在外地结的婚»
            # after 补领结婚证 (its name says the kind; not a catch-all's aliases): where they married, not a 结婚登记
            return current
    if answering and _ADVICE.search(best.name) and not QUESTION.search(text):
        # a statement of the situation given instead of picking is about having it done, not advice on it
        # («从外地转回来» after 学籍异动办理 and 学籍异动政策咨询 offered)
        doing = [m for m in offered(state, kb) if not _ADVICE.search(m.name)]
        if len(doing) == 1:
            return doing[0]
    if best.code != current.code and not answering and (_names_ours(text, parse, current, best) or (
            not QUESTION.search(text) and not _WANTS_TO.search(text) and not kinds_said
            and not _bigrams(text) & (_named_words(best) | _bigrams(_own_texts(best))))):
        # (a statement of the situation that says nothing of the other, nor in its guide's own words, and no wish
        # or kind of request, tells nothing apart: «70多了» after 最低生活保障, told «我妈一个人住», is not about
        # 医疗救助; «想转走» after 到档查询 asks 档案转出)
        return current
    if by == "self" and not answering and not named and best.code != current.code and fit < MATTER_SCORE \
            and best.code not in {x.code for x in family(kb, current)}:
        # who the person is, fitting a matter the card offers only weakly with the question, says who asks: «我是个体户»
        # after 代开增值税普通发票 (a 个体户 has one issued), not 个体工商户信息确认
        return current
    if best.code != current.code or answering or named:
        return best  # (named: a matter found strongly by words of ours only, «丢了要补» → 证照遗失补领: ours stays)
    # (nor a yes or no that says more: «是从外地转来的» after 养老保险关系转移 tells where from)
    yes_and_more = parse["intent"]["name"] in {"affirm", "deny"} and len(_CJK.findall(text)) > _YES_OR_NO_SIZE
    if (parse["intent"]["name"] in {"nlu_fallback", "out_of_scope"} or parse["intent"]["name"] in SOCIAL_WORDS
            or by == "self" or yes_and_more) \
            and (crossing or len(members) > 1 or kinds_said & _kinds(best) and fit >= MATTER_SCORE):
        # a detail that keeps the same matter: answer it again rather than "not understood" (or, for a goodbye
        # read without its words, «我是嫁过来的», rather than «慢走»; for who the person is read as small talk,
        # «我是农村的» after 城乡居民养老保险参保, rather than who 金小二 is; «第一次养狗» after 犬类准养证核发, a matter
        # with no kin, says its kind of request and fits it clearly with the question, rather than out of scope)
        return best
    other, score = _top(parse, kb)
    # (kept: a short detail, or a statement found elsewhere by meaning alone, that ours fits better with the question)
    detail = keep or _a_detail(text, current) or _only_a_guess(parse, current) or by == "self"
    if other is not None and other.code != current.code and detail \
            and (keep or fit >= score or by == "self" or _names_ours(text, parse, current, other)
                 or _bigrams(text) & _named_words(other) <= _named_words(current) & _named_words(other) != set()):
        # «我是退伍军人» after 退役军人优待证: the search of the detail alone found 退役报到, but ours fits the earlier
        # question with the detail better (not so «我要抵押贷款» after 不动产登记资料查询: 不动产抵押登记); or the
        # detail names ours («遗产继承的公证» after 公证业务预约办理); or it says who the person is and calls the
        # other by no whole name («我是低保户» after 法律援助: the person qualifies, 医疗救助 is not asked for); or
        # the words it shares with the other are ours too («买的二手房» after 契税, which is also called 二手房税费)
        return current
    return None


def _found_clearly(parse: dict[str, Any], kb: Any) -> Any:
    """The matter the message finds clearly on its own (its best match, at :data:`MATTER_SCORE` or more and not
    ambiguous), or the one the NLU put aside for a message read as small talk («马上要退休了», read as a goodbye,
    finds 企业职工基本养老保险正常退休申请 at 1.18); else ``None``."""
    found, score = _top(parse, kb)
    aside = parse.get("named_matter") or {}
    if found is None and aside:
        found, score = kb.get(str(aside.get("code"))), float(aside.get("score") or 0)
    return found if found is not None and score >= MATTER_SCORE and not parse.get("ambiguous") else None


def _about_another(text: str, guess: Any, members: dict[str, Any]) -> bool:
    """Whether a «那X呢» asks about a matter outside ``members`` that X is all words of («那医保呢» after 社会保障卡
    申领: 城乡居民参保登记, called 医保参保; 社保卡 is used for 医保, so the two fit together)."""
    words = _bigrams(what_about(text))
    return guess is not None and guess.code not in members and bool(words) and words <= _named_words(guess)


def _options_fit_together(parse: dict[str, Any], text: str, state: DialogueState, kb: Any, nlu: Any,
                          members: dict[str, Any]) -> bool:
    """Whether the earlier question read with this message finds one of ``members`` (the options offered and
    their families) first, and the message calls no other matter it found strongly by a whole name: «从外省转过来»
    after the options for «转学手续咋办» is a detail of the choice, though alone it finds 基本医疗保险关系转移接续."""
    hits = nlu.parse(f"{state.topic_text} {text}").get("matters") or []
    if not hits or hits[0].get("code") not in members:
        return False
    guess, score = _top(parse, kb)
    if guess is not None and guess.code not in members and score >= MATTER_SCORE and QUESTION.search(text) \
            and _bigrams(text) & _bigrams(guess.name) - set().union(*(_named_words(m) for m in members.values())):
        return False  # (the message's own match, asked by a word of its very name none of theirs says: «咋作废» after
        # the 代开发票 options is 代开发票作废; «第一次办» after 社保卡's says 一次 of no name, only of an alias elsewhere;
        # «她退休了» after the 户口 options tells, it asks nothing of 正常退休)
    others = [kb.get(c) for c in _strong(parse) if c not in members]
    return not any(m is not None and called_by_name(text, m, 3) for m in others)


def _kin_found_together(parse: dict[str, Any], text: str, state: DialogueState, kb: Any,
                        both: Callable[[], dict[str, Any]], current: Any, members: dict[str, Any]) -> Any:
    """The other one of ``members`` (the current matter's kin) that the earlier question read with this message
    names clearly, when the message finds no matter outside them strongly, else ``None``: «住院花的钱咋报» after
    «工伤» asks about 工伤医疗（康复）费用申报, though alone it finds 住院费用报销 (not strongly); «失业金怎么领» after
    住房公积金提取（离职） asks about 失业保险金申领. ``both``: the parse of the two read together (:func:`_reader`)."""
    if any(c not in members for c in _strong(parse)):
        return None
    hit = _one_matter(both())
    if hit is None or hit.get("code") == current.code or hit.get("code") not in members:
        return None
    if _kinds(members[hit["code"]]) - {"new"} - _kinds(current) - _cues().of_query(f"{state.topic_text} {text}"):
        return None  # a kind of request nobody said: «要交税不» after «我要过户给女儿» (转移登记) is no 继承
    ours = next((float(h.get("score") or 0) for h in both().get("matters") or [] if h.get("code") == current.code),
                None)
    if ours is not None and float(hit.get("score") or 0) - ours < MEANING_APART \
            and not _bigrams(text) & _named_words(members[hit["code"]]):
        # (not told apart from ours by the meaning of the two, nor by a word of its names: the earlier question chose
        # ours — «要开啥证明» after «我想把户口迁回老家», 户口迁出（开具户口迁移证明）, is no 户口迁移审批)
        return None
    return members[hit["code"]]


def _names_word_kin(parse: dict[str, Any], text: str, current: Any, kb: Any) -> bool:
    """Whether the message finds clearly a matter that is called by a word of the current one's names too (公租房)
    and names it by a word the current one is not called by (租金): «租金咋交» after 公共租赁住房申请资格审核认定 asks
    about 公租房租金缴纳 (租金 is of its name). A question in words of ours, or whether one can, asks about ours. (A
    matter found by one word and sharing none with ours is no such kin: «要考试不» after 网约车驾驶员证 finds 招生考试.)"""
    other = _found_clearly(parse, kb)
    if other is None or other.code == current.code or not QUESTION.search(text) or _WHETHER_ONE_CAN.search(text) \
            or _bigrams(text) & _named_words(current):
        return False  # (whether one can, «本科学历可以不» after 人才公寓, asks about ours; so does one in our words)
    ours = _named_words(current)
    return bool(_named_words(other) & ours - _kind_words()) \
        and bool(_bigrams(text) & (_bigrams(other.name) - ours - _kind_words()))


def _kind_kept_elsewhere(parse: dict[str, Any], text: str, state: DialogueState, kb: Any, nlu: Any,
                         current: Any, found_too: bool = False) -> Any:
    """The conversation's kind of request, of the matter a statement finds clearly outside the current matter's
    family by a word the current one is not called by, when the statement says no kind itself: «是公司» after
    个体工商户变更登记（备案） asks for 公司变更登记 (alone it finds 公司设立登记). The member of that matter's family of
    the current one's kind that the earlier question and the statement fit best, else ``None`` — and, when
    ``found_too``, the matter found itself when it is of that kind (公司设立登记 after 个体工商户设立登记)."""
    # (the kind its name says, or one the conversation said: not one only its aliases say — «我是外地人» found
    # 居民身份证跨省异地办理, called «外省身份证在成都补办»; «想在成都交社保» then is no 社会保障卡挂失)
    if EVENT_TOLD.search(text):
        return None  # what happened to the person says nothing of what they are: «公司把我开除了» after 失业保险金申领
    kept = _cues().of_name(current.name) | _cues().of_query(state.topic_text or "") & _kinds(current)
    other = _found_clearly(parse, kb)
    ours = family(kb, current)
    if not kept or other is None or other.code in {x.code for x in ours} \
            or not all(_says_subject_of(text, other, m) for m in [current, *ours]):
        # (a word of a kind of request names no other subject: «换证» after 残疾人证新办; nor does a word a member of
        # our family is called by: «经营范围想加一项» after 个体工商户设立登记, said of 个体户变更经营范围)
        return None
    if kept & _kinds(other):
        return other if found_too else None
    same = {m.code: m for m in family(kb, other) if kept & _kinds(m)}
    return _best_member(nlu, f"{state.topic_text} {text}", text, same)[0] if same else None


def _a_related_word(parse: dict[str, Any], text: str, current: Any, kb: Any) -> bool:
    """Whether the search's best match is a matter the current one's card offers (not of its family) that the
    message does not call by a whole name: «需要公证不» after 不动产转移登记（继承） asks about the transfer."""
    other = _top(parse, kb)[0]
    if other is None or _WHAT_ABOUT.match(text) \
            or _HOW_TO.search(text) and _bigrams(text) & (_named_words(other) - _named_words(current)) \
            or _ASKS_FOR_IT.search(text) and other.code in _strong(parse):
        # «优待证咋办» after 退役报到 asks how to get the related matter itself, «那失业金呢» about it, «卖烟要办啥»
        # after 个体工商户设立登记 what else to get, «能贷款不» after 创业 whether one can have it (found strongly)
        return False
    return other.code in (getattr(current, "related", None) or []) \
        and other.code not in {x.code for x in family(kb, current)} and not called_by_name(text, other)


def _sibling_by_its_words(nlu: Any, text: str, topic_text: str, current: Any, members: dict[str, Any]) -> Any:
    """The member of the family a question asked after ``current`` finds first among them by words of its own —
    alone and read with the earlier question —, when ours shares no word with the question; else ``None``
    («能贷多少» after 住房公积金提取（购房）: 个人住房公积金贷款, by 贷). Not one of another kind of request when ours is
    done to what one has and the question says no kind: «许可证咋处理» after 医疗机构执业审批（注销） asks of the
    licence being given up, not of 新办, whose guide's words say 许可证 where the catalogue's 注销 says nothing."""
    alone = nlu.rank_among(text, list(members)) if len(members) > 1 else []
    ours = next((h for h in alone if h.code == current.code), None)
    if not alone or alone[0].code == current.code or ours is None \
            or not getattr(alone[0], "sparse", 0) > 0 or getattr(ours, "sparse", 0) > 0:
        return None
    picked = members.get(alone[0].code)
    if picked is None or after_getting(current) and not _cues().of_query(text) and _kinds(picked) != _kinds(current):
        return None
    both = nlu.rank_among(f"{topic_text} {text}", list(members))
    return picked if both and both[0].code == alone[0].code else None


def _same_act_in_another_field(parse: dict[str, Any], text: str, current: Any, kb: Any,
                               both: Callable[[], dict[str, Any]]) -> Any:
    """The same kind of request in another department's field, asked after a matter in that field's words: «公司注销
    了 → 社保那边咋办» finds 社会保障卡申领 alone (人社), and, read with the question, 企业注销社会保险登记 — of 人社, of
    our kind (注销), for firms as ours is, and called by 社保: that one. Else ``None``."""
    other = _top(parse, kb)[0]
    kinds = _kinds(current)
    if other is None or not kinds or _same_department(other, [current]) or not getattr(other, "department", "") \
            or _WHAT_ABOUT.match(text):
        return None  # («那护照呢» after 居住证办理 asks about the matter it names)
    words = _bigrams(text) - _kind_words()
    for h in (both().get("matters") or [])[:3]:
        m = kb.get(str(h.get("code")))
        if m is not None and m.code not in {current.code, other.code} and _same_department(m, [other]) \
                and _kinds(m) & kinds and _for_firms(m) == _for_firms(current) and words & _named_words(m) \
                and float(h.get("score") or 0) >= MATTER_SCORE:
            return m
    return None


def _fits_better(parse: dict[str, Any], text: str, current: Any, members: dict[str, Any], state: DialogueState,
                 kb: Any, nlu: Any, both: Callable[[], dict[str, Any]] | None = None) -> bool:
    """Whether the search's best match for the message is a matter outside ``members`` that it does not call by a
    whole name, and the current matter fits the earlier question with the message at least as well as that one
    fits the message alone, or — a statement found by meaning alone, by no word of the other's names — is the one
    matter the two read together name clearly («在厂里把手弄伤了» → 工伤认定申请, then «老板不认», alone 劳动保障监察投诉
    举报: together, 工伤认定申请). ``both``: the parse of the two read together, when the caller has one (:func:`_reader`)."""
    other, score = _top(parse, kb)
    if other is None or other.code in members or called_by_name(text, other):
        return False
    both = both or _reader(nlu, state.topic_text, text)
    if _bigrams(text) & (_named_words(other) - _named_words(current)):
        # a word of the other's name, not ours, that the two messages read together name it by clearly («打印一份»
        # after «我要查社保缴费记录»: 个人参保证明查询打印, not 参保人员参保信息查询)
        together = _one_together(nlu, state.topic_text, text, kb, both())
        if together is not None and str(together.get("code")) == other.code:
            return False
    if _fit(nlu, f"{state.topic_text} {text}", current) >= score:
        return True
    said = _bigrams(text)
    if len(_CJK.findall(text)) <= _SHORT_QUESTION + 2 and not what_about(text) \
            and said & (_named_words(current) | _bigrams(getattr(current, "department", "") or "")) \
            and not said & (_named_words(other) - _named_words(current)):
        # a short question or statement in a word of ours (or of our department's) and none of the other's own:
        # «要去民政登记不» after 社会团体成立登记 (登记管理机关：民政部门), not 民办非企业单位成立登记, which the search
        # finds by meaning; «去香港» after 往来港澳通行证签注 (called 香港签注), not 前往港澳通行证（赴港澳定居）
        return True
    if QUESTION.search(text) or said & _named_words(other) - _WHO_WORDS:
        # (a question, or a word of its names said: «消防要办啥» after «我准备开个火锅店» asks about 消防安全检查,
        # «有没有人帮忙填表» after 老年证 about 帮办代办; not who it is about: «孩子是在外地医院生的» after 出生登记
        # says 孩子 of 生育医疗费支付's «生孩子医疗费报销»)
        return False
    together = _one_together(nlu, state.topic_text, text, kb, both())
    return together is not None and str(together.get("code")) == current.code


def _best_member(nlu: Any, both_text: str, text: str, members: dict[str, Any]) -> tuple[Any, float]:
    """The member the earlier question plus the detail fits best, the detail counted twice (the earlier question
    chose the family, the detail is what tells the siblings apart), and its score for the two together;
    ``(None, 0.0)`` when none is scored. An empty ``text`` counts the two together only. A member arising in a
    case the two say nothing of (:func:`case_unsaid`) is not chosen while another is left."""
    said = {c: m for c, m in members.items() if not case_unsaid(both_text, m)}
    members = said or members
    both = {h.code: h.score for h in nlu.rank_among(both_text, list(members))}
    alone = {h.code: h.score for h in nlu.rank_among(text, list(members))} if text else {}
    if not both:
        return None, 0.0
    best = min(both, key=lambda c: (-(both[c] + alone.get(c, 0.0)), c))
    return members[best], both[best]


def _moved_together(both: dict[str, Any], kb: Any, current: Any) -> Any:
    """The matter a statement after ``current``, read with the question that brought it up (``both``: the parse of
    the two together), names clearly (found well, by the NLU's own decision) while ``current`` falls below a
    look-alike's score: «我在外地交了几年社保» → 达到法定退休年龄缴费不满15年社保权益申请, then «现在回成都了» → 企业职工
    基本养老保险关系转移接续申请; else ``None``."""
    hit = _one_matter(both)
    if hit is None or float(hit.get("score") or 0) < MATTER_SCORE or hit.get("code") == current.code \
            or any(h.get("code") == current.code and float(h.get("score") or 0) >= LOOK_ALIKE_SCORE
                   for h in both.get("matters") or []):
        return None
    return kb.get(str(hit.get("code")))


def _phrased_by_ours(text: str, current: Any, naming: dict[str, Any]) -> bool:
    """Whether the words of ``text`` that name the ``naming`` matters — of a subject, not a kind of request («挂失»,
    «预约» tell siblings apart) — are all said in ``current``'s own phrasings (its colloquial questions and examples)."""
    said = _bigrams(text) & set().union(*(_named_words(m) for m in naming.values()))
    if said & _kind_words():
        return False
    ours = _bigrams(" ".join([*getattr(current, "colloquial", []), *getattr(current, "examples", [])]))
    return bool(said) and said <= ours


def _told_apart(text: str, current: Any, members: dict[str, Any]) -> dict[str, Any]:
    """The ``members`` that are ``current`` with what ``text`` adds, when the new words are words of each of them
    alike: those called by a whole name of ``current`` («要预约不» after 中国内地公民婚姻登记, also called 结婚登记:
    结婚登记预约, not 离婚登记预约, whose own questions say «离婚要预约不» more closely). Otherwise all of them."""
    said = [_bigrams(text) & _named_words(m) for m in members.values()]
    if len(said) < 2 or not said[0] or any(s != said[0] for s in said):
        return members
    names = [n for n in (current.name, *current.aliases) if len(n) >= 3]
    told = {c: m for c, m in members.items() if c != current.code
            and any(n in x for n in names for x in (m.name, *m.aliases))}
    return told if told and len(told) < len(members) else members


def _naming_members(text: str, current: Any, members: dict[str, Any], kb: Any,
                    parse: dict[str, Any] | None = None) -> dict[str, Any]:
    """The members of ``current``'s family called by a word of ``text`` that ``current`` is not called by, and —
    unless the question asks whether one is needed («需要公证不» after 不动产继承 asks about the transfer, not for
    公证) — the other members (the related matters its card offers) too, with ``parse`` (the callers let ours
    compete with them): «公积金能用不» after 不动产转移登记 asks about 住房公积金提取（购房）."""
    words = _bigrams(text) - _named_words(current)
    own = {x.code for x in family(kb, current)}
    naming = {c: m for c, m in members.items() if c != current.code and words & _named_words(m)}
    need = _NEEDED.search(text)
    if parse is None or not need:
        return {c: m for c, m in naming.items() if c in own or parse is not None}
    # (the one related matter said before what is needed, that the question finds itself, is what it is needed for:
    # «认定要体检不» after 教师资格证相关政策咨询 asks about 教师资格认定; «抚恤那个待遇要年年认证吗» after 工伤认定申请
    # finds other 待遇 than 伤残待遇申领's)
    subject = _bigrams(text[:need.start()]) & words
    found = {str(h.get("code")) for h in (parse.get("matters") or [])[:3]}
    said = [c for c, m in naming.items() if c not in own and c in found and subject & _named_words(m)]
    return {c: m for c, m in naming.items() if c in own or said == [c]}


def _kind_named_member(text: str, parse: dict[str, Any], current: Any, members: dict[str, Any]) -> Any:
    """The one of ``members`` whose name says a kind of request ``text`` says in its very words, not ours: «挂失那个»
    after 社会保障卡补领 (挂失 and 补领 are both of the kind «reissue», which alone tells neither apart); else ``None``
    («办个继承公证» after 公证业务预约办理 names ours last: a 公证)."""
    said = {w for w in _kind_name_words() if w in text and w not in current.name}
    naming = [m for m in members.values() if m.code != current.code and any(w in m.name for w in said)] \
        if said else []
    return naming[0] if len(naming) == 1 and not _names_ours(text, parse, current, naming[0]) else None


def _asks_only_a_kind(text: str) -> bool:
    """Whether a «那X呢» asks about nothing but a kind of request, said in a query cue's words («要是改名字呢»,
    «不开了呢»): about that kind of the conversation's matter, whatever else those words find."""
    asked = what_about(text)
    if not asked or not _cues().of_query(asked):
        return False
    for cue in _kind_query_words():
        asked = asked.replace(cue, "")
    return len(_AROUND_ASKED.sub("", asked)) <= 1


@lru_cache(maxsize=1)
def _kind_query_words() -> tuple[str, ...]:
    """The words a question says a kind of request by (the ``query`` cues), longest first."""
    return tuple(sorted({w for words in _cues().query_cues.values() for w in words}, key=len, reverse=True))


def _family_member_asked_about(text: str, current: Any, kb: Any) -> Any:
    """The one member of ``current``'s family whose name says what a «那X呢» asks about, word for word, where ours
    does not: «停业的呢» after 烟草专卖零售许可证新办 is 烟草专卖零售许可证停业, «迁移呢» after 残疾人证新办 is 残疾人证迁移
    (steps that are no kind of request of their own); else ``None``."""
    asked = _AROUND_ASKED.sub("", what_about(text))
    if len(asked) < 2 or asked in current.name:
        return None
    naming = [m for m in family(kb, current) if m.code != current.code and asked in m.name]
    return naming[0] if len(naming) == 1 else None


#: What a «那X呢» says around the thing asked about: pointing («那个», «的»: «停业的呢», «注销那个呢») or putting a
#: case («要是…», «如果…的话»: «要是改名字呢»).
_AROUND_ASKED = re.compile(r"^(那个|这个|要是|如果|假如|万一|那要是|那如果)|(的|那个|这个|的话|了)$")


def _only_a_guess(parse: dict[str, Any], current: Any) -> bool:
    """Whether the search's best match for the message is another matter found only weakly (below
    :data:`MATTER_SCORE`): a guess, not a matter the message names."""
    hits = parse.get("matters") or []
    return bool(hits) and hits[0].get("code") != current.code and float(hits[0].get("score") or 0) < MATTER_SCORE


def _fit(nlu: Any, text: str, m: Any) -> float:
    """The search score of ``m`` for ``text``."""
    hits = nlu.rank_among(text, [m.code])
    return hits[0].score if hits else float("-inf")


#: The most characters a plain yes or no takes («是的呀», «对的对的»); a longer «是…» says something more.
_YES_OR_NO_SIZE = 4
#: Who asks, before the framing of a question («我想咨询一下…»).
_ASKER = re.compile(r"^(我们|我|俺)(?=想)")
#: A detail said of what is on or in the conversation's thing («上面名字写错了», «证上的地址不对»).
_ON_IT = re.compile(r"^(那|这|它|证|证件|卡)?(上面|上头|里面|证上|卡上)")
#: What says a kind of request is not wanted («不补办，先挂失»), before the kind's words.
_NOT = r"(不是|不要|不用|不想|先不|暂不|没有|不)(办)?"


@lru_cache(maxsize=1)
def _not_kind() -> re.Pattern[str]:
    """A kind of request said not to be wanted: :data:`_NOT` before a word of :func:`_kind_name_words`."""
    words = sorted(_kind_name_words(), key=len, reverse=True)
    return re.compile(_NOT + "(" + "|".join(map(re.escape, words)) + ")")


def _kinds_not_wanted_out(text: str) -> str:
    """``text`` without the kinds of request it says it does not want («不补办，先挂失» → «，先挂失»)."""
    return _not_kind().sub(" ", text)


#: Characters that make a bigram no word of anyone's («她的», «的社»): particles and pronouns.
_PARTICLES = frozenset("的了着过她他它我你您们")


def _in_words_of_our_guide(parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether a question about the conversation's matter names another only by words our own guide speaks too:
    every word it shares with the search's best match's names is in our own texts, and it says no three characters of
    those names («在医院办还是在哪办» after 《出生医学证明》首次签发, whose guide speaks of 在医院生了娃儿). Used for where
    to go only: a question of materials or of the matter itself so read moved more than it mended («消防要检查不» after
    娱乐经营许可证 asks of 消防安全检查)."""
    current = kb.get(state.matter_code) if state.matter_code and not state.form else None
    other = _top(parse, kb)[0]
    text = str(parse.get("text") or "")
    if current is None or other is None or other.code == current.code \
            or any(text[i:i + 3] in n for n in [other.name, *other.aliases] for i in range(len(text) - 2)):
        return False  # (three characters of its names: «光荣证在哪办» after 独生子女父母奖励申领 names 独生子女父母光荣证办理)
    return _asked_in_our_words(text, current, other, own_word=False)


def _asked_in_our_words(text: str, current: Any, other: Any, own_word: bool = True) -> bool:
    """Whether a question — or a statement of one's situation — is said in the words of ``current``'s own guide
    (:func:`_own_texts`): every word it shares with ``other``'s names is there, and (with ``own_word``) so is a word
    of its own that ``other``'s names do not have («我在金牛区租房住» after 居住证办理, whose guide speaks of 在金牛区租房,
    is not 住房公积金提取（租房）)."""
    words = _bigrams(text)
    shared = words & _named_words(other) - _kind_words()  # (the words of its subject, not of a kind of request)
    own = _bigrams(_own_texts(current))
    if not shared or not shared <= own:
        return False
    rest = {w for w in words - _named_words(other) - _kind_words() if not set(w) & (_AROUND_PROCEDURE | _PARTICLES)}
    return not own_word or bool(rest & own)


def _called_within_ours(text: str, current: Any, other: Any) -> bool:
    """Whether the message says a part (3+ characters) of ``other``'s names, and every such part it says is in one
    name of ``current`` the message does not say whole, and it says no kind of request: the conversation says the
    rest of that name («怎么开完税证明» after «个人所得税» → 开具个人所得税纳税记录, called 个税完税证明, not 开具税收完税
    证明; «营业执照丢了» after 设立登记 says a kind, 补领)."""
    if _cues().of_query(text):
        return False
    theirs = [n for n in [other.name, *other.aliases] if n]
    ours = [n for n in [current.name, *current.aliases] if n and n not in text]
    parts = {text[i:j] for i in range(len(text)) for j in range(i + 3, len(text) + 1)
             if any(text[i:j] in n for n in theirs)}
    longest = [p for p in parts if not any(p != q and p in q for q in parts)]
    return bool(longest) and all(any(p in n for n in ours) for p in longest)


def _names_ours(text: str, parse: dict[str, Any], current: Any, other: Any) -> bool:
    """Whether the message names the current matter rather than ``other`` of its kin: a word only it is called by
    (not one said as unwanted: «不补办，先挂失» after 社会保障卡补领), and the search of the whole message does not
    rank ``other`` first or names ours last («办个继承公证» after 公证业务预约办理: 公证, though 继承 is the kind of
    不动产转移登记（继承）)."""
    text = _kinds_not_wanted_out(text)
    if not _bigrams(text) & (_named_words(current) - _named_words(other)):
        return False  # (a kind of request both are of says neither: «挂失那个» after 社会保障卡补领)
    order = [str(h.get("code")) for h in parse.get("matters") or []]
    if other.code not in order or (current.code in order and order.index(current.code) < order.index(other.code)):
        return True
    return _last_named(text, current, other)


def _last_named(text: str, m: Any, other: Any) -> bool:
    """Whether a word only ``m`` is called by comes after every word only ``other`` is called by: the head of a
    Chinese noun phrase comes last («遗产继承的公证» is a 公证, «公证完了办继承过户» a 继承)."""
    cjk = "".join(_CJK.findall(text))
    ours, theirs = _named_words(m) - _named_words(other), _named_words(other) - _named_words(m)
    last = {w: i for i in range(len(cjk) - 1) for w in [cjk[i:i + 2]]}
    mine = max((i for w, i in last.items() if w in ours), default=-1)
    return mine >= 0 and mine > max((i for w, i in last.items() if w in theirs), default=-1)


def _a_detail(text: str, current: Any) -> bool:
    """Whether a message is short enough to be a detail of the conversation's matter, or says a word of it."""
    return len(_CJK.findall(text)) <= _SHORT_QUESTION or bool(_bigrams(text) & _named_words(current))


#: The intents of a question about what to bring.
_MATERIAL_INTENTS = frozenset({"ask_materials", "precheck_materials"})


def _asks_about_material(parse: dict[str, Any], state: DialogueState, kb: Any) -> str | None:
    """``ask_materials`` when a question names one of the current matter's materials («要带死亡证明不» after 遗属待遇
    申领 is about what to bring, not the matter «非正常死亡证明») or a paper's original or copy («要户口本原件不» after
    婚姻登记, which no longer asks for it: its checklist says so), else ``None``. A question read as asking the place,
    time or fee keeps it («食品许可要多久» after 食品经营许可核发, though 食品经营许可申请书 is one of its materials)."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "")
    intent = parse["intent"]["name"]
    asks = QUESTION.search(text) or _COPIES.search(text)  # («复印件要几份»: how many, asked)
    if current is None or not asks or intent not in {*ASK_INTENTS, *SOFT_INTENTS} \
            or intent in DETAIL_INTENTS and intent != "ask_materials":
        return None
    other, score = _top(parse, kb)
    if _WHAT_ABOUT.match(text) and other is not None and other.code != current.code \
            and (score >= STRONG_SCORE or called_by_name(text, other, 3)):
        return None  # «那电子社保卡呢» after 社保卡补办 asks about 电子社会保障卡签发, not the card it asks you to bring
    if _CONTENT_CHANGES.search(text) and not MATERIAL_WORDS.search(text):
        return None  # «执照上的地址要改不» asks whether to change what the paper says, not whether to bring the paper
    if other is not None and other.code != current.code and score >= STRONG_SCORE and not MATERIAL_WORDS.search(text) \
            and len(_bigrams(text) & (_bigrams(other.name) - _named_words(current)) - _kind_words()) >= 2:
        return None  # («消防要检查不» after 娱乐经营许可证核发 asks of 消防安全检查, found strongly by two words of its name,
        # not whether its paper, 消防安全检查相关证明, is to be brought; «认定要体检不» says one word of 预防性体检合格证;
        # «营业执照要换不» after 公司变更登记 none of 证照遗失补领、换发申请's name, only of its aliases)
    if other is not None and other.code != current.code and _names_procedure(text, other, current):
        return None  # («那税务注销要带些啥子» after 公司注销登记 asks what 税务注销即时办理 wants, not about its 清税 paper)
    if other is not None and other.code != current.code and score >= MATTER_SCORE \
            and any(len(t) >= _DE_PUT_IN_FROM and says_term(text, t) for t in [other.name, *other.aliases]) \
            and _TO_GET_IT.search(text):
        return None  # («那个亲属关系的证明，开的话要带些啥子» after 注销户口证明 asks what getting 亲属关系证明 takes)
    return "ask_materials" if _names_material(text, current) or _COPIES.search(text) or _ORIGINAL.search(text) \
        else None


#: Getting a paper asked about («开的话», «去办»), not bringing it.
_TO_GET_IT = re.compile(r"开|办|申请|补")
#: A name that is of a paper, not of something done («死亡证明», «结婚证», «体检表»).
_PAPER_NAME = re.compile(r"(证明|证书|证|表|单|书|照|卡|本)$")


def _names_procedure(text: str, other: Any, current: Any) -> bool:
    """Whether ``text`` calls ``other`` by a name or alias of four characters or more that is of something done, not
    of a paper, and that none of ``current``'s names say («税务注销» of 税务注销即时办理 after 公司注销登记)."""
    ours = " ".join([current.name, *current.aliases])
    return any(len(t) >= 4 and t in text and t not in ours and not _PAPER_NAME.search(t)
               for t in [other.name, *other.aliases])


#: How many copies or photos («要几张照片», «复印几份»): what to bring, which the checklist says.
_COPIES = re.compile(r"(几|多少)(张|份|寸|页)")
#: An original or a copy of a paper («要户口本原件不»): a thing to bring, whatever paper it is.
_ORIGINAL = re.compile(r"原件|复印件|正本|副本")
#: What the matter is for, said of it («开餐馆用的», «出国要用», «拿去贷款用»).
_PURPOSE = re.compile(r"(用的|要用|拿去用|拿来用|去用)[。!！的]?$|^(用来|拿来|拿去)")
#: What a material's name may end with besides what it is of: «体检表», «体检合格证明» are of a 体检.
_PAPER = re.compile(r"(合格)?(证明|表|单)$")


def _names_material(text: str, m: Any) -> bool:
    """Whether ``text`` names one of ``m``'s materials (its name or an alias, whole or by two of its words — not of
    ``m``'s names, unless bringing is asked —, or what it is the paper of, when that is asked to be done: «要体检不»
    names 体检表; «收入多少才能办» asks no 收入证明)."""
    words = _bigrams(text)
    if not MATERIAL_WORDS.search(text):
        # (unless bringing is asked, the matter's own words name it, not its paper: «食品许可证好久到期» after a
        # restaurant is about 食品经营许可延续, not its material 食品经营许可证正副本)
        words -= _named_words(m)
    for material in getattr(m, "materials", None) or []:
        names = [getattr(material, "name", ""), *(getattr(material, "aliases", None) or [])]
        if any(len(n) >= 2 and (n in text or len(_bigrams(n) & words) >= 2) for n in names):
            return True
        of = {_PAPER.sub("", n) for n in names if _PAPER.search(n)}
        if any(len(w) >= 2 and re.search(f"(要|需要|得)先?{re.escape(w)}", text) and not _bigrams(w) & _kind_words()
               for w in of):
            return True
    return False


def _option_by_material(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The one offered option whose materials a question about what to bring names (of several or none, the one
    it finds far ahead of the others), else ``None``: «要带护照不» after the options for «我们想去领证» is about 涉外、涉港澳台
    居民及华侨婚姻登记, the one that asks for a 护照."""
    text = str(parse.get("text") or "")
    # (read by its words too: «要带护照不» names 普通护照签发, so the classifier's reading is a matter question)
    if not state.candidates or state.matter_code or not QUESTION.search(text) \
            or parse["intent"]["name"] not in _MATERIAL_INTENTS and not MATERIAL_WORDS.search(text):
        return None
    having = [o for o in offered(state, kb) if _names_material(text, o)]
    if len(having) == 1:
        return having[0]
    # (several ask for it, or none: the one the question itself finds well, far ahead of the others — «要带户口本不»
    # after the options for «我们想去领证» finds 中国内地公民婚姻登记 by meaning, though no guide asks for a 户口本 now)
    scores = {str(h.get("code")): float(h.get("score") or 0) for h in parse.get("matters") or []}
    ranked = sorted(having or offered(state, kb), key=lambda o: scores.get(o.code, -MEANING_APART), reverse=True)
    if len(ranked) > 1 and scores.get(ranked[0].code, 0.0) >= MATTER_SCORE \
            and scores[ranked[0].code] - scores.get(ranked[1].code, -MEANING_APART) >= MEANING_APART:
        return ranked[0]
    return None


def _detail_asked(parse: dict[str, Any], state: DialogueState, kb: Any, strong: list[str]) -> str | None:
    """The detail («好久拿得到»: the time) a message asks about the conversation's matter, when the classifier
    nearly read it as that detail and the matter it found instead is only a guess: not a strong match and not
    called by any of the message's words (or it understood nothing of a short question that finds no matter)."""
    intent = parse["intent"]["name"]
    text = str(parse.get("text") or "")
    finds_nothing = _top(parse, kb)[1] < MATTER_SCORE
    if intent not in {"ask_matter", "nlu_fallback", "out_of_scope"} or not state.matter_code \
            or intent == "nlu_fallback" and not (short_question(text) and finds_nothing) \
            or intent == "out_of_scope" and not (finds_nothing and QUESTION.search(text) and (
                _MUST_ATTEND.search(text) and short_question(text)
                or (_STILL_CAN.search(text) or _CONSEQUENCE.search(text))
                and len(_CJK.findall(text)) <= _SHORT_QUESTION + 6)):
        # (not understood, a short question that finds nothing asks about ours: «要本人去不»; read as out of scope,
        # one asking who must go does — «房东要去不» after 居住证 —, one asking whether it still can be done —
        # «超过一个月了还能上不» after 户口登记 — and one asking what follows: «会罚款不» after 年报)
        return None
    current = kb.get(state.matter_code)
    if current is not None and _only_our_words(text, current, strong, kb):
        return _near_detail(parse) or "ask_matter"  # «要预约吗» after 离婚登记预约: its words, none of 结婚登记预约's own
    if strong:
        return None
    other = _top(parse, kb)[0]
    if other is None and intent != "ask_matter":
        return _near_detail(parse) or "ask_matter"  # (a short question that finds no matter at all)
    if other is None or other.code == state.matter_code or _bigrams(text) & _named_words(other):
        return None
    if short_question(text):
        return _near_detail(parse) or "ask_matter"  # «条件是啥», «要体检不»: too short to bring up another matter
    return _near_detail(parse)


def _what_about_together(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """«X呢» after a matter, for which the search alone finds nothing («小作坊呢», read as small talk, after «食品经营
    许可证要带啥»): the matter the earlier question read with X names clearly, when X says a word of its names that
    ours is not called by (食品小作坊备案发放); else ``None``."""
    what = what_about(str(parse.get("text") or ""))
    current = kb.get(state.matter_code) if state.matter_code and not state.form else None
    if not what or current is None or nlu is None or not state.topic_text or parse.get("matters"):
        return None
    hit = _one_matter(nlu.parse(f"{state.topic_text} {what}"))
    other = kb.get(str(hit.get("code"))) if hit is not None else None
    if other is None or other.code == current.code \
            or not _bigrams(what) & (_named_words(other) - _named_words(current)):
        return None
    return _with_matter(parse, "ask_matter", other.code, other.name, "what_about_together")


def _read_together(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any,
                   strong: list[str]) -> dict[str, Any] | None:
    """A question right after a message no matter was found for («我想养条狗», «我是自由职业», «住院花了好多钱»:
    :attr:`DialogueState.said_before`): the two read together, when together they name one matter clearly — and,
    when the question names a matter by its words («养老保险咋个交»), one the question found too; else ``None``. A
    question that calls a matter by a whole name or alias is clear on its own."""
    intent = parse["intent"]["name"]
    text = str(parse.get("text") or "")
    # (a kind of procedure names none, in no conversation about a matter: «要审批不» after «挖路接管道» finds 设置大型
    # 户外广告的审批 strongly, by 审批; after a matter's card, «要啥许可» is about that matter)
    words = _bigrams(text if state.matter_code else _PROCEDURE.sub(" ", text))
    found = [m for m in map(kb.get, strong) if m is None or words & _named_words(m)]
    earlier = _together_with(parse, state, kb)
    called = [m for m in found if m is None or called_by_name(text, m, 3)]
    if nlu is None or called and (None in called or state.matter_code or state.candidates) \
            or state.form or not earlier \
            or not (intent in ASK_INTENTS or intent in {"out_of_scope", "nlu_fallback"} and QUESTION.search(text)):
        return None
    both = nlu.parse(f"{earlier} {text}")  # (read once, for each use below)
    hit = _one_together(nlu, earlier, text, kb, both)
    if called:
        # a question that calls a matter by a whole name is clear on its own, unless the message before, placed
        # nowhere, tells which of its kin: «我老公是越南人 → 我们想在成都登记结婚» is 涉外婚姻登记, not 内地's
        variant = kb.get(str(hit.get("code"))) if hit is not None else None
        if variant is None or any(variant.code == m.code or variant.code not in kin(kb, m) for m in called):
            return None
        return {**_with_matter(parse, _asked(intent), variant.code, variant.name, "together"), "read_with": earlier}
    if hit is None and parse.get("interpreted") == "which_to_get" and parse.get("ambiguous"):
        # which procedures to get, asked of what was told just before and found by meaning alone («孩子满月了 → 要办
        # 哪些证»: business licences): the options the two read together find (出生登记, 出生医学证明 …)
        if both.get("matters") and not both.get("out_of_scope"):
            return dict(both, text=text, intent=parse["intent"], intent_ranking=[parse["intent"]], ambiguous=True,
                        interpreted="together", read_with=earlier)
    if hit is None and both.get("out_of_scope") and not found and not state.matter_code:
        # (out of scope read together, though the question alone finds matters: the earlier message tells which of
        # them — «我儿子上初中» → «要从外地转过来» finds 住房公积金异地转移接续 first; read with it, of those four,
        # 义务教育阶段学生学籍异动办理, far ahead)
        hit = _told_by_earlier(nlu, f"{earlier} {text}", parse)
    # (what the question names: its strong matches in its words, else its best match when in its words — «她的社保卡
    # 要注销吗» after «我妈上个月走了» stays with 社保卡, not 户口注销 which the two together find)
    top = _top(parse, kb)[0]
    named = found or [top] if top is not None and words & _named_words(top) else found
    own = {str(h.get("code")) for h in (parse.get("matters") or [])[:5]}
    if hit is not None and named and hit.get("code") == state.matter_code and hit.get("code") not in own \
            and not _same_department(kb.get(state.matter_code), named):
        # the situation told finds the matter answered already; a question about someone in it that names another
        # department's field asks for that field's matter («我老汉儿走了» → 户口注销, then «他的社保咋处理»: 遗属待遇
        # 申领 or the pension's 注销, which the two together find next, not 缴费不满15年, which «社保» alone finds;
        # «准备退休了去云南住» → 异地安置退休人员备案, then «医保咋办» stays on it)
        hit = _in_field_together(both, kb, named, state.matter_code)
    office = office_said(text)
    if hit is None or named and hit.get("code") not in own \
            and not _same_department(kb.get(str(hit.get("code"))), named) \
            and not (office and getattr(kb.get(str(hit.get("code"))), "office", "") == office):
        # (a question in the words of a whole domain — «医保咋办» after «退休了要去海南养老» — takes any of its
        # department's matters: 异地安置退休人员备案, found together, not by «医保» alone; unless the question names
        # the office of the one found together: «我们公司要裁员 → 要去人社局报告不» is 企业经济性裁员报告, not the tax
        # reports «报告» alone finds)
        return None
    if _DESCRIBES_SELF.match(earlier.strip()) and (not named and hit.get("code") not in own
                                                   or _only_by_earlier(text, earlier, kb.get(str(hit.get("code"))))):
        # (who the person is qualifies what they ask, it is not the subject: «我是香港人 → 想在成都买房» is no
        # 前往港澳通行证, which the two together find by 港 alone; «我是盲人 → 想申请个盲杖» is no 盲人保健按摩培训,
        # called by 盲人 alone; «我是兽医 → 想开个宠物医院» no vet's 执业注册)
        return None
    offered = {x.code for m in map(kb.get, state.candidates) if m is not None for x in family(kb, m)}
    if str(hit.get("code")) in offered and _about_another(text, _top(parse, kb)[0], offered):
        return None  # «那医保呢» after the options for «社保卡咋办» asks about 医保, not one of them
    asked = _asked(intent)
    out = _with_matter(parse, asked, str(hit["code"]), str(hit.get("name") or ""), "together")
    out["read_with"] = earlier  # (the question that brings up the matter is the two together)
    return out


def _told_by_earlier(nlu: Any, both_text: str, parse: dict[str, Any]) -> dict[str, Any] | None:
    """Of a question's first four matches, the one the earlier message and the question read together
    (``both_text``) fit far better than the others (by half of :data:`MEANING_APART`), when it is not the question's
    own first; else ``None``."""
    codes = [str(h.get("code")) for h in (parse.get("matters") or [])[:4]]
    ranked = nlu.rank_among(both_text, codes) if len(codes) >= 2 else []
    if len(ranked) < 2 or ranked[0].code == codes[0] or ranked[0].score < LOOK_ALIKE_SCORE \
            or ranked[0].score - ranked[1].score < MEANING_APART / 2:
        return None
    name = next((str(h.get("name") or "") for h in parse["matters"] if str(h.get("code")) == ranked[0].code), "")
    return {"code": ranked[0].code, "name": name, "score": ranked[0].score}


def _in_field_together(both: dict[str, Any], kb: Any, named: list[Any], skip: str) -> dict[str, Any] | None:
    """The best of the three matters ``both`` (the parse of two messages read together) finds first, other than
    ``skip``, that is of the department of every one of ``named``; ``None`` when none is."""
    for h in (both.get("matters") or [])[:3]:
        m = kb.get(str(h.get("code")))
        if m is not None and m.code != skip and _same_department(m, named):
            return {"code": m.code, "name": m.name, "score": float(h.get("score") or 0)}
    return None


def _only_by_earlier(text: str, earlier: str, matter: Any) -> bool:
    """Whether ``matter`` is called by words of the earlier message and by none of the question's."""
    words = _named_words(matter) if matter is not None else set()
    return bool(_bigrams(earlier) & words) and not _bigrams(text) & words


def _another_field(text: str, state: DialogueState, kb: Any) -> bool:
    """Whether a «那X呢» after options asks about another field: the question of the options said nothing but words
    of their names («户口的问题»), and X says none of them («那社保呢»). After a situation («我退休了想去三亚养老»),
    X is an aspect of it («那医保呢»)."""
    names = set().union(*(_named_words(m) for m in map(kb.get, state.candidates) if m is not None))
    asked = _bigrams(strip_frame(state.topic_text or ""))
    return bool(asked) and asked <= names and not _bigrams(what_about(text)) & names


def _same_department(matter: Any, found: list[Any]) -> bool:
    """Whether ``matter`` is of the office every one of ``found`` is of (its department however written: «区人社局»
    is «金牛区人力资源和社会保障局»)."""
    office = getattr(matter, "office", "") or ""
    return bool(office) and all(getattr(m, "office", None) == office for m in found)


def _together_with(parse: dict[str, Any], state: DialogueState, kb: Any) -> str:
    """The earlier message a question is read with: the one placed nowhere just before, or — after options, only
    when the question alone is ambiguous too («研究生毕业了» → options, «想把户口落在成都» → options) — the question
    that brought them up, or — after a matter, only for a «那X呢» placed nowhere alone — the question that brought
    the matter up; ``""`` when none."""
    if state.candidates:  # (ambiguous, or two unrelated best matches as close as the list of options takes, or
        # a «那X呢» — X in the situation told: «我退休了想去三亚养老» → options → «那医保呢»)
        hits = [float(h.get("score") or 0) for h in (parse.get("matters") or [])[:2]]
        close = len(hits) == 2 and hits[0] - hits[1] <= 2 * SIBLING_GAP
        what_about = bool(_WHAT_ABOUT.match(str(parse.get("text") or ""))) \
            and not _another_field(str(parse.get("text") or ""), state, kb)
        # (or options for who the person is or their situation, told: «我是外地户口», «户口在外地» → options →
        # «孩子在金牛读小学» is about the child of someone not from here, 随迁子女入学, not any child's 入学)
        # (or what happened to them, told: «退休了» → options → «公积金能取不» is 住房公积金提取（退休）)
        topic = state.topic_text or ""
        who = not QUESTION.search(topic) and not _WHAT_ABOUT.match(str(parse.get("text") or "")) and (
            bool(_DESCRIBES_SELF.match(topic)) or not _WANTS_TO.search(topic) and len(_CJK.findall(topic)) > 4
            or bool(EVENT_TOLD.search(topic)))
        return state.topic_text if parse.get("ambiguous") or close or what_about or who else ""
    if state.matter_code:  # «那卖烟的呢», placed nowhere alone, after 个体工商户设立登记 for «打算开个便利店»
        text = str(parse.get("text") or "")
        unplaced = parse["intent"]["name"] in {"out_of_scope", "nlu_fallback"}
        # (or, after the situation told, a «那X呢» — «我退休了想去三亚养老» → «那医保呢» — or a question about someone
        # in it by a pronoun — «我爸去世了» → «他的养老金咋办» — or one alone answered with options: «医保咋办»)
        current = kb.get(state.matter_code)
        # (a situation told, not the matter asked for by its name: «社保卡补办» → «那电子社保卡呢» is read alone)
        # (nor a kind of request alone: «新办» after «残疾证» tells nothing of the person)
        told = not QUESTION.search(state.topic_text or "") and not (
            current is not None and called_by_name(state.topic_text or "", current, 3)) \
            and bool(_bigrams(state.topic_text or "") - _kind_words())
        # (options of another field: «能取不» after 住房公积金提取（偿还住房贷款） is answered within its family)
        options_elsewhere = bool(parse.get("ambiguous")) and bool(QUESTION.search(text)) and current is not None \
            and not {str(h.get("code")) for h in (parse.get("matters") or [])[:3]} & set(kin(kb, current))
        about_them = told and (bool(_THEM.search(text)) or options_elsewhere)
        return state.topic_text if (unplaced or told) and _WHAT_ABOUT.match(text) or about_them else ""
    return state.said_before


def _for_people(matter: Any) -> bool:
    return matter is not None and list(getattr(matter, "service_object", None) or []) == ["自然人"]


def _for_firms(matter: Any) -> bool:
    """Whether ``matter`` serves firms and no one as a person (its service objects, or its name when none are given:
    企业经济性裁员报告)."""
    served = list(getattr(matter, "service_object", None) or [])
    return matter is not None and "自然人" not in served and bool(served or _FIRM_WORDS.search(matter.name))


#: The codes of the matters of a kind (for people, taking up a grievance), per kind, for the last KB seen.
_CODES_OF: dict[str, tuple[Any, list[str]]] = {}


def _codes_of(kb: Any, kind: str, keep: Callable[[Any], bool]) -> list[str]:
    """The codes of ``kb``'s matters that ``keep``, listed once per KB for ``kind``."""
    seen = _CODES_OF.get(kind)
    if seen is None or seen[0] is not kb:
        seen = _CODES_OF[kind] = (kb, [m.code for m in kb.matters if keep(m)])
    return seen[1]


def _happened_to_person(parse: dict[str, Any], kb: Any, nlu: Any) -> dict[str, Any] | None:
    """Something done to the person («我被裁员了», «公司把我辞退了») whose best match serves firms only (企业经济性
    裁员报告, 公司注销登记): the matter for people it finds best among theirs, when it finds one as well as the NLU
    finds a matter at all (失业登记); else ``None``."""
    text = str(parse.get("text") or "")
    if nlu is None or not _HAPPENED_TO_ME.search(text) or not _for_firms(_top(parse, kb)[0]):
        return None
    best = next(iter(nlu.rank_among(text, _codes_of(kb, "people", _for_people), 1)), None)
    if best is None or best.score < nlu.calibration.oos_threshold:
        return None
    return _with_matter(parse, "ask_matter", best.code, best.name, "happened_to_person")


#: An employer who wrongs the person («单位不给我交社保», «老板拖欠工资», «公司没签合同就把我开除了»); the speaker's
#: own firm («我们单位欠缴社保») only when the wrong is done to them («我们公司拖欠我工资»).
_WRONGED_AT_WORK = re.compile(r"(?P<own>我们|我|本)?(单位|公司|老板|厂里|工厂|用人单位|包工头|工地|雇主)[^，,。！!？?]{0,6}?"
                              r"(不给|没给|不发|没发|拖欠|欠|克扣|扣|不签|没签|不买|没买|不交|没交|不缴|没缴|不赔|辞退|开除)"
                              r"(?P<rest>[^，,。！!？?]*)")
#: The person speaking for the employer («我们公司有个员工…»), and what it does to an employee («…不给他交社保»).
_EMPLOYER_SPEAKS = re.compile(r"我们(?:公司|单位|厂|店)(?:有个|有一个|有几个|的)?(?:员工|职工|工人)|我是(?:公司|单位)的?(?:人事|行政|会计|老板)")
_TO_AN_EMPLOYEE = re.compile(r"(?:他|她|他们|她们|员工|职工)")
#: A guide's conditions foreseeing that the employer does not do its part («单位未申请的，职工…可在1年内申请»).
_EMPLOYER_FAILS = re.compile(r"单位(未|不|没有)")
#: The matters that take up a grievance (a complaint, a report, an arbitration, a mediation).
_GRIEVANCE = re.compile(r"投诉|举报|仲裁|监察|调解|纠纷")


def _takes_up_grievance(matter: Any) -> bool:
    return bool(_GRIEVANCE.search(matter.name))


def _wronged_at_work(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """An employer's wrong told («单位不给我交社保»: the search finds 参保 matters by «社保») whose best match takes
    up no grievance and is not called by a whole name: the grievance matter it fits best (劳动保障监察投诉举报,
    劳动人事争议仲裁申请), when one fits as well as the NLU finds a matter at all; else ``None``. In a conversation
    about a matter whose guide foresees the employer not doing its part, that matter."""
    text = str(parse.get("text") or "")
    wrong = _WRONGED_AT_WORK.search(text)
    if nlu is None or state.form or wrong is None or _HAPPENED_TO_ME.search(text) \
            or wrong.group("own") and "我" not in wrong.group("rest"):
        return None
    if _EMPLOYER_SPEAKS.search(f"{state.topic_text or ''} {state.said_before} {text}") \
            and _TO_AN_EMPLOYEE.match(wrong.group("rest")):
        return None  # («我们公司有个员工月底离职了 → 公司就不给他交社保了，要去把他减掉»: the firm's own step)
    top = _top(parse, kb)[0]
    if top is not None and (_takes_up_grievance(top) or called_by_name(text, top, 3)):
        return None
    asked = _asked(parse["intent"]["name"])
    current = kb.get(state.matter_code) if state.matter_code else None
    if current is not None and _EMPLOYER_FAILS.search(" ".join(current.conditions)) and not _strong(parse):
        # «公司不给报» after 工伤认定申请, whose guide says who applies when the employer does not: still that matter
        return _with_matter(parse, asked, current.code, current.name, "employer_foreseen")
    best = next(iter(nlu.rank_among(text, _codes_of(kb, "grievance", _takes_up_grievance), 1)), None)
    if best is None or best.score < nlu.calibration.oos_threshold:
        return None
    return _with_matter(parse, asked, best.code, best.name, "wronged_at_work")


def _paying_asked(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """A question for money one receives («盲人有啥补贴») whose best match pays nothing (盲人保健按摩培训申请) while one
    of the next two does and may be what it meant (:data:`LOOK_ALIKE_SCORE`): that one (困难残疾人生活补贴); else
    ``None``."""
    text = str(parse.get("text") or "")
    top = _top(parse, kb)[0]
    if not _ASKS_PAY.search(text) or top is None or _PAYS.search(top.name) or called_by_name(text, top):
        return None
    for h in (parse.get("matters") or [])[1:3]:
        m = kb.get(str(h.get("code")))
        if m is not None and _PAYS.search(m.name) and float(h.get("score") or 0) >= LOOK_ALIKE_SCORE:
            return _with_matter(parse, _asked(parse["intent"]["name"]), m.code, m.name, "pays")
    return None


def _content_changed(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """What is written on a certificate to be changed («营业执照上的法人要换»): when the best match is not of that
    certificate (no word of it: «身份证上的地址要改» finds 个体工商户变更登记), the first of the message's first five
    matches that is (居民身份证办理); when it reissues or renews the certificate itself (证照遗失补领、换发申请), the
    matters of changing it among them (a score of at least 0) — the one, else those to choose from; else ``None``."""
    text = str(parse.get("text") or "")
    said = _CONTENT_CHANGES.search(text)
    hits = (parse.get("matters") or [])[:5]
    top = kb.get(str(hits[0].get("code"))) if hits else None
    if said is None or top is None:
        return None
    doc = _bigrams(said.group("doc"))
    if not doc & _named_words(top):
        of_doc = next((m for m in map(kb.get, (str(h.get("code")) for h in hits[1:]))
                       if m is not None and doc & _named_words(m)), None)
        return _with_matter(parse, "ask_matter", of_doc.code, of_doc.name, "content_changed") if of_doc else None
    if "change" in _kinds(top) or not _kinds(top) & {"reissue", "renew"}:
        return None
    changes = [m for m, h in ((kb.get(str(h.get("code"))), h) for h in hits[1:])
               if m is not None and "change" in _kinds(m) and float(h.get("score") or 0) >= 0]
    if not changes:
        return None
    if len(changes) == 1:
        return _with_matter(parse, "ask_matter", changes[0].code, changes[0].name, "content_changed")
    out = dict(_as_intent(parse, "ask_matter", "content_changed"), ambiguous=True, out_of_scope=False, entities=[])
    out["matters"] = [{"code": m.code, "name": m.name, "score": 1.0} for m in changes[:3]]
    return out


def _done_to_what_one_has(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """A kind of request done to what one has, asked («个体户执照搞丢了»: reissued), when the best match gets the
    thing new (个体工商户设立登记) and one of the next two is of that kind, fits the question well on its own
    (:data:`MATTER_SCORE`) and is called by a word of the question besides the kind's (执照: 证照遗失补领、换发申请):
    that one; else ``None``."""
    text = str(parse.get("text") or "")
    asked = _cues().of_query(text) & _AFTER_GETTING
    found = _first_matches(parse, kb)
    if not asked or not found or found[0] is None or _kinds(found[0]) & asked:
        return None
    words = _bigrams(text) - _kind_words()
    for m, h in zip(found[1:] if not _kinds(found[0]) - {"new"} else [], (parse.get("matters") or [])[1:3]):
        if m is not None and _kinds(m) & asked and float(h.get("score") or 0) >= MATTER_SCORE \
                and words & _named_words(m):
            return _with_matter(parse, _asked(parse["intent"]["name"]), m.code, m.name, "kind_of_what_one_has")
    # (the one member of the best match's own family of that kind, however low the search put it, when the question
    # calls the family by a word besides the kind's — of that member's names or the best match's: a catalogue entry
    # with no guide scores little beside its family's guided member — «我们派遣公司不做了»: 劳务派遣经营许可注销, not
    # 经营劳务派遣业务…许可; «诊所不开了»: 医疗机构执业审批（注销）, 诊所 being the new one's alias; «宾馆的卫生许可证找不
    # 到了»: 公共场所卫生许可遗失补办, not 延续 or 新办 found first. Not when the kind's words tell the best match's own
    # situation: «我爸去世了» of 遗属待遇申领)
    if _own_situation(text, found[0]) or not words & _named_words(found[0]):
        return None
    of_kind = [m for m in family(kb, found[0])[1:] if _kinds(m) & asked]
    if len(of_kind) == 1:
        return _with_matter(parse, _asked(parse["intent"]["name"]), of_kind[0].code, of_kind[0].name,
                            "kind_in_family")
    return None


#: How far ahead to act («要提前多久», «提前几天»): 提前 said of the time, naming no 提前… matter.
_HOW_FAR_AHEAD = re.compile(r"提前(多久|多长|几天|几个月|多少天|好久)")


def _ahead_not_early(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """A question asking how far ahead to act («退休手续要提前多久办») whose best match is named by that 提前
    (企业职工基本养老保险提前退休申请): the next of its family among the first three whose name says no 提前
    (正常退休申请); else ``None``."""
    text = str(parse.get("text") or "")
    found = _first_matches(parse, kb)
    if not _HOW_FAR_AHEAD.search(text) or "提前" in _HOW_FAR_AHEAD.sub(" ", text) or not found \
            or found[0] is None or "提前" not in found[0].name:
        return None
    own = {x.code for x in family(kb, found[0])}
    other = next((m for m in found[1:] if m is not None and m.code in own and "提前" not in m.name), None)
    return None if other is None else _with_matter(parse, _asked(parse["intent"]["name"]), other.code, other.name,
                                                   "ahead_not_early")


#: A question asking whether others may do the same, or about others («工伤的也走这个吗», «外地户口的娃娃呢»).
_FOR_OTHERS = re.compile(r"呢[？?]?$|(也|还)(能|可以|走|适用|是|用|行)")
#: Where the person (or a relative) works, told («我在事业单位上班», «我老婆在国企工作»): who they are.
_WORKS_AT = re.compile(rf"^(我|俺|他|她|(我|俺)[{KIN}]{{1,2}})(现在|一直)?在[\u4e00-\u9fff]{{1,8}}(上班|工作|做事|打工|干活)[。!！]?$")


def _same_for_others(text: str, current: Any, both: dict[str, Any], kb: Any) -> Any:
    """The one matter of the first three the question read with ``current``'s name finds that is ``current`` for the
    people the question names: called by a word of the question ``current``'s names do not say (everyday words as
    the names' words), and sharing four characters in a row of ``current``'s name — «工伤的也走这个吗» after
    转诊转院到异地就医申请: 工伤异地就医申请; «外地户口的娃娃呢» after 学前教育、义务教育阶段入学办理: 进城务工人员随迁子女
    接受义务教育入学申请办理 (娃娃: 子女); else ``None``."""
    said = _bigrams(_in_names_words(text)) - _named_words(current) - _kind_words()
    if not said:
        return None
    ones = [m for m in (kb.get(str(h.get("code"))) for h in (both.get("matters") or [])[:3])
            if m is not None and m.code != current.code and said & _named_words(m)
            and SequenceMatcher(None, m.name, current.name).find_longest_match().size >= 4]
    return ones[0] if len(ones) == 1 else None


def _attended(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """A child or a relative going to an institution («孩子要上幼儿园») whose best matches are for founding one
    (幼儿园设立审批, 幼儿园筹设审批 — the message says no founding): the best of the other matches among the first
    three that the message calls by a word of its names (学前教育、义务教育阶段入学办理, called 幼儿园入园报名); else
    ``None``."""
    text = str(parse.get("text") or "")
    hits = (parse.get("matters") or [])[:3]
    found = [kb.get(str(h.get("code"))) for h in hits]
    if not _SOMEONE_ATTENDS.search(text) or _FOUNDS.search(text) or not found or found[0] is None \
            or not _FOUNDING.search(found[0].name):
        return None
    words = _bigrams(text)
    other = next((m for m in found if m is not None and not _FOUNDING.search(m.name) and words & _named_words(m)),
                 None)
    if other is None:
        return None
    asked = _asked(parse["intent"]["name"])
    out = _with_matter(parse, asked, other.code, other.name, "attended")
    # (the founding ones are ruled out: no later detail is about them — «家里困难» is not 幼儿园筹设审批)
    out["ruled_out"] = [m.code for m in found if m is not None and _FOUNDING.search(m.name)]
    return out


#: Whether a business may go on («还能营业不», «可以继续经营吗»).
_STILL_OPERATES = re.compile(r"(还|仍然?|继续)(能|可以|能不能|可不可以)?(继续)?(营业|经营|开店|做生意|开门营业)|"
                             r"(能|可以)继续(营业|经营|开|做)")
#: How long before a date to do it («要提前多久续», «提前几天去»): the time answer says first what the guide says of
#: when to apply.
AHEAD_HOW_LONG = re.compile(r"提前(多久|好久|几天|多少天|多长时间|几个月|多少个?工作日)")
#: A question how something is done («怎么延续», «咋个弄»).
_HOW_ASKED = re.compile(rf"{_HOW}[\u4e00-\u9fff]")
#: A firm said as the one a matter is for («给公司办个社保账户», «我们单位要办…»; not the firm asking it of someone:
#: «单位要我开个无犯罪证明»).
_FOR_A_FIRM = re.compile(r"(给|为|帮|替)(我们|我)?的?(公司|单位|企业|店里|厂里)|"
                         r"^(我们|我)?(公司|单位|企业)(的|要|想|需要|得)(?![我你他她])")
#: Who a matter serves, in its guide's words: firms.
_FIRMS_SERVED = {"法人", "企业", "企业法人", "个体工商户", "单位", "其他组织"}


def _for_a_firm(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """A matter asked for a firm («给公司办个社保账户») whose best match serves only people (社会保障卡申领) while
    another of the first three serves firms (企业职工参保登记): that one; else ``None``."""
    text = str(parse.get("text") or "")
    found = _first_matches(parse, kb)
    if not _FOR_A_FIRM.search(text) or not found or found[0] is None:
        return None
    served = lambda m: set(getattr(m, "service_object", None) or [])  # noqa: E731
    if not served(found[0]) or served(found[0]) & _FIRMS_SERVED:
        return None  # (who the first serves is not said, or it serves firms too)
    # (not one done to what the firm has, of a kind the message does not ask: «给公司办个社保账户» is no 企业注销社会
    # 保险登记, called 企业社保账户注销)
    asked = _cues().of_query(text)
    firms = [m for m in found[1:] if m is not None and (served(m) & _FIRMS_SERVED or not served(m))
             and not _kinds(m) & _AFTER_GETTING - asked]
    # (one whose words the message says first, though who it serves is not said: «我们公司想招见习生» → 就业见习岗位
    # 申报, not 招聘服务, which serves firms and is called by none of its words)
    said = next((m for m in firms if _bigrams(text) & _named_words(m)), None)
    other = said or next((m for m in firms if served(m)), None)
    if other is None:
        return None
    return _with_matter(parse, _asked(parse["intent"]["name"]), other.code, other.name, "for_a_firm")


#: The place of business someone says they open («开个职业介绍所», «想开一家药店»): the word of the place.
_OPENS_PLACE = re.compile(r"(?:开|办|设立|创办|成立|筹建)(?:个|一个|一家|一所|家|间|一间|了个|了一家)?"
                          r"(?P<place>[\u4e00-\u9fff]{1,8}?(?:所|店|馆|院|社|中心|公司|机构|学校|厂|吧|室))")


def _founded(parse: dict[str, Any], kb: Any) -> dict[str, Any] | None:
    """The place of business a message opens, said whole by the names of one of its first three matches but not by
    the first's («开个职业介绍所»: 职业介绍, the service to job seekers, first; 经营性人力资源服务机构从事职业中介活动许可,
    called 职业介绍所许可, third): that match; else ``None``."""
    text = str(parse.get("text") or "")
    said = _OPENS_PLACE.search(text)
    found = _first_matches(parse, kb)
    if said is None or not found or found[0] is None:
        return None
    place = said.group("place")
    names = lambda m: " ".join([m.name, *m.aliases])  # noqa: E731
    if place in names(found[0]):
        return None
    other = next((m for m in found[1:] if m is not None and place in names(m)), None)
    if other is None:
        return None
    return _with_matter(parse, _asked(parse["intent"]["name"]), other.code, other.name, "founded")


#: A policy asked for people of a kind, said first («聋哑人有啥补贴», «低保户能享受啥政策», «独居老人有没有补助»).
_PEOPLE_OF_A_KIND = re.compile(r"^[\u4e00-\u9fff]{1,6}(人|户|者|老人|儿童|孩子|学生|家庭)(有|能|可以|可不可以)")


def _policy_for_people(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """A policy question about people, not firms (it names no firm): the firm policies do not answer it. Read with
    the question of a conversation about a matter (or options) for people («我是残疾人», then «有啥补贴»), or with a
    message placed nowhere just before, when together they name one such matter clearly (when they find several
    about as well, those for people to choose from); else, in no conversation about a matter, the one such matter it
    names clearly itself («残疾人有啥补贴»): that matter; else ``None``."""
    text = str(parse.get("text") or "")
    if _FIRM_WORDS.search(text):
        return None
    # (the conversation's matter, or the first of the options offered: «我儿子是残疾人», options, «有没有补助»)
    code = state.matter_code or (state.candidates[0] if state.candidates else None)
    current = kb.get(code) if code else None
    asked = _ASKS_PAY.findall(text)
    if state.matter_code and current is not None and asked and short_question(text) and not _WHICH.search(text) \
            and all(w in " ".join([current.name, *current.aliases]) for w in asked):
        # whether the conversation's matter pays, asked in its words: «有补贴吗» after 事实无人抚养儿童…基本生活补贴发放
        # («有啥补贴» asks which there are)
        return _with_matter(parse, "ask_matter", current.code, current.name, "for_people")
    earlier = state.topic_text if _for_people(current) else "" if current is not None else state.said_before
    # («老汉儿八十多了», placed nowhere, then «有啥补贴不»; not «我们公司想招见习生», then «有补贴不»: a firm's)
    if nlu is not None and earlier and not _FIRM_WORDS.search(earlier):
        both = nlu.parse(f"{earlier} {text}")
        hit = _one_matter(both)
        found = kb.get(str(hit.get("code"))) if hit is not None else None
        if _for_people(found):  # (named clearly by the NLU's own decision: in scope, not ambiguous)
            return _with_matter(parse, "ask_matter", found.code, found.name, "for_people")
        close = [h for h in both.get("matters") or [] if _for_people(kb.get(str(h.get("code"))))][:3]
        if both.get("ambiguous") and not both.get("out_of_scope") and len(close) >= 2:
            # «我刚毕业» → «有啥补贴»: the ones for people they find, to choose from
            out = dict(_as_intent(parse, "ask_matter", "for_people"), ambiguous=True, out_of_scope=False, entities=[])
            out["matters"] = close
            return out
    found, score = _top(parse, kb)
    # (found by more than the policy word: «我下岗了，四十多岁，听说有灵活就业补贴» → 就业困难人员灵活就业社保补贴申领)
    own_words = found is not None and bool(_bigrams(_POLICY_WORDS.sub(" ", text)) & _named_words(found))
    # (or by the kind of people it is asked for, which the NLU finds by meaning: «聋哑人有啥补贴»)
    kind_of_people = _PEOPLE_OF_A_KIND.match(text) is not None and _one_matter(parse) is not None
    if current is None and _for_people(found) and not parse.get("ambiguous") \
            and (score >= STRONG_SCORE or score >= MATTER_SCORE and own_words or kind_of_people):
        return _with_matter(parse, "ask_matter", found.code, found.name, "for_people")
    return None


def _correction(text: str, state: DialogueState, nlu: Any, kb: Any) -> dict[str, Any] | None:
    """«不是这个，是抵押» after a matter or options: what the person says they meant, read with the earlier
    question (the word said wrong put right in it, when the earlier question has it), when that names one matter
    clearly; else ``None``."""
    m = _said_correction(text)
    if m is None or nlu is None or not (state.matter_code or state.candidates) or QUESTION.search(text):
        return None  # («不是要交钱吗» asks)
    wrong, rest, earlier = (m.group("wrong") or "").strip(), m.group("rest"), state.topic_text or ""
    read = lru_cache(maxsize=None)(nlu.parse)  # (a text read twice below is parsed once)
    together = f"{earlier} {rest}".strip()
    # «不是公司，是个体户» after «公司注册要带啥»: the earlier question with the word put right («个体户注册要带啥»);
    # else the earlier question with what was meant added («不是这个，是抵押»)
    readings = [earlier.replace(wrong, rest)] if len(wrong) >= 2 and wrong in earlier else []
    # after options none of which it picks, what was meant, when it names a matter strongly on its own and the
    # earlier question does not have the word said wrong: «不是个体户，是公司» after the options for «营业执照» (with
    # the question, 证照遗失补领 is found)
    alone = read(rest) if not readings and not state.matter_code and state.candidates else {}
    if float(((alone.get("matters") or [{}])[0]).get("score") or 0) >= STRONG_SCORE and _one_matter(alone):
        # (unless, read with the question, it is the one matter whose name says both: «不是买房，是租房» after the
        # options for «公积金» is 住房公积金提取（租房）, not 公共租赁住房, which «租房» alone finds)
        both = _one_matter(read(together))
        name = _bigrams(str((both or {}).get("name") or ""))
        if not (name & _bigrams(earlier) and name & _bigrams(rest)):
            readings.append(rest)
    # (what is said wrong is another matter's word, not ours: «不是挂失，是要重新办一张» after 社会保障卡补领 — the
    # 挂失 its card offered — means ours)
    other_word = len(wrong) >= 2 and bool(state.matter_name) and not _bigrams(wrong) & _bigrams(state.matter_name)
    asked = state.last_intent if state.last_intent in DETAIL_INTENTS else "ask_matter"
    current = kb.get(state.matter_code) if state.matter_code and not readings else None
    meant = read(rest) if current is not None else {}
    kept = _kind_kept_elsewhere(meant, rest, state, kb, nlu, current, True) if current is not None else None
    if kept is not None and kept.code != current.code:
        # what was meant is another subject, of the same kind of request: «不对，是公司» after 个体工商户设立登记
        # (picked from the options for «营业执照») is 公司设立登记; read with the question, 证照遗失补领 is found
        return _with_matter(dict(meant, text=text), asked, kept.code, kept.name, "correction")
    wished = (m.group(3) or "") in _WISHED
    if current is not None and float(((meant.get("matters") or [{}])[0]).get("score") or 0) >= STRONG_SCORE \
            and (not _bigrams(rest) & _named_words(current)
                 or wished and after_getting(current) and not _cues().of_query(rest) & _kinds(current)):
        # what was meant names another matter strongly on its own and says nothing of ours, or is wished for and says
        # none of the kinds of request ours is of: «不对，我是要离婚» after 补领结婚证 (called 补领离婚证 too) is
        # 离婚登记预约; read with the question, 补领结婚证 is found again («不对，是离婚证» says what was lost)
        readings.append(rest)
    # what was meant said whole in the name of one sibling of ours, and in no name of ours: that sibling («我说错了，
    # 是补证» after 机动车驾驶证期满换证 is 机动车驾驶证遗失、损毁补证; alone, 补证 finds 网吧's 补证审批)
    said = re.sub(r"[的啊呀哈嘛了哦。！!\s]+$", "", rest)
    whole = [x for x in family(kb, current) if x.code != current.code
             and any(said in n for n in [x.name, *x.aliases])] \
        if current is not None and len(said) >= 2 and not any(said in n for n in [current.name, *current.aliases]) \
        else []
    if len(whole) == 1:
        return _with_matter(dict(read(together), text=text), asked, whole[0].code, whole[0].name, "correction")
    for reading in [*readings, together]:
        parse = read(reading)
        hit = _one_matter(parse)
        if hit is not None and (hit.get("code") != state.matter_code or other_word):
            # what was being asked about the matter is asked about the one meant («…要带啥» → its materials)
            return _with_matter(dict(parse, text=text), asked, str(hit["code"]), str(hit.get("name") or ""),
                                "correction")
    return None


def _where_at_hall(parse: dict[str, Any], code: str, name: str, hall: Any) -> dict[str, Any]:
    """Where a matter is done, asked of one hall: whether that hall does it (the answer says so, then the places)."""
    out = _with_matter(parse, "ask_location", code, name, "hall_for_matter")
    out["entities"].append({"entity": "hall", "value": hall.id})
    return out


def _one_matter(parse: dict[str, Any]) -> dict[str, Any] | None:
    """The one matter a parse names clearly by the NLU's own decision — not out of scope, not ambiguous — else
    ``None``. A parse torn only between a matter and one that is no choice for its text (:func:`no_choice_for`: «孩子转学
    从外地转回来», between 学籍异动办理 and 学籍异动政策咨询, asks no rules) names the first clearly."""
    hits = parse.get("matters") or []
    second = str(hits[1].get("name")) if len(hits) > 1 else ""
    torn = parse.get("ambiguous") and not (second and no_choice_for(str(parse.get("text") or ""), second))
    return None if parse.get("out_of_scope") or torn or not hits else hits[0]


def _reader(nlu: Any, earlier: str, text: str) -> Callable[[], dict[str, Any]]:
    """The parse of an earlier message and this one read together, as a call that parses them on first use and
    gives the same parse after (the steps that read them together share one parse of a turn)."""
    return lru_cache(maxsize=1)(lambda: nlu.parse(f"{earlier} {text}"))


def _one_together(nlu: Any, earlier: str, text: str, kb: Any = None,
                  both_parse: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The one matter an earlier message and this one, read together, name clearly (:func:`_one_matter`). With
    ``kb``, when their best match (clear, or as close as the second, of its kin) has a kin matter that their words
    tell apart (:func:`said_apart`, everyday words counted as the names' words), that one: «我在上海上班» then
    «医保异地备案咋弄» is 常驻异地工作人员备案 (上班: 工作), which the search puts below 异地长期居住人员备案."""
    both = f"{earlier} {text}"
    parse = both_parse if both_parse is not None else nlu.parse(both)
    hit = _one_matter(parse)
    hits = parse.get("matters") or []
    first = kb.get(str(hits[0].get("code"))) if kb is not None and hits and not parse.get("out_of_scope") else None
    if first is None:
        return hit
    members = list(kin(kb, first).values())
    if hit is None and not (len(hits) > 1 and str(hits[1].get("code")) in {m.code for m in members}):
        return None
    apart = said_apart(both, members) if len(members) > 1 else None
    if apart is None or apart.code == first.code:
        return hit
    return {"code": apart.code, "name": apart.name, "score": float(hits[0].get("score") or 0)}


def _only_our_words(text: str, current: Any, strong: list[str], kb: Any) -> bool:
    """Whether a short question (no «那X呢») says a word of the current matter's names and, of the matters it finds
    strongly, no word the current one is not called by: «在哪预约» after 离婚登记预约 finds 结婚登记预约 by 预约 alone."""
    words = _bigrams(text)
    return short_question(text) and not _WHAT_ABOUT.match(text) and bool(words & _named_words(current)) \
        and not any(words & (_named_words(m) - _named_words(current)) for m in map(kb.get, strong) if m)


def offered_apart(m: Any, current: Any, kb: Any) -> bool:
    """Whether ``m`` is a matter ``current``'s card offers as what may be needed too, of another family: a question
    that finds it well by meaning asks about it. (A sibling found so may be found by a word said in another sense:
    «要提前多久申请» after 正常退休 is no 提前退休.)"""
    return m.code in (getattr(current, "related", None) or []) and m.code not in {x.code for x in family(kb, current)}


def _same_matter_asked(parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether a detail question («结婚登记在哪办» after 涉外婚姻登记) found a matter of the current one's kin by
    words that do not tell it apart from the current one, or is short and says only words of the current one
    (:func:`_only_our_words`): it asks about the current one."""
    current = kb.get(state.matter_code) if state.matter_code else None
    if current is None or parse["intent"]["name"] not in DETAIL_INTENTS:
        return False
    if _only_our_words(str(parse.get("text") or ""), current, _strong(parse), kb):
        return True
    found, score = _top(parse, kb)
    if found is None or found.code == current.code or found.code not in kin(kb, current):
        return False
    # (one the card offers, told apart by meaning, far ahead of ours: «医药费找哪个报» after 工伤认定申请 is 工伤医疗
    # （康复）费用申报's; not a sibling by a word said in another sense: «要提前多久申请» after 正常退休)
    scores = [float(h.get("score") or 0) for h in parse.get("matters") or []]
    ours = next((float(h.get("score") or 0) for h in parse.get("matters") or [] if h.get("code") == current.code),
                min(scores, default=score))
    if offered_apart(found, current, kb) and score >= MATTER_SCORE and score - ours >= MEANING_APART:
        return False
    return not tells_apart(str(parse.get("text") or ""), found, [current])


def _what_one_receives(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """A question for money received after a matter («能领钱不» after 失业登记 asks what the person can receive,
    失业保险金申领, not what it costs): the matter the earlier question with it names clearly, or — when the matter
    pays nothing and they name nothing clear, or it, or a firm's matter for a person's — the paying matter its card
    offers that fits them best; else the matter itself. ``None`` when the message asks for no money received."""
    text = str(parse.get("text") or "")
    current = kb.get(state.matter_code) if state.matter_code else None
    if current is None or nlu is None or not (
            _RECEIVES.search(text) or _PAID_BACK_ALONE.match(text.strip()) and _PAYS.search(current.name)):
        return None  # («能报不» after 生育医疗费支付 asks whether it pays this one's costs back, not 住院费用报销's)
    hit = _one_together(nlu, state.topic_text, text)
    found = kb.get(str(hit.get("code"))) if hit is not None and float(hit.get("score") or 0) >= MATTER_SCORE \
        else None
    if not _PAYS.search(current.name) \
            and (found is None or found.code == current.code or _for_firms(found) and not _for_firms(current)):
        # («我被裁员了» → 失业登记 → «有没有钱领»: what one receives is a matter its card offers that pays)
        paying = [c for c in getattr(current, "related", None) or [] if _PAYS.search(getattr(kb.get(c), "name", ""))]
        found = kb.get(next((h.code for h in nlu.rank_among(f"{state.topic_text} {text}", paying, 1)), "")) \
            if paying else found
    found = found or current
    return _with_matter(parse, "ask_matter", found.code, found.name, "receives")


def _same_step_named(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The member of the family a question names, asked after a matter of another family, that is the same step as
    the conversation's matter — the one member whose name says a word of ours that the question's best match does not
    (not a word of a kind of request, of a procedure or of who asks): «店里装修要停业两个月» → 停业登记, then «烟草证咋办»
    is 烟草专卖零售许可证停业, not its 新办; else ``None``."""
    current = kb.get(state.matter_code) if state.matter_code and not state.form else None
    top = _top(parse, kb)[0]
    text = str(parse.get("text") or "")
    if current is None or top is None or top.code in kin(kb, current) or _cues().of_query(text) \
            or not (_bigrams(text) - _kind_words()) & _named_words(top):
        return None
    named_kinds = {b for w in _kind_name_words() for b in _bigrams(w)}
    plain = {b for b in _bigrams(name_stem(current.name)) if not _PROCEDURE.search(b)} - named_kinds - _REQUESTER_WORDS
    ones = [x for x in family(kb, top)[1:] if (plain & _bigrams(x.name)) - _bigrams(top.name)]
    return ones[0] if len(ones) == 1 else None


def _other_named(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """The search's best match for a detail question after a matter, when it is outside the matter's kin, found as
    well as a message names a matter (:data:`MATTER_SCORE`) and called by two or more words of its names that the
    conversation's matter is not called by (the question asks its detail of that one); else ``None``."""
    current = kb.get(state.matter_code) if state.matter_code else None
    if current is None or parse["intent"]["name"] not in DETAIL_INTENTS or parse.get("ambiguous"):
        return None  # («不动产登记要带啥» after 社保卡补办: which of the 不动产登记 family, asked)
    other, score = _top(parse, kb)
    if other is None or score < MATTER_SCORE or other.code in kin(kb, current):
        return None
    text = str(parse.get("text") or "")
    own = _bigrams(text) & (_named_words(other) - _named_words(current)) - _kind_words()
    # (nor one of a kind of request the question does not say, beside a next best of none: «不动产登记要带啥» finds
    # 不动产登记资料查询 first, 不动产首次登记 next — which of them, the detail step asks)
    return other if len(own) >= 2 and not other_kinds(text, other, parse.get("matters") or [], kb) else None


def _one_said_before(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """Of the matters a question after one finds about equally (the options it would bring up), the one whose own
    words — no other's — the question that brought the conversation's matter up said: «读高中的娃娃家里困难 → 有没有
    助学金» is 普通高中国家助学金、免学费查询, not which of it, 中等职业学校 and 残疾人教育资助. Else ``None``."""
    hits = parse.get("matters") or []
    if not state.matter_code or state.form or not parse.get("ambiguous") \
            or parse["intent"]["name"] not in ASK_INTENTS:
        return None
    close = [m for m in (kb.get(str(h.get("code"))) for h in hits[:3] if float(h.get("score") or 0) >= LOOK_ALIKE_SCORE)
             if m is not None]
    told = _bigrams(state.topic_text or "")
    own = [m for m in close
           if told & (_named_words(m) - set().union(*(_named_words(o) for o in close if o.code != m.code)))]
    # (the conversation's own matter so found is left to the readings that keep it, and the detail they ask)
    return own[0] if len(close) >= 2 and len(own) == 1 and own[0].code != state.matter_code else None


def _told_apart_by_conversation(parse: dict[str, Any], state: DialogueState, kb: Any) -> Any:
    """A question about another matter whose words do not tell its best match from a next best that the
    conversation's words do (its matter's names and the question that brought it up): that one. «抚恤那个待遇要年年
    认证吗» after 工伤认定申请 says only what 养老保险定期待遇领取资格认证 (found first) and 工伤保险定期待遇领取资格认证
    share; the conversation says 工伤. Else ``None``."""
    current = kb.get(state.matter_code) if state.matter_code else None
    hits = parse.get("matters") or []
    if current is None or state.form or parse["intent"]["name"] not in ASK_INTENTS or len(hits) < 2:
        return None
    first = kb.get(str(hits[0].get("code")))
    if first is None or first.code in kin(kb, current):
        return None
    text = str(parse.get("text") or "")
    said = _bigrams(state.topic_text or "") | _named_words(current)
    apart = []
    for h in hits[1:3]:
        other = kb.get(str(h.get("code")))
        if other is None or other.code == first.code or float(h.get("score") or 0) < LOOK_ALIKE_SCORE:
            continue
        if not (_bigrams(_PROCEDURE.sub(" ", text)) & _named_words(first) & _named_words(other)) \
                or tells_apart(text, first, [other]) or tells_apart(text, other, [first]):
            continue  # (the question shares no word with both but a procedure's — «要单独审批不» —, or says which)
        ours, theirs = _named_words(other) - _named_words(first), _named_words(first) - _named_words(other)
        if said & ours and not said & theirs:
            apart.append(other)
    return apart[0] if len(apart) == 1 else None


def _kin_asked(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> Any:
    """The matter of the current one's kin that a detail question is about by its words (:func:`_naming_members`)
    when the search of the question alone found nothing of the kin («认定要啥材料» after 教师资格证相关政策咨询
    finds 工伤认定申请 by «认定»; 教师资格认定 is the one of ours called so), else ``None``. A matter the question
    calls by a whole name of its own is its own reading."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "")
    if current is None or nlu is None or parse["intent"]["name"] not in {"ask_materials", "ask_location", "ask_time"}:
        return None  # («补贴多少» after 就业见习申请 asks what its trainees receive, not 就业见习补贴申领's fee)
    members = kin(kb, current)
    hits = parse.get("matters") or []
    if any(str(h.get("code")) in members for h in hits[:1]) \
            or any(m is not None and called_by_name(text, m, 3) for m in map(kb.get, _strong(parse))):
        return None
    naming = _naming_members(text, current, members, kb, parse)
    if not naming:
        return None
    # the member the earlier question with this one fits better than ours («补贴多少» after 就业见习申请, whose
    # texts speak of its 补贴, stays on it)
    best = _best_member(nlu, f"{state.topic_text} {text}", "", {**naming, current.code: current})[0]
    return best if best is not None and best.code != current.code else None


def _asked_of_ours(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> bool:
    """Whether a short detail question whose search found another matter («在哪报名» after 机动车驾驶证核发 finds
    义务教育入学 by 报名) asks about the current one: the other is not its kin and not called by a whole name, and
    the current matter fits the earlier question with this one at least as well as the other fits it alone."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "")
    if current is None or nlu is None or not state.topic_text or parse["intent"]["name"] not in DETAIL_INTENTS \
            or len(_CJK.findall(text)) > _SHORT_QUESTION + 2:
        return False
    return _fits_better(parse, text, current, kin(kb, current), state, kb, nlu)


#: Something to be done separately («卖烟要另外办吗», «还要单独申请吗»): another matter than the conversation's.
_SEPARATE = re.compile(r"另外|单独|额外|另行")
#: Whether the person may apply: «能申请不», «我这种情况可以办吗», «符合条件不», «可以不».
_MAY_APPLY = re.compile(r"(能|可以|可不可以|能不能|可否)(申请|申领|领|享受)(吗|不|么|嘛|没|得了)?[？?]?$|"
                        r"符合条件|够条件|够不够条件|有没有资格|有资格(吗|不|么)|"
                        # whether a circumstance stands in the way («我家有辆车影响不» after 低保)
                        r"影响(不|吗|么|嘛|没|没有)?[？?]?$|有没有影响|会不会影响|"
                        # whether it can be done at all, asked alone («可以不», «能行吗»; «可以» alone is a yes)
                        r"^(那|这样|这样子)?((可以|能|行|能行|成)(办)?(不|吗|么|嘛)|可不可以|能不能|行不行)[？?。]*$")
#: Whether one may still pay in («还能交不», «可以续缴吗»): after a matter paid into, whether the person may join it.
_MAY_PAY = re.compile(r"(能|可以|可不可以|能不能|可否)(交|缴|参保|续交|续缴|补交|补缴)(吗|不|么|嘛|没|得了)?[？?]?$")
#: Whether it is possible, said after who the person is («我是外地户口可以不», «我是退休的能办吗»).
_SELF_MAY = re.compile(r"(可以|能|行|能办|可以办|能申请)(不|吗|么|嘛|没)[？?]?$")


def _unsure_follow_up(parse: dict[str, Any], state: DialogueState, kb: Any, strong: list[str]) -> bool:
    """Whether a question after a matter, that the search found several matters for about equally (none strongly,
    none called by a whole name), asks about the conversation's matter: the matter itself is the best match
    («要什么条件» after 公租房, «个体户也要报吗» after 年报), or the question is a short one asking a detail
    («在哪儿报名» after 驾驶证核发 finds 入学, 招生考试 and 就业见习 by 报名). Options would ask which of matters nobody
    brought up. So is a short detail question whose one match shares with it no word, or only words the matter's
    own texts use too (:func:`_own_texts`). A statement that finds the matter first, among others as close, is
    about it too."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "")
    if current is None or state.form or _WHAT_ABOUT.match(text):
        return False
    short_detail = parse["intent"]["name"] in DETAIL_INTENTS and len(_CJK.findall(text)) <= _SHORT_QUESTION + 2
    ours = lru_cache(maxsize=1)(lambda: _bigrams(_own_texts(current)))  # (read only when a check needs them)
    # (a question of a few characters that says no word of what it finds, by meaning alone, nor a kind of request:
    # «能补不» after 申领《四川省老年人优待证》, told «老年证丢了», finds 养老保险费补缴 strongly by 补)
    tiny = len(_CJK.findall(text)) <= _TINY_QUESTION and bool(QUESTION.search(text)) and not _cues().of_query(text)
    first = [m for m in _first_matches(parse, kb, 2) if m is not None]
    if tiny and first and not any(_bigrams(text) & _named_words(m) for m in first):
        return True
    for other in map(kb.get, set(strong) - {current.code}):
        # (a match strong by score alone, by words of its aliases our own texts use too, is no other matter asked:
        # «在哪报名» after «我儿子要考驾照» finds 入学办理 strongly by 报名 of 小学入学报名; «光荣证在哪办» after
        # 独生子女父母奖励申领 says 光荣证 of 独生子女父母光荣证办理's very name)
        # (one the card offers as what may be needed too is asked for: «孩子上户口要带啥» after 生育登记, whose own
        # texts speak of 上户口, asks about 出生登记（新生儿入户）)
        if other is None or not short_detail or called_by_name(text, other, 3) \
                or not _bigrams(text) & _named_words(other) <= ours() or _bigrams(text) & _bigrams(other.name) \
                or other.code in (getattr(current, "related", None) or []):
            return False
    hits = [m for m in _first_matches(parse, kb) if m is not None]
    if not QUESTION.search(text):
        # (a statement that finds ours first, among others as close, no wish or kind of request of its own: «领了三个
        # 月了» after 失业保险金申领 tells how it stands with ours)
        return bool(parse.get("ambiguous")) and bool(hits) and hits[0].code == current.code \
            and not _WANTS_TO.search(text) and not _cues().of_query(text)
    if any(m.code != current.code and called_by_name(text, m, 3) for m in hits):
        return False
    if not parse.get("ambiguous"):
        # (one match, found by no word of its names but words any matter's texts use: «要啥资料» after 门诊费用报销
        # finds 不动产登记资料查询; or by words our own guide uses too: «在哪儿报名» after 驾驶证核发 finds 入学办理,
        # but 驾驶证核发's texts speak of 报名 at a driving school)
        if not short_detail or not hits or hits[0].code == current.code:
            return False
        if offered_apart(hits[0], current, kb) and _top(parse, kb)[1] >= MATTER_SCORE:
            return False  # (one the card offers, found well: «医药费找哪个报» after 工伤认定申请 is 工伤医疗费用申报's)
        shared = _bigrams(text) & _named_words(hits[0])
        return not shared or shared <= ours()
    if any(m.code == current.code for m in hits[:2]):
        return True  # (ambiguous between the current matter and another: «要办证不» after 犬类准养证核发)
    return short_detail


def _is_licence(matter: Any) -> bool:
    """Whether ``matter`` is a licence: of the type 行政许可 in its guide, or called one when none is given."""
    return getattr(matter, "matter_type", "") == "行政许可" or "许可" in matter.name


def _procedure_asked(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> Any:
    """The matter a short question after one asks about when it says only a kind of procedure (:data:`_PROCEDURE`):
    «要审批不» after 经营游泳许可 finds 户外广告审批 by 审批, «在哪申报» after 职称 finds 工伤医疗费用申报 — neither
    names another matter. It is the conversation's matter called so: ours when its name says it, else the one of
    the matters the conversation's questions found (the options ours was picked from, the look-alikes of the
    question that brought it up, and their families; the related matters its card offers; not ours) whose name
    says it and that the conversation's words fit well and best («在外地看病 → 医保能报不 → 要备案吗», «我要去外地
    住院 → 医保要备案不»: a 异地就医 备案, not 住院费用报销 again); else ours (its card says whether it is needed).
    ``None`` when the message says more, or there is no matter or a form or options."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "").strip()
    said = [_PROCEDURE_NAMED.get(w, w) for w in _PROCEDURE.findall(text)]
    if current is None or state.form or state.candidates or not said:
        return None
    # (besides, it may say only what the conversation said: «医保» in «医保要备案不» after «我要去外地住院»)
    # (and whether it is separate: «要单独审批不» after 经营游泳许可 asks whether a second one is needed; its card says)
    bare = _PROCEDURE.sub(" ", _SEPARATE.sub(" ", text))
    rest = "".join(c if c not in _AROUND_PROCEDURE else " " for c in bare).split()
    # (who is to do it says nothing of its own: «公司要先报备不» after 工伤认定申请, told of a worker hurt)
    if any(len(w) < 2 or _bigrams(w) - _named_words(current) - _bigrams(state.topic_text) - _REQUESTER_WORDS
           for w in rest):
        return None
    if any(w in current.name for w in said) or nlu is None:
        return current
    if set(said) <= _APPROVAL and _is_licence(current):
        return current  # (经营游泳许可 is the 审批 «要审批不» asks of, not the related 公共场所卫生许可新办审批)
    seen: dict[str, Any] = {}
    for code in [*state.topic_matters, *state.offered_before]:
        m = kb.get(code)
        if m is not None:
            seen.update({x.code: x for x in family(kb, m)})
    ours = {m.code for m in family(kb, current)}  # (a kind of request of ours — 变更, 注销 — is not asked by it)
    # (the related matters its card offers only when none of those is called so)
    # (an approval asked is of the person's own doing: a related matter is it only when the conversation's words name
    # it — «店门口想挂个新招牌 → 要审批不» asks of 招牌, not of the related 设置大型户外广告的审批; a filing may be a step
    # before ours: «我要去外地住院 → 医保要备案不», the related 异地就医 备案)
    related = {c: m for c, m in kin(kb, current).items()
               if not set(said) <= _APPROVAL or says_words_of(state.topic_text, m, current)}

    def called_so(among: dict[str, Any]) -> Any:
        called = [c for c, m in among.items() if c not in ours and any(w in m.name for w in said)]
        best = nlu.rank_among(f"{state.topic_text} {text}", called, 1) if called else []
        return kb.get(best[0].code) if best and best[0].score >= LOOK_ALIKE_SCORE else None

    asked = called_so(seen) or called_so(related)
    # (and, when neither has one so called, the best matches of the two read together that the same office does,
    # for a filing or a registration: «工人在车间把手压伤了 → 工伤认定申请 → 公司要先报备不» asks of 工伤事故备案,
    # of no family of the conversation's; «养狗要办证不 → 在哪登记» asks of no 收养子女登记 — an approval asked is of
    # the person's own doing, as above)
    if asked is None and not set(said) <= _APPROVAL:
        asked = called_so({m.code: m for m in _first_matches(nlu.parse(f"{state.topic_text} {text}"), kb, 3)
                           if m is not None and _same_department(m, [current])})
    return asked or current


#: Whether there is a benefit, or how it is had, asked alone («有补贴不», «能领啥补助», «补贴咋领»).
_BENEFIT_ASKED = re.compile(r"^(那)?(政府|国家|你们|这个)?(还)?(有|有没有|能不能|可以|能)?(领|拿|申请|享受)?(点|啥|什么|哪些)?"
                            r"(?P<benefit>补贴|补助|奖补|奖励)(?P<how>(咋个?|怎么|怎样|在哪儿?|哪里|去哪)?(领|申请|拿|办|弄)?)"
                            r"(没有|不|吗|么|嘛|没|呢)?[？?]?$")


def _benefit_of_kin(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any) -> dict[str, Any] | None:
    """A benefit asked alone after a matter that pays none, when one matter of its family is that benefit
    («有补贴不» after 就业见习岗位申报 → 就业见习补贴申领), or one of them shares more of its name than the others, not
    the policies for firms or people at large; else, when the question that brought the matter up was a firm's, the
    benefit that question and this one find together, of what our matter is about (:func:`_benefit_found`);
    else ``None``."""
    text = str(parse.get("text") or "")
    asked = _BENEFIT_ASKED.match(text)
    current = kb.get(state.matter_code) if state.matter_code else None
    if asked is None or current is None or state.form or state.candidates or asked["benefit"] in current.name:
        return None
    paying = [m for m in family(kb, current)[1:] if asked["benefit"] in m.name]
    if len(paying) > 1:
        # (就业技能培训开班: 就业技能培训补贴申请, not 创业培训补贴申请 — the one sharing most of its name's words)
        paying = [_by_words(_named_words(current), paying)]
    firm = bool(_FIRM_WORDS.search(state.topic_text or ""))
    if not paying and nlu is not None and (firm or asked["how"]):
        # (a person's: only how the one benefit is had, «补贴咋领»; «有啥补贴» after 失业登记 asks which there are)
        paying = [_benefit_found(nlu.parse(f"{state.topic_text} {text}"), current, kb, asked["benefit"], firm)]
    if len(paying) != 1 or paying[0] is None:
        return None
    return _with_matter(parse, "ask_matter", paying[0].code, paying[0].name, "benefit_of_kin")


def _benefit_found(both: dict[str, Any], current: Any, kb: Any, benefit: str, firm: bool) -> Any:
    """Of the first three matters the question that brought ``current`` up and a benefit asked after it find together
    (``both``), the first found as a look-alike is whose name says a word of what ``current`` is about (no kind of
    request) and pays: firms (:func:`_for_firms`, :data:`_PAYS`) when the question was a firm's — «公司招了几个就业困难
    人员» → 就业困难人员认定 → «有补贴不» is 企业（单位）招用就业困难人员补贴申请, not the policies for firms at large —,
    else by the ``benefit`` word asked: «我是律师 → 给困难群众做了援助» (法律援助 审批) → «补贴咋领» is 法律援助补贴发放.
    Else ``None``."""
    about = _named_words(current) - _kind_words()
    for h in (both.get("matters") or [])[:3]:
        m = kb.get(str(h.get("code")))
        if m is None:
            continue
        pays = _for_firms(m) and _PAYS.search(m.name) if firm else benefit in m.name
        if pays and float(h.get("score") or 0) >= LOOK_ALIKE_SCORE and _bigrams(m.name) & about:
            return m
    return None


#: A matter that is a payment someone already in makes (公租房租金缴纳, 住宅专项维修资金交存): nobody applies for it.
_PAYMENT_ONLY = re.compile(r"缴纳|交存|缴存|缴费")


def _applied_for(text: str, current: Any, kb: Any) -> Any:
    """The matter an application asked about is for: ``current``, unless the question says 申请, ``current`` is a
    payment only (:data:`_PAYMENT_ONLY`) and exactly one of its kin is applied for by its name (公租房租金缴纳 →
    公共租赁住房申请资格审核认定)."""
    if "申请" not in text or "申请" in current.name or not _PAYMENT_ONLY.search(current.name):
        return current
    applying = [m for c, m in kin(kb, current).items() if c != current.code and "申请" in m.name]
    return applying[0] if len(applying) == 1 else current


def _names_another_well(parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether the search's best match for a message is another matter than the conversation's, found as a message
    names a matter (:data:`MATTER_SCORE`) and by a word of its subject ours is not called by (:func:`_says_subject_of`):
    «我是残疾人能办低保不» after 个体工商户设立登记 asks about 最低生活保障, not how someone who cannot come does ours."""
    other, score = _top(parse, kb)
    current = kb.get(state.matter_code) if state.matter_code else None
    return other is not None and current is not None and other.code != current.code and score >= MATTER_SCORE \
        and _says_subject_of(str(parse.get("text") or ""), other, current)


def _may_apply_asked(parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether a message asks whether the person may apply for the conversation's matter (or pay into it, when it is
    one paid into: «还能交不» after 城乡居民基本养老保险参保登记): it asks so, names no
    other matter by a word the current one is not called by (the search's best match; a kind of request counts for
    neither), and is no «那X呢»."""
    current = kb.get(state.matter_code) if state.matter_code else None
    text = str(parse.get("text") or "")
    # (who the person is, then whether they may: «我是外地户口可以办不», «我是退休的能申请吗»)
    self_may = bool(_SELF_MAY.search(text) and _DESCRIBES_SELF.match(_SELF_MAY.sub("", text)))
    may_pay = bool(current is not None and _MAY_PAY.search(text) and _PAID_INTO.search(current.name))
    if current is None or state.form or not (_MAY_APPLY.search(text) or self_may or may_pay) \
            or _WHAT_ABOUT.match(text):
        return False
    if _RECEIVES.search(text) and not _PAYS.search(current.name):
        return False  # («能领不» after 失业登记, which pays nothing, asks what one receives: 失业保险金申领)
    if self_may:
        return True  # who the person is names no matter: «我是外地户口可以不» is no question about 户口
    other = _top(parse, kb)[0]
    words = _bigrams(text) - _named_words(current) - _kind_words()
    return other is None or other.code == current.code or not words & _named_words(other)


def _only_a_hall(text: str, halls: Any) -> bool:
    """Whether a message names a hall and hardly anything else («金泉街道便民服务中心», «区政务中心嘛»)."""
    hall = halls.find(text)
    if hall is None:
        return False
    rest = text
    for term in sorted([hall.name, *hall.aliases, hall.street or ""], key=len, reverse=True):
        rest = rest.replace(term, "") if term else rest
    rest = re.sub(r"的|便民服务中心|便民服务站|便民中心|服务中心|政务中心|政务大厅|大厅", "", rest)
    return len(_CJK.findall(rest)) <= 2


def _whether_needed(text: str) -> bool:
    """Whether a message asks only whether a step is needed, in no word of a detail («要年审不», «每年要审核吗»; not
    «要带照片不»)."""
    return bool(_WHETHER_NEEDED.match(text.strip())) and not _DETAIL_WORDS.search(text)


def short_question(text: str) -> bool:
    """A question too short to bring up another matter («收费不», «条件是啥»)."""
    return len(_CJK.findall(text)) <= _SHORT_QUESTION and bool(QUESTION.search(text))


#: What tax is paid, or how much («要交啥税», «交多少税», «税咋算»).
_TAX_ASKED = re.compile(r"(交|缴|纳|付|扣)(啥|什么|哪些|多少|好多|些)?(个)?税|税(费)?(要|得)?(交|缴)?(多少|好多|咋算|怎么算)")


#: Words that make a statement a question without a question word («身份证三天能办好»).
_MAY_BE_ASKED = re.compile(r"能|可以|会|行|得不得|要不要")


def _near_detail(parse: dict[str, Any]) -> str | None:
    """A detail intent the classifier nearly chose (in its top three, at least half as likely as its choice)."""
    ranking = parse.get("intent_ranking") or []
    if parse.get("interpreted") == "not_an_action":
        # the classifier took an action the words do not ask for: its next guesses are no surer; the detail is the
        # one the words ask («要去报到不», read as a request for a person, was answered with the fee)
        said = label_question(str(parse.get("text") or ""))
        return said if said in DETAIL_INTENTS else None
    top = float(ranking[0].get("confidence") or 0) if ranking else 0.0
    text = str(parse.get("text") or "")
    receives = _money_received(text)  # (how to receive money is no fee: «丧葬费在哪领» asks the place)
    if _whether_needed(text) or _STILL_CAN.search(text) and not _DETAIL_WORDS.search(text):
        # whether a step is needed, or whether it can still be done, asks about the matter («要年审不» after 犬证,
        # «超过一个月了还能上不» after 户口登记: not their time limits)
        return None
    if receives and _HOW_MUCH.search(text):
        return None  # how much one receives is no detail of doing it («补贴标准是多少», «能领多少»): the card
    # (which licences to get is no list of materials: «要办啥证» after 公共场所卫生许可; whether one must go to another
    # office too is no fee: «税务也要去吗» after 个体工商户注销登记)
    which = bool(_WHICH_TO_GET.search(text)) and not MATERIAL_WORDS.search(text)
    no_fee = receives or _GOES_TO_OFFICE.search(text) and not FEE_WORDS.search(text) and not _COSTS.search(text)
    if _SERVICE_CHARGE.search(text) and not no_fee:
        return "ask_fee"  # (a charge the words ask, whatever the classifier put first: «预约要收钱不», read as a status)
    return next((r["name"] for r in ranking[:3] if r.get("name") in DETAIL_INTENTS
                 and not (no_fee and r.get("name") == "ask_fee") and not (which and r.get("name") == "ask_materials")
                 and float(r.get("confidence") or 0) >= 0.5 * top), None)


def _only_tells(text: str, state: DialogueState) -> bool:
    """Whether a first message (no matter, options or form under way) only tells something: no question, wish or
    kind of request, and no one who cannot come."""
    return not (state.matter_code or state.candidates or state.form or QUESTION.search(text)
                or _WANTS_TO.search(text) or _CANNOT_COME.search(text) or _cues().of_query(text))


def _only_chongqing(text: str, parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether a first message (no matter, options or form under way) says only that someone is in or from
    Chongqing: no question, wish or kind of request, no one who cannot come, and no word, besides 重庆 / 川渝, of
    one of the matters it finds best."""
    if not _CHONGQING.search(text) or not _only_tells(text, state):
        return False
    words = _bigrams(_CHONGQING.sub(" ", text))
    found = _first_matches(parse, kb)
    return not any(m is not None and words & _named_words(m) for m in found)


def _only_who(text: str, parse: dict[str, Any], state: DialogueState, kb: Any) -> bool:
    """Whether a first message only says who the person is (:data:`_DESCRIBES_SELF`: «我是台湾的», «我是香港人»):
    no question, wish or kind of request, no one who cannot come, and no word of the matter it finds best (found by
    meaning alone, it is a guess: 劳动保障监察投诉举报 for «我是农民工»; «我是残疾人» names its matters)."""
    if not _DESCRIBES_SELF.match(text) or not _only_tells(text, state):
        return False
    top = _top(parse, kb)[0]
    return top is None or not _bigrams(text) & (_named_words(top) - _FOR_WHOM_WORDS)


def _chongqing_variant(kb: Any, parse: dict[str, Any], state: DialogueState, nlu: Any = None) -> Any:
    """The 川渝通办 variant in the family of the matter this message (or the conversation) is about, else its variant
    for another province (跨省: Chongqing is not Sichuan, «我是重庆户口 → 在成都能换身份证不» is 居民身份证跨省异地办理,
    not 省内). A match of the message counts only when the message says a word of its names besides 重庆 / 川渝 and
    our own places: «我是从重庆过来的» after 异地安置退休人员备案 is about that matter, not the 川渝通办 variant its word
    found. What a message that says 重庆 is about is what it finds without that word: «以前在重庆交的养老保险» is about
    moving one's pension (企业职工基本养老保险关系转移接续申请, of no 川渝通办 variant), not the one matter whose
    people say 重庆 (养老保险待遇领取资格认证（川渝通办）)."""
    text = str(parse.get("text") or "")
    found = parse
    if nlu is not None and _CHONGQING.search(text):
        unplaced = _CHONGQING.sub("", text)
        found = nlu.parse(unplaced) if len(_CJK.findall(unplaced)) >= 2 else {}
    about = _about_here(kb, parse, found, state, _bigrams(_OUR_PLACE.sub(" ", _CHONGQING.sub(" ", text))))
    for mark in ("川渝", "跨省"):
        variant = next((x for m in about for x in family(kb, m) if mark in x.name), None)
        if variant is not None:
            return variant
    return None


def _about_here(kb: Any, parse: dict[str, Any], found: dict[str, Any], state: DialogueState,
                words: set[str]) -> list[Any]:
    """The matters a message about where someone is from is about: those it finds (``found``: named, or among the
    three best) that it calls by ``words`` of their names, and the conversation's matter unless the message names one
    of another family strongly («医保咋办» after the 川渝通办 认证 asks about 医保)."""
    codes = [e.get("value") for e in found.get("entities") or [] if e.get("entity") == "matter"]
    codes += [h.get("code") for h in (found.get("matters") or [])[:3]]
    current = kb.get(state.matter_code) if state.matter_code else None
    own = {x.code for x in family(kb, current)} if current is not None else set()
    kept = [state.matter_code] if current is not None and all(c in own for c in _strong(parse)) else []
    return [m for m in (kb.get(c) if c else None for c in codes + kept)
            if m is not None and (m.code == state.matter_code or words & _named_words(m))]


#: The variants of a matter by where the person's 户口 is, by their names' marks: 省内 (elsewhere in 四川), 跨省
#: (another province); one of no such mark is our own city's (居民身份证办理).
_REGION_MARKS = {Region.PROVINCE: "省内", Region.OTHER: "跨省"}
_ANY_REGION = re.compile(r"省内|跨省|川渝|异地")
#: A place said as where one is from: «户口在南充», «户口刚迁到成都», «我是贵州过来的», «老家绵阳», «南充户口», «回南充».
_FROM_BEFORE = re.compile(r"(户口|户籍)(都|也|还|一直|刚|本来|已经)?(在|是|迁到|迁回|迁来|落在|落到|上在|上到)$|"
                          r"(老家|家乡)(在|是)?$|(我|我们|他|她|他们|她们|我[爸妈])(是|们是|都是)$|从$|回$|籍贯(是)?$")
_FROM_AFTER = re.compile(r"^(的)?(户口|户籍|人|籍|过来|来的|老家)")


def home_told(text: str) -> tuple[Region, str] | None:
    """Where ``text`` says the person is from (their 户口 or their home): the region of the first place said so, and
    ``text`` without those words («我户口在南充，身份证搞丢了» → PROVINCE, «我，身份证搞丢了»); else ``None``."""
    for at, name, region in Places.load().found(text):
        before = _FROM_BEFORE.search(text[max(0, at - 8):at])
        after = _FROM_AFTER.match(text[at + len(name):])
        if before or after:
            start = max(0, at - 8) + before.start() if before else at
            end = at + len(name) + (after.end() if after else 0)
            return region, f"{text[:start]}{text[end:]}"
    return None


def _told_of(kb: Any, parse: dict[str, Any], state: DialogueState, rest: set[str]) -> list[Any]:
    """The matter a fact about the person (where they are from, which way a thing moves) is told of: the
    conversation's, unless ``rest`` (the message's words besides the fact) names another the message finds strongly
    («户口在金牛区» after 居民身份证挂失申报 finds 户口登记 by its 户口: still ours); else the one matter the message is
    about, the first it finds («居住证咋办» after it is not about 居民身份证省内异地办理, which people with a 居住证 ask
    for too)."""
    current = kb.get(state.matter_code) if state.matter_code else None
    named = [m for m in (kb.get(c) for c in _strong(parse)) if m is not None and rest & _named_words(m)]
    return [current] if current is not None and not named else _about_here(kb, parse, parse, state, rest)[:1]


def _home_variant(kb: Any, parse: dict[str, Any], state: DialogueState, region: Region) -> Any:
    """The variant, for a person from ``region``, of the matter this message (or the conversation) is about, when its
    family has variants by where one's 户口 is: «我户口在南充 → 身份证搞丢了» is 居民身份证省内异地办理, «我是贵州过来的，
    身份证到期了» 跨省异地办理, «户口在金牛区» after 居民身份证 the one of our own city (办理), of its kind of request."""
    text = str(parse.get("text") or "")
    told = home_told(text)
    for m in _told_of(kb, parse, state, _bigrams(Places.load().pattern.sub(" ", told[1] if told else text))):
        members = family(kb, m)
        if not any(_ANY_REGION.search(x.name) for x in members):
            continue
        mark = _REGION_MARKS.get(region)
        if mark is not None:
            variant = next((x for x in members if mark in x.name), None)
        elif not _ANY_REGION.search(m.name):
            variant = m  # (ours already: «户口在金牛区» after 居民身份证挂失申报 stays on it)
        else:  # (of our own city: the one of every kind of request the other is of, the widest)
            ours = [x for x in members if not _ANY_REGION.search(x.name) and _kinds(m) <= _kinds(x)]
            variant = max(ours, key=lambda x: (len(_kinds(x)), x.code), default=None)
        if variant is not None:
            return variant
    return None


#: The way a thing moves, as matter names say it: away from here (转出, 迁出) or to here (转入, 接收).
_WAY_MARKS = {"out": re.compile(r"转出|迁出|调出"), "in": re.compile(r"转入|迁入|调入|接收")}
#: A thing moved away, said: «转过去», «迁走», «寄出去», «转到新公司», «迁到重庆老公那边»; or to here: «转过来»,
#: «迁回来», «接收», «转到金牛区这边», «从绵阳转过来» (where to: :func:`_way_to`).
_MOVES = re.compile(r"(?:转|迁|调|寄)(?P<way>出去|出|走|过去|去|入|进来|进|过来|回来|来|到|往)"
                    r"(?P<to>[\u4e00-\u9fff]{0,6})|(?P<taken>带走|提走)|(?P<taken_in>接收)")
_HERE_WORDS = re.compile(r"^(这边|这里|这儿|我这|我们这|我屋|屋头|本地|本市)")
#: Whose a place is, before it («迁到我金牛区屋头来»).
_TO_WHOSE = re.compile(r"^(我们?|我家|俺|他们?|她们?)(的)?")
#: A place away from here said in no place name («外地», «老家», «新公司»).
_AWAY = re.compile(r"外地|外省|老家|省外|国外|新公司|新单位|公司|单位|学校|部队|人才中心|人才市场")


def _way_to(text: str) -> str | None:
    """Which way ``text`` says a thing moves: ``"out"`` (away from here), ``"in"`` (to here), else ``None``."""
    for m in _MOVES.finditer(text):
        if m.group("taken"):
            return "out"
        if m.group("taken_in"):
            return "in"
        way, to = m.group("way"), m.group("to") or ""
        if way in {"出去", "出", "走", "过去", "去"}:
            return "out"
        if way in {"入", "进来", "进", "过来", "回来", "来"}:
            return "in"
        to = _TO_WHOSE.sub("", to)
        found = Places.load().found(to)
        if _HERE_WORDS.match(to) or to.endswith("来") or found and found[0][0] == 0 and found[0][2] == Region.LOCAL:
            return "in"  # («转到金牛区这边», «迁到我金牛区屋头来»)
        if found and found[0][0] == 0 or _AWAY.search(to):
            return "out"  # («转到绵阳去», «迁到重庆老公那边», «调到外地», «转到新公司»)
        return None  # (to someone, «迁到爷爷家», «迁到老公那边»: here or away, unsaid)
    return None


def _way_variant(kb: Any, parse: dict[str, Any], state: DialogueState, way: str) -> Any:
    """The member, of the matter the message (or the conversation) is about and its kin, named for the way ``way`` the
    thing moves, when another member is named for the other way or the matter itself for neither: «新公司HR喊我把档案
    转过去» is 档案转出, not 档案接收; «迁出手续在哪里办» after 户口迁移审批 is 户口迁出. Of several so named, the one whose
    name is most like the matter's (客运车辆道路运输证办理（转入） for 客运车辆道路运输证办理（转出）)."""
    text = str(parse.get("text") or "")
    other = "in" if way == "out" else "out"
    for m in _told_of(kb, parse, state, _bigrams(_MOVES.sub(" ", text))):
        members = list(kin(kb, m).values())
        named = [x for x in members if _WAY_MARKS[way].search(x.name) and not _WAY_MARKS[other].search(x.name)]
        if not named or not any(x is m or _WAY_MARKS[other].search(x.name) for x in members if x not in named):
            continue
        return max(named, key=lambda x: (len(_bigrams(x.name) & _bigrams(m.name)), x.code))
    return None


def _flags(parse: dict[str, Any], text: str) -> dict[str, Any]:
    """Facts about the person that change how to help: cannot come to the hall (→ 上门办 / 帮办代办), needs a hand
    with forms or phones (→ 帮办代办 first)."""
    if _CANNOT_COME.search(text) and not (_HIRES.search(text) and _FIRM_WORDS.search(text)):
        # («公司想招残疾人»: people a firm hires are not someone who cannot come; «残疾孩子上学»: help is offered, but
        # nobody said the child cannot come — what is said back later is only what was said: DialogueState)
        return {**parse, "cannot_come": True, "said_cannot_come": bool(_SAYS_CANNOT_COME.search(text))}
    if _NEEDS_A_HAND.search(text):
        return {**parse, "needs_a_hand": True}
    return parse


def interpret(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any = None, halls: Any = None,
              hall_topic: Any = None, heard_matter: str | None = None) -> dict[str, Any]:
    """Read ``parse`` in the conversation's state (see the module's description); flags ``cannot_come`` when the
    person or a relative cannot come to the hall."""
    text = str(parse.get("text") or "")
    if not text or parse.get("others") and not state.form:
        # (a question about what others provide, a bank's or a shop's: no question about ours either — «京东上买的
        # 东西想退货，地址在哪儿填» after 住院费用报销 asks no place of it; nlu/others.py)
        return parse
    read = _no_matter_does(_interpret(parse, state, kb, nlu, halls, hall_topic, heard_matter), state, kb)
    read = _how_long_asked(_last_clause_asks(read, parse, state, kb, nlu, text), state, text)
    read = _detail_said(_only_had_read(read, state, kb, text), state, text)
    return _next_steps(_flags(_asked_again(read, state, text), text), state, text)


#: The details a last clause asks of a matter by itself («…，要带啥子», «…，收费不», «…，要好久办得好»).
_CLAUSE_DETAILS = {"ask_materials", "ask_fee", "ask_time"}
#: Readings a last clause's detail question overrules: the hall (a day one comes, a copy made: «那我星期六来，要带啥子
#: 材料»), a place or the matter as a whole, or another detail read from the message's earlier words.
_OVERRULED_BY_LAST = {"ask_hall", "ask_location", "ask_matter", *_CLAUSE_DETAILS}
#: The longest last clause read on its own (characters).
_LAST_CLAUSE_CHARS = 10


#: How long it takes, asked of what is being done («补一个要好久», «补下来要好久», «办好要几天»).
_HOW_LONG = re.compile(r"(要|得|需要)(好久|多久|几天|多长时间)|(好久|多久|几天)(才|能|可以)?(拿|办|弄|补|下来|出来|好|到)")


def _how_long_asked(read: dict[str, Any], state: DialogueState, text: str) -> dict[str, Any]:
    """A short question of how long it takes, about the conversation's matter, that the classifier read as a goodbye
    or as the matter again («补下来要好久» after 营业执照 补领): the time."""
    if read["intent"]["name"] not in {"ask_matter", "goodbye", "nlu_fallback"} or not state.matter_code \
            or state.form or read.get("ambiguous") or not _HOW_LONG.search(text) \
            or len(_CJK.findall(text)) > _SHORT_QUESTION + 2 or any(c != state.matter_code for c in _strong(read)):
        return read
    named = next((e for e in read.get("entities") or [] if e.get("entity") == "matter"), None)
    if named is not None and str(named.get("value")) != state.matter_code:
        return read
    return dict(_as_intent(read, "ask_time", "how_long_asked"), out_of_scope=False)


def _last_clause_asks(read: dict[str, Any], parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any,
                      text: str) -> dict[str, Any]:
    """A message whose last clause asks a detail of a matter by itself («那周六能不能办居住证 收费不», «另外一个事 我妈走了
    房子要过户到我名下 要准备啥子»), about the matter the message names (or the conversation's): that detail, whatever the
    earlier clauses made the whole read as (a day, a copy made, a story). ``parse`` is the NLU's reading, ``read``
    the conversation's."""
    intent = read["intent"]["name"]
    clauses = [c for c in _CLAUSES.split(text.strip()) if c]
    if nlu is None or state.form or intent not in _OVERRULED_BY_LAST or read.get("ambiguous") or len(clauses) < 2 \
            or not QUESTION.search(clauses[-1]) or len(_CJK.findall(clauses[-1])) > _LAST_CLAUSE_CHARS:
        return read
    named = next((e for e in read.get("entities") or [] if e.get("entity") == "matter"), None)
    if named is None and intent == "ask_hall":
        # (the hall's reading keeps no matter: the one the message names strongly or by its name, if any)
        guess = next((e for e in parse.get("entities") or [] if e.get("entity") == "matter"), None)
        m = kb.get(str(guess.get("value"))) if guess is not None else None
        named = guess if m is not None and (m.code in _strong(parse) or called_by_name(text, m)) else None
    code = str(named.get("value")) if named is not None else state.matter_code
    if not code or state.candidates and not state.matter_code:
        return read
    alone = nlu.parse(clauses[-1])
    asked = alone["intent"]["name"]
    if asked not in _CLAUSE_DETAILS or asked == intent or any(c != code for c in _strong(alone)) \
            or asked == "ask_materials" and _WHICH_TO_GET.search(clauses[-1]) \
            and not MATERIAL_WORDS.search(clauses[-1]) \
            or asked == "ask_time" and intent == "ask_hall" and _HALL_WORDS.search(text):
        # («想开个杂货铺子，要办哪些证» asks which licences, not what to bring; «你们大厅礼拜六开门不？几点到几点» asks
        # the hall's hours)
        return read
    matter = kb.get(code) if code != state.matter_code else None
    if matter is not None:
        return _with_matter(read, asked, matter.code, matter.name, "last_clause_asks")  # (another than the one before)
    # (the hall's reading keeps no matter: the conversation's is asked about)
    return dict(_as_intent(read, asked, "last_clause_asks"), out_of_scope=False,
                entities=[e for e in read.get("entities") or [] if e.get("entity") == "matter"])


#: A detail asked in so many words («要准备啥子», «要收钱不», «申请了好久批得下来»), by the detail it asks.
_DETAIL_SAID = (("ask_materials", re.compile(r"(?:带|准备|提供|提交|拿)(?:些|点)?(?:啥|什么|哪些)|(?:啥子?|什么|哪些)(?:材料|资料|证件)")),
                ("ask_fee", re.compile(r"(?:收|交|要)(?:钱|费)(?:不|吗|么|没|哇)|(?:收|交)不(?:收|交)|要不要(?:交|收)?钱|"
                                       r"好多钱|多少钱")),
                ("ask_time", re.compile(r"好久|多久|几天|多长时间|几个工作日")))
#: How long until it is granted or paid, asked («申请了好久批得下来», «多久能发»).
_TAKES_LONG = re.compile(r"(?:好久|多久)\S{0,3}(?:批|下来|发|到账|办好|拿到)")
#: The thing spoken of, pointed at («这个补贴», «那个证»).
_THIS = re.compile(r"这个|那个|这种|这项")
#: What makes a clause ask the matter as a whole or its place, not one detail: how, the steps, the conditions, where.
#: So do a date a paper runs to («好久到期») and how long money is received or paid («能领多久», «要交好久»).
_NOT_ONE_DETAIL = re.compile(rf"{_HOW}|流程|步骤|手续|条件|在哪|哪里|哪儿|哪点|去哪|能不能|可不可以|本人|"
                             r"到期|过期|有效期|截止|(?:领|发|交|缴)(?:多久|好久|几个月|几年)")


def _detail_said(read: dict[str, Any], state: DialogueState, text: str) -> dict[str, Any]:
    """A message read as asking about its matter as a whole whose last clause asks one detail in so many words: that
    detail («随迁子女入学要准备啥子» read with the story before, «打印单位参保证明要收钱不», «这个补贴申请了好久批得下来»)."""
    if read["intent"]["name"] != "ask_matter" or state.form:
        return read
    if not (state.matter_code or any(e.get("entity") == "matter" for e in read.get("entities") or [])):
        return read
    last = next((c for c in reversed(_CLAUSES.split(text.strip())) if c), "")
    asked = {intent for intent, words in _DETAIL_SAID if words.search(last)}
    if len(asked) != 1 or _NOT_ONE_DETAIL.search(last) or not (QUESTION.search(last) or _TAKES_LONG.search(last)):
        return read
    if read.get("ambiguous"):
        # («这个补贴申请了好久批得下来» after 重度残疾人护理补贴, found among look-alikes: this one, the conversation's)
        near = [str(h.get("code")) for h in (read.get("matters") or [])[:3]]
        if state.matter_code not in near or not _THIS.search(last):
            return read
        return _with_matter(read, asked.pop(), state.matter_code, state.matter_name or "", "detail_said")
    return dict(_as_intent(read, asked.pop(), "detail_said"), out_of_scope=False)


def _asked_again(parse: dict[str, Any], state: DialogueState, text: str) -> dict[str, Any]:
    """«那X呢» right after a detail was asked («居住证在哪办 → 那临时身份证呢», «公司设立要多少钱 → 个体户呢»), read
    as a question about another matter it finds strongly: the same detail of it (or of the ones to choose from), not
    its card. So too a matter named, asking nothing, right after a detail was asked of none («要带什么材料 → 开网吧的»:
    the one asked which it was for)."""
    names_matter = any(e.get("entity") == "matter" for e in parse.get("entities") or []) or bool(_strong(parse))
    which_for = not state.matter_code and not QUESTION.search(text)
    if parse["intent"]["name"] != "ask_matter" or state.last_intent not in DETAIL_INTENTS or state.form \
            or not names_matter or not (_WHAT_ABOUT.match(text.strip()) or which_for) \
            or _DETAIL_WORDS.search(text):
        return parse
    return _as_intent(parse, state.last_intent, parse.get("interpreted") or "asked_again")


def _next_steps(parse: dict[str, Any], state: DialogueState, text: str) -> dict[str, Any]:
    """A question about a matter asking what else is to be done, once it is done (said now or in the message the
    conversation's topic came from, or just before: «营业执照办好了 → 还要办啥», «我刚注册了一家公司 → 接下来要办啥»):
    flagged ``next_steps`` — what usually follows it is answered, not the matter itself."""
    names_matter = any(e.get("entity") == "matter" for e in parse.get("entities") or [])
    done = any(_DONE.search(t) for t in (text, state.topic_text, state.said_before))
    if parse["intent"]["name"] != "ask_matter" or not names_matter or not done or not _NEXT_ASKED.search(text):
        return parse
    return dict(parse, interpreted="next_steps")


#: A request for something done for the person («帮我写个请假条», «麻烦帮我买张火车票»), and what it asks for.
_DO_FOR_ME = re.compile(rf"^(?:请|麻烦|能不能|能否|可不可以|可以)?(?:你|您)?(?:帮我|帮忙|替我|给我)(?![{KIN}])(?P<what>.*)$")
_FILLERS = re.compile(r"一下|一个|个|下|点|吧|嘛|哈|啊|呀|好吗|行吗|可以吗")


def _no_matter_does(parse: dict[str, Any], state: DialogueState, kb: Any) -> dict[str, Any]:
    """A request for something done for the person that the message says (two characters or more besides fillers),
    read as nothing understood and finding no matter, outside a form: out of scope, so the reply says what
    金小二 does and where else to turn (12345), not «没太明白» («帮我写个请假条»; «帮帮我» stays not understood,
    and «帮我妈…» speaks of someone)."""
    ranking = [r.get("name") for r in parse.get("intent_ranking") or []][:2]
    top, score = _top(parse, kb) if kb is not None else (None, 0.0)
    # (nothing understood, or a message the NLU nearly called out of scope whose best match is weak and shares no
    # word with it: «帮我查一下快递到哪了», read as asking a place, finds 到档查询 by meaning alone)
    unplaced = parse["intent"]["name"] == "nlu_fallback" and not parse.get("matters") \
        or "out_of_scope" in ranking and score < MATTER_SCORE and not (
            top is not None and _bigrams(str(parse.get("text") or "")) & _named_words(top))
    if not unplaced or state.form or state.matter_code or state.candidates or parse.get("error"):
        return parse
    m = _DO_FOR_ME.match(str(parse.get("text") or "").strip())
    if m is None or len(_CJK.findall(_FILLERS.sub("", m.group("what")))) < 2:
        return parse
    return dict(_as_intent(parse, "out_of_scope", "no_matter_does"), out_of_scope=True, matters=[], entities=[])


def _helpers_service(parse: dict[str, Any], why: str) -> dict[str, Any]:
    """``parse`` read as a question about the 金帮办's help (the hall topic 帮办代办), for the reason ``why``."""
    out = dict(_as_intent(parse, "ask_hall", why), out_of_scope=False, ambiguous=False)
    out["entities"] = [{"entity": "hall_topic", "value": HallTopic.PROXY.value}]
    return out


def _asked(intent: str | None) -> str:
    """What a message read as ``intent`` asks of the matter it is given: that question (:data:`ASK_INTENTS`), else
    the matter itself (``ask_matter``)."""
    return intent if intent in ASK_INTENTS else "ask_matter"


#: A wish for a certificate that says no certificate («我要办证», «想办个证件»).
_ONLY_A_CARD = re.compile(r"^(我|我们|俺)?(要|想|想要|需要|准备|打算)?(办|办理|弄|整|搞|申请|开)(个|一个|张|一张|些|下|一下)?"
                          r"(证|证件|证书|证照)[。!！?？~～]*$")
#: Whether a card or licence is needed, asked in no word of which («要办证不», «需要许可证吗», «要不要办证»).
_CARD_NEEDED = re.compile(r"^(那|那么)?(还|也)?(要|需要|得|用|要不要|需不需要)(单独|另外)?(办|办理|申请|领)?(个|一个|张|一张)?"
                          r"(证|证件|证书|证照|许可证|许可)(不|吗|么|嘛|没|不哦)?[。!！?？~～]*$")
#: A matter that is itself a way to complain about or report someone (劳动保障监察投诉举报, 纳税服务投诉处理).
_CHANNEL = re.compile(r"投诉|举报")
#: What a complaint about the hall's own service says: its people, its windows, its waiting.
_OUR_SERVICE = re.compile(r"窗口|工作人员|办事员|柜台|大厅|你们|政务中心|服务中心|态度|排队|等了|跑了|白跑|再来")
_WHERE_TO = re.compile(r"哪里|哪儿|哪个地方|什么地方|啥地方|在哪|去哪|到哪")
#: A place asked for or named («哪», «地方», «地址», «窗口», «怎么走», «网上», «街道»): where, not what.
_PLACE_ASKED = re.compile(r"哪|地方|地点|地址|位置|窗口|大厅|中心|怎么走|咋个?走|路线|网上|线上|手机上|街道|社区|附近|就近|异地")


def _complaint_channel(parse: dict[str, Any], state: DialogueState, kb: Any) -> dict[str, Any] | None:
    """A complaint about someone else than the hall that a matter takes: the matter, asked about (where, when
    «哪里» is said), not the hall's complaint. «我要投诉老板拖欠工资» finds 劳动保障监察投诉举报 well
    (:data:`MATTER_SCORE`); «去哪里投诉» or «怎么投诉» after it asks about it. A complaint that says the hall's own
    service («窗口态度差», «投诉你们工作人员») stays the hall's."""
    text = str(parse.get("text") or "")
    if not _CHANNEL.search(text) or _OUR_SERVICE.search(text) or state.form:
        return None
    top, score = _top(parse, kb)
    ours = kb.get(state.matter_code) if state.matter_code else None
    channel = next((m for m, sure in ((top, score >= MATTER_SCORE), (ours, True))
                    if m is not None and sure and _CHANNEL.search(m.name)), None)
    if channel is None:
        return None
    return _with_matter(parse, "ask_location" if _WHERE_TO.search(text) else "ask_matter", channel.code,
                        channel.name, "complaint_channel")


def _as_intent(parse: dict[str, Any], name: str, why: str) -> dict[str, Any]:
    out = dict(parse, intent={"name": name, "confidence": 1.0}, interpreted=why)
    out["intent_ranking"] = [out["intent"]]
    return out


def _who_names_no_one(parse: dict[str, Any], text: str, kb: Any) -> bool:
    """Whether a statement of who the person is finds two matters well (:data:`MATTER_SCORE`) and says no word that
    tells the first from the second: «我是残疾人» finds 残疾人教育资助申请 and 困难残疾人生活补贴 by 残疾人 alone — the
    person is to choose, not be answered with the first."""
    hits = [(kb.get(str(h.get("code"))), float(h.get("score") or 0)) for h in (parse.get("matters") or [])[:2]]
    if parse.get("ambiguous") or not _DESCRIBES_SELF.match(text) or QUESTION.search(text) or len(hits) < 2 \
            or any(m is None or score < MATTER_SCORE for m, score in hits):
        return False
    return not tells_apart(text, hits[0][0], [hits[1][0]])


def _interpret(parse: dict[str, Any], state: DialogueState, kb: Any, nlu: Any = None, halls: Any = None,
               hall_topic: Any = None, heard_matter: str | None = None) -> dict[str, Any]:
    """Read ``parse`` in the conversation's ``state``.

    Args:
        parse: the NLU's parse of the message (Rasa's format plus ``matters``, ``ambiguous``, ``out_of_scope``).
        state: the conversation's memory before this message.
        kb: the knowledge base.
        nlu: the NLU (for re-ranking a refinement with the earlier question); ``None`` skips refinements.
        halls: the hall directory (``knowledge.halls.HallDirectory``); ``None`` skips hall questions.
        hall_topic: ``text -> topic | None`` (``knowledge.hall_questions.classify_hall_question``).
        heard_matter: the matter the kiosk's n-best decision is sure the visitor asked about (spoken turns only).

    Returns:
        The parse to act on (``interpreted`` says why when it changed).
    """
    text = str(parse.get("text") or "")
    if kb is None or not text or text.startswith("/"):
        return parse
    intent = parse["intent"]["name"]
    strong = _strong(parse)
    if intent == "erase_my_data" and not ERASE_SAID.search(text):
        # «公司把我辞退了» read as erasing: a question about the matter it names strongly, else not understood
        parse = _as_intent(parse, "ask_matter" if strong else "nlu_fallback", "no_erase_words")
        intent = parse["intent"]["name"]
    if state.matter_code and not state.form and _WHAT_IT_TAKES.match(text.strip()):
        # «要办啥子手续» after 养老机构设立备案 asks what ours takes (its card), whatever the words alone find
        # (个体工商户设立登记, by 手续)
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "what_it_takes")
    if _only_denied(text, parse, kb) and not state.form:
        # «不是出生证哈» says what is not wanted, nothing else: no question about 出生医学证明 (a no, which asks again)
        return _as_intent(parse, "deny", "not_this")
    heard = kb.get(heard_matter) if heard_matter and not state.form and intent in SOCIAL_WORDS \
        and not SOCIAL_WORDS[intent].search(text) and all(c == heard_matter for c in strong) else None
    if heard is not None:
        # a greeting or small talk without its words is a hearing too garbled to be one («我妈妈是过的头部…», heard
        # in a noisy hall): the matter the kiosk's n-best decision is sure of, as for a question about a matter below
        return _with_matter(parse, "ask_matter", heard.code, heard.name, "voice")
    closing = _closing(text) if not state.form and (state.matter_code or state.candidates) else None
    if closing is not None and closing != intent:
        # «好嘞，晓得咋弄了，谢谢你哈», «要得，那我明天带起户口本过来，拜拜»: the conversation closed with thanks or a
        # goodbye after what the person will do, asking nothing
        return _as_intent(parse, closing, "closing")
    if intent not in _LICENCE_INTENTS and not state.form and _REMIND_ME.search(text) and _RENEWAL.search(text):
        # «你们能提前通知我续证不» (read as a time question) asks for the reminder: a licence to register
        parse = _as_intent(parse, "register_licence", "remind_asked")
        intent = "register_licence"
    if intent == "register_licence" and not state.form and not _REMIND_ME.search(text) \
            and not _KEEP_IT.search(text) and _HOW_ASKED.search(text):
        # «驾照有效期快到了，要咋个弄» asks how it is renewed (the matter's card, which offers the reminder), not to
        # register a licence
        parse = _as_intent(parse, "ask_matter", "how_renewed")
        intent = "ask_matter"
    if intent == "list_licences" and not _LISTS.search(text):
        # «能提醒我不» after 烟草专卖零售许可证延续 asks to be reminded (a licence to register), not for the list
        parse = _as_intent(parse, "register_licence", "no_list_words")
        intent = "register_licence"
    if intent == "ask_materials" and _WHICH_TO_GET.search(text) and not MATERIAL_WORDS.search(text):
        # «我刚来成都打工，需要办什么证» asks which matters, not what to bring to one («您想问哪个事项要带哪些材料»)
        parse = _as_intent(parse, "ask_matter", "which_to_get")
        intent = "ask_matter"
        top = _top(parse, kb)[0]
        said = _bigrams(text) - _OUR_PLACES
        if top is not None and len(parse.get("matters") or []) >= 2 and not said & _named_words(top):
            current = kb.get(state.matter_code) if state.matter_code and not state.form else None
            if current is not None and PLAN.match(state.topic_text or "") and not _NEXT_ASKED.search(text) \
                    and not _DONE.search(text):
                # (asked right after the matter of a plan told: that matter's card, which names what else it needs —
                # «想开个卡拉OK厅 → 要办啥子证» is no 食品经营许可 or 往来台湾通行证 found by meaning alone)
                return _with_matter(parse, "ask_matter", current.code, current.name, "which_to_get_ours")
            parse["ambiguous"] = True  # (found by meaning alone, the best match is a guess: the three are offered)
    if intent == "ask_location" and "reissue" in _cues().of_query(text) and not _PLACE_ASKED.search(text):
        # «户口本找不到了», «去年搬家的时候营业执照找不到了»: a paper lost (the reissue cues of variants.yml), told — not
        # a place that cannot be found
        parse = _as_intent(parse, "ask_matter", "lost_not_where")
        intent = "ask_matter"
    if intent in {"ask_time", "ask_location"} and state.matter_code and not _TIME_WORDS.search(text) \
            and (_whether_needed(text) or _STILL_CAN.search(text) and _YES_OR_NO.search(text)):
        # «每年要审核吗» after 护理补贴 asks whether a review is needed (its card), not the time limits; «过了一个月
        # 还能续不» after 居住证 whether it still can be done (its conditions say)
        parse = _as_intent(parse, "ask_matter", "whether_needed")
        intent = "ask_matter"
    if intent in DETAIL_INTENTS and state.matter_code and _WHICH_FIRST.search(text):
        # «先办哪个» after 食品经营许可 asks which comes first (its card says what it needs first), not where
        parse = _as_intent(parse, "ask_matter", "which_first")
        intent = "ask_matter"
    among = ([kb.get(state.matter_code)] if state.matter_code else offered(state, kb)) \
        if not state.form and _DONE_FIRST.search(text) else []
    speaking = [m for m in among if m is not None
                and _bigrams(_DONE_FIRST.sub(" ", text)) & _bigrams(_own_texts(m))]
    if len(speaking) == 1:
        # what must be done first for something the matter's own guide speaks of is that matter: «看病报销要先办啥»
        # after 常驻异地工作人员备案, whose people ask «在外地上班…看病咋整» (not 门诊费用报销, found by 报销) — or
        # after the options it is one of, the only one whose guide speaks of it
        return _with_matter(parse, "ask_matter", speaking[0].code, speaking[0].name, "done_first")
    if not (state.matter_code or state.candidates or state.form) and _who_names_no_one(parse, text, kb):
        parse = dict(parse, ambiguous=True)  # («我是残疾人»: which of the matters for them, asked)
        if intent not in MATTER_INTENTS and not _POLICY_WORDS.search(text):
            # («我是个体户», a guess of the classifier's: ask_policy; no policy is asked, only who the person is)
            parse = _as_intent(parse, "ask_matter", "who_names_no_one")
            intent = "ask_matter"
    if state.matter_code and not state.form and _FOR_KIN.match(text.strip()):
        # «是我妈要办», «不是我，是我妈要办» after 低保: who it is for, the same matter (not 医疗救助 read together)
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "for_kin")
    done_then = _done_then_asked(parse, state, kb, nlu)
    if done_then is not None:
        return done_then
    by_another = _proxy_asked(parse, state, kb)
    if by_another is not None:
        # «可以让别人代办吗» after 补领结婚证: what its guide says of someone acting for the person (who comes, what
        # they bring), not its card again
        return _with_matter(parse, "ask_materials", by_another.code, by_another.name, "by_another")
    paid_into = _contribution_asked(parse, state, kb) if intent in _CONTRIBUTION_READS else None
    if paid_into is not None:
        # «一年交多少» after 城乡居民基本养老保险参保登记 asks what is paid into the insurance, not what registering costs
        return _with_matter(parse, "ask_fee", paid_into.code, paid_into.name, "contribution")
    no_fee = _no_fee_asked(parse, state, kb) if intent == "ask_fee" else None
    if no_fee is not None:
        parse = _as_intent(parse, "ask_matter", no_fee)
        intent = "ask_matter"
        if state.matter_code and not state.form and (not parse.get("matters") or no_fee == "office_not_fee"
                                                        or no_fee == "capital_not_fee" and not _cues().of_query(text)):
            # («多少钱» after 养老保险定期待遇领取资格认证, of a matter that names 待遇: its card — what it pays, what it
            # costs — never «没太明白»; «要多少注册资金» after 公司设立登记 is about setting it up, not 变更 of capital;
            # «税务也要去吗» after 个体工商户注销登记 asks a step of it, not the 税务 matters of setting one up)
            return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", no_fee)
    if intent in {"ask_time", "ask_hall"} and _PAYS.search(state.matter_name or "") and _RECEIVED_HOW_LONG.search(text):
        # «能领多久» after 失业保险金申领: for how long it is paid (its card), not how long it takes to process
        parse = _as_intent(parse, "ask_matter", "received_how_long")
        intent = "ask_matter"
    wronged = _wronged_at_work(parse, state, kb, nlu)
    if wronged is not None:
        return wronged
    if not (state.matter_code or state.candidates or state.form):
        happened = _happened_to_person(parse, kb, nlu) or _paying_asked(parse, kb) or _attended(parse, kb) \
            or _founded(parse, kb) or _for_a_firm(parse, kb) \
            or _content_changed(parse, kb) or _done_to_what_one_has(parse, kb) or _ahead_not_early(parse, kb)
        if happened is not None:
            return happened
    if state.candidates and (intent == "ask_policy" or _RECEIVES.search(text)) and not _points(text):
        # «我妈是残疾人» → options → «能领啥补贴»: what people like them can receive, read with the question of the
        # options (not the option an alias of which says 补贴)
        people = _policy_for_people(parse, state, kb, nlu)
        if people is not None:
            return people
    if state.candidates and not state.form and intent in SOFT_INTENTS and BACKS_OUT.match(text):
        # «算了不办了» after options: none is picked (a detail read with them took 购房落户) — they are dropped
        return _as_intent(parse, "deny", "backs_out")
    # the options a correction picks among: those offered, else — right after one was picked — those it was picked
    # from («营业执照 → 第二个 → 不对，是第一个»)
    among = state.candidates or (state.offered_before if state.matter_code in state.offered_before
                                 and not state.form else [])
    said = _said_correction(text) if among and not QUESTION.search(text) else None
    meant = _selection(said.group("rest"), parse, replace(state, candidates=list(among)), kb) \
        if said is not None else None
    if meant is not None and (state.candidates or meant.code != state.matter_code):
        # «不是买房，是租房» after the options for 公积金提取: the option of what was meant
        return _with_matter(parse, _asked(state.last_intent), meant.code, meant.name, "selection")
    corrected = _correction(text, state, nlu, kb)  # (before the options: «不是个体户，是公司» picks none by 个体户)
    if corrected is not None:
        return corrected
    # (a message at length asking for a person or complaining picks none: «我搞不清楚，能不能喊个工作人员打电话跟我说»)
    if state.candidates and not _beyond_options(text, strong, state, kb) \
            and not (intent in {"request_human", "complain"} and len(_CJK.findall(text)) > _SHORT_QUESTION + 2):
        chosen = _selection(text, parse, state, kb)
        if chosen is not None:
            # what the message asks («…要带啥» picks an option and asks its materials), else what was being asked
            # («迁出去那个», read as a place question by «去», asks no detail: a statement picks, it asks nothing)
            # (or what its words ask, read otherwise: «医保报销要准备啥» picks 住院费用报销 and asks its materials)
            detail = intent in DETAIL_INTENTS and bool(QUESTION.search(text) or _DETAIL_WORDS.search(text))
            worded = label_question(text) if QUESTION.search(text) else "ask_matter"
            asked = intent if detail else worded if worded != "ask_matter" else _asked(state.last_intent)
            return _with_matter(parse, asked, chosen.code, chosen.name, "selection")
    by_material = _option_by_material(parse, state, kb)
    if by_material is not None:
        return _with_matter(parse, "ask_materials", by_material.code, by_material.name, "selection")
    narrowed = _narrowed(text, state, kb) if state.candidates and set(strong) <= set(state.candidates) \
        and intent not in _NOT_A_CHOICE and intent not in DETAIL_INTENTS else []
    if narrowed and nlu is not None and state.topic_text:
        # the one of them the question that brought up the options, read with this message, names clearly
        # («公司不想开了» → options → «咋个注销»: 公司注销登记, not 分公司注销登记)
        hit = _one_together(nlu, state.topic_text, text)
        one = next((m for m in narrowed if hit is not None and m.code == hit.get("code")), None)
        if one is not None:
            return _with_matter(parse, "ask_matter", one.code, one.name, "selection")
    if narrowed:  # «个体户» after 营业执照's options: which of the two 个体工商户 ones
        out = dict(_as_intent(parse, "ask_matter", "narrowed"), ambiguous=True, out_of_scope=False, entities=[])
        out["matters"] = [{"code": m.code, "name": m.name, "score": 1.0} for m in narrowed]
        return out
    only_how = bool(_ONLY_HOW.fullmatch(_FILLER.sub("", text)))  # («咋办», «要办啥手续»: how, and nothing else)
    if state.candidates and not state.matter_code and only_how:
        # «咋办», «要办啥手续» right after options says none of them: they are offered again (it picked the first) —
        # unless one option is the doing and the others only advice on it (学籍异动办理 beside 学籍异动政策咨询)
        options = offered(state, kb)
        doing = [m for m in options if not _ADVICE.search(m.name)]
        if len(doing) == 1 and len(state.candidates) >= 2:
            return _with_matter(parse, "ask_matter", doing[0].code, doing[0].name, "the_doing")
        out = dict(_as_intent(parse, "ask_matter", "options_again"), ambiguous=True, out_of_scope=False, entities=[])
        out["matters"] = [{"code": m.code, "name": m.name, "score": 1.0} for m in options]
        return out
    if state.candidates and _NONE_OF_THEM.search(text) and not strong:
        return _as_intent(parse, "request_human", "none_of_them")  # what the «都不是，转人工» button does
    if _ERASE.search(text) and not re.search(r"预约|提醒", text):
        return _as_intent(parse, "erase_my_data", "erase")
    if state.last_intent == "erase_my_data" and (intent in _ERASE_YES or intent in _ERASE_NO):
        return _as_intent(parse, "erase_confirm" if intent in _ERASE_YES else "erase_cancel", "erase_answer")
    if _ONLY_A_CARD.match(text) and not (state.matter_code or state.candidates or state.form):
        # «我要办证», «想办个证»: which one is asked (not 公证 by its 证, nor a fallback's guesses)
        return dict(_as_intent(parse, "nlu_fallback", "which_card"), matters=[], entities=[], ambiguous=False)
    if _CARD_NEEDED.match(text.strip()) and state.matter_code and not (state.candidates or state.form):
        # «要办证不» after 烟花爆竹经营（零售）许可证核发: whether that one is needed, its card says (not 犬类准养证 and
        # 不动产登记, found by 办证)
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "card_needed")
    if not state.form and _BOOK_IT.match(text.strip()) \
            and ("上门办" in (state.matter_name or "") or state.cannot_come):
        # «那帮我约一个» after 上门办服务预约's card, or once the person said they cannot come: the visit booked
        return _as_intent(parse, "book_home_visit", "book_it")
    if _ASKS_TO_ASK.fullmatch(text.strip()) and not state.form:
        return _as_intent(parse, "greet", "asks_to_ask")  # «我想问个事»: the greeting's «想办啥子事，直接告诉我»
    if _only_chongqing(text, parse, state, kb) and intent not in {"request_human", "complain"}:
        # «我爸住在重庆» (out of scope), «我在重庆上班» (not understood), «我是重庆人» (the 川渝通办 认证 by 重庆 alone):
        # where someone lives, told first, is noted (川渝通办) and the person asked what to do; it is read with what
        # follows
        return _as_intent(parse, "greet", "chongqing_told")
    # (an action read with none of its words — «我是盲人» as a request for a person — is no action)
    unsaid_action = intent in ACTION_WORDS and not ACTION_WORDS[intent].search(text)
    if (intent == "ask_matter" or intent in _ASKS_NOTHING or unsaid_action) and not heard_matter \
            and _only_who(text, parse, state, kb):
        # «我是台湾的»: who the person is, told first, is noted and the person asked what to do (read with what
        # follows), not answered with what its words find by meaning alone
        return _as_intent(parse, "greet", "who_told")
    if intent in _ASKS_NOTHING and not heard_matter and _KIN_AGE.match(text) \
            and not (state.matter_code or state.candidates or state.form):
        # a relative's age told first, finding nothing («我妈刚满七十») or a matter by the relative's word alone
        # («我妈70了»: 亲属关系证明, called 母女关系证明), is who the person asks for: noted, and the person asked what to
        # do, as «我是台湾的» is (a great age gets 上门办 and 帮办代办 offered with it: «我爸90了»)
        return _as_intent(parse, "greet", "who_told")
    if (intent in _ANSWERS or _FILLER.fullmatch(text)) and not (state.matter_code or state.candidates or state.form) \
            and state.last_intent in _ASKS_NOTHING:
        return _as_intent(parse, "nlu_fallback", "answers_nothing")  # «嗯嗯嗯», «呃» when nothing was asked
    aside = kb.get(str((parse.get("named_matter") or {}).get("code")))
    if aside is not None and (state.matter_code or state.candidates or state.form or _CANNOT_COME.search(text)):
        aside = None
    if aside is not None and not (hall_topic is not None and hall_topic(text) is not None):
        # «退役了», read as a goodbye, names 退役报到 when nothing else is going on («我婆婆瘫在床上» gets the offer of
        # 上门办 and 帮办代办, not the card of 上门办服务预约; «你们有没有母婴室» asks the hall, not 母婴保健 …)
        return _with_matter(parse, "ask_matter", aside.code, aside.name, "named_matter")
    if state.last_intent == "complain" and not QUESTION.search(text) \
            and (not _WANTS_TO.search(text) or _REGISTER.search(text) and not strong) \
            and not any(m is not None and called_by_name(text, m, 3) for m in map(kb.get, strong)):
        # «昨天下午在社保窗口» right after a complaint says when and where: more of the complaint, not a matter (nor
        # «没太明白» for «窗口人员让我跑了三趟», read as a goodbye); «我要登记» asks to register it
        return _as_intent(parse, "complain_ticket" if _REGISTER.search(text) else "complain", "complaint_detail")
    if intent in SOCIAL_WORDS and not SOCIAL_WORDS[intent].search(text) and not parse.get("matters") \
            and not (state.matter_code or state.candidates or state.form) \
            and not (hall_topic is not None and hall_topic(text) is not None):
        # «老汉儿八十多了» is no goodbye (and «你们中午休息不», read as a greeting, asks the hall's lunch break)
        return _as_intent(parse, "nlu_fallback", "no_social_words")
    channel = _complaint_channel(parse, state, kb)
    if channel is not None:
        return channel
    if COMPLAINT.search(text):
        name = "complain_ticket" if _REGISTER.search(text) else "complain"
        out = dict(parse, intent={"name": name, "confidence": 1.0}, interpreted="complaint")
        out["intent_ranking"] = [out["intent"]]
        return out
    if intent in DETAIL_INTENTS and _WHAT_ABOUT.match(text) and not _DETAIL_WORDS.search(text) \
            and (state.matter_code or state.candidates):
        intent = "ask_matter"  # «那换证呢» after 残疾人证新办 asks about another matter, not the same one's place
        parse = _as_intent(parse, intent, "what_about")
    if intent in DETAIL_INTENTS and not QUESTION.search(_YES_OR_NO.sub("", text.strip())) \
            and _CHANGED_PLACE.search(text) and not _DETAIL_WORDS.search(_CHANGED_PLACE.sub("", text)):
        # «公司地址变了» tells what changed (a 变更 to register), it does not ask where; nor does «执照上的地址要改不»,
        # which asks only whether to register it
        intent = "ask_matter"
        parse = _as_intent(parse, intent, "a_change")
        if state.matter_code and state.topic_text and nlu is not None:
            together = _one_together(nlu, state.topic_text, text, kb)
            if together is not None and str(together.get("code")) == state.matter_code:
                # the change of the matter the two read together name («公司搬家了 → 执照上的地址要改不»: 公司变更
                # 登记, though «执照» alone finds 个体工商户变更登记 first)
                return _with_matter(parse, intent, state.matter_code, state.matter_name or "", "a_change")
    # (or what happened, told first, naming a matter clearly: «工资拖了两个月没发» is no question how long)
    if intent in DETAIL_INTENTS and (state.matter_code or state.candidates or _WANTS_TO.search(text)
                                     or _one_matter(parse) is not None and _only_tells(text, state)
                                     and not _MAY_BE_ASKED.search(text)) \
            and not QUESTION.search(text) and not _DETAIL_WORDS.search(text) and not _COPIES.search(text) \
            and not (intent == "ask_time" and _TIME_WORDS.search(text)):  # («要几个工作日» asks)
        # «迁到老公那边» after 户口迁移 says where to, it does not ask where the office is; nor does «我想把户口迁到
        # 老公那里», said first
        intent = "ask_matter"
        parse = _as_intent(parse, intent, "a_statement")
    if intent == "book_home_visit" and QUESTION.search(text) \
            and (_ABOUT_SERVICE.search(text) or MATERIAL_WORDS.search(text)):
        # «上门办需要啥条件» asks about the service; «帮我约个上门办» asks for it; «上门要钱不» asks its fee; «上门要带
        # 啥» what to have ready
        intent = label_question(text)
        service = next((m for m in _first_matches(parse, kb)
                        if m is not None and _bigrams(text) & _named_words(m)), None)
        if service is not None:  # (the service's matter, by its words: «哪些人能申请上门» → 上门办服务预约's card)
            return _with_matter(parse, intent, service.code, service.name, "about_the_service")
        parse = _as_intent(parse, intent, "about_the_service")
    visit = _visit_service(kb) if state.form == _VISIT_FORM and not state.matter_code and not strong \
        and QUESTION.search(text) and _ABOUT_SERVICE.search(text) else None
    if visit is not None:
        # «要啥条件» while a visit is booked for no matter named: who the 上门办 service is for (its card), not the
        # matter the words alone find (公共租赁住房申请资格审核认定 by 条件)
        said = label_question(text)
        asked = intent if intent in DETAIL_INTENTS else said if said in DETAIL_INTENTS else "ask_matter"
        return _with_matter(parse, asked, visit.code, visit.name, "about_the_service")
    if _may_apply_asked(parse, state, kb):
        # «孩子去世了能申请不» after 计划生育家庭特别扶助金: whether the person, so placed, may apply for it (its card
        # says who may), not the matter the situation alone finds (孤儿救助) — or, when ours is applied for by no
        # one, the one of its family that is: «外地人能申请不» after 公租房租金缴纳 → 公共租赁住房申请资格审核认定
        applied = _applied_for(text, kb.get(state.matter_code), kb)
        return _with_matter(parse, "ask_matter", applied.code, applied.name, "may_apply")
    benefit = _benefit_of_kin(parse, state, kb, nlu) if intent in {"ask_policy", "ask_matter", "ask_fee"} else None
    if benefit is not None:
        return benefit
    top = max((float(h.get("score") or 0) for h in parse.get("matters") or []), default=0.0)
    people = _policy_for_people(parse, state, kb, nlu) if intent == "ask_policy" else None
    if people is not None:
        return people
    # help asked with a thing the hall does for people, named strongly by words of its own besides those asking for
    # help («能帮忙发招聘信息不»: 招聘服务, the posting of a firm's vacancies), asks for that service, not for a person
    helped_with = kb.get(strong[0]) if intent == "request_human" and strong and _HELP_ASKED.search(text) \
        and not _A_PERSON.search(text) else None
    if helped_with is not None and _bigrams(_HELP_ASKED.sub("", text)) & _named_words(helped_with):
        return _with_matter(parse, "ask_matter", helped_with.code, helped_with.name, "help_with_service")
    # (a helper's teaching is the label itself: a message taught as «request_human» needs no words for it)
    if intent in ACTION_WORDS and not ACTION_WORDS[intent].search(text) and parse.get("interpreted") != "learned":
        intent = "ask_matter" if top >= MATTER_SCORE else "nlu_fallback"
        guarded = parse["intent"]["name"]
        rest = [r for r in parse.get("intent_ranking") or [] if r.get("name") not in {guarded, intent}]
        parse = dict(parse, intent={"name": intent, "confidence": 1.0}, interpreted="not_an_action")
        parse["intent_ranking"] = [parse["intent"], *rest]  # what else the message may ask stays known
    # (or, for a request, the best match found as a message names a matter: «我要给公司做年报» — 年报 of 年度报告公示)
    named_first = kb.get(strong[0]) if strong else _top(parse, kb)[0] if top >= MATTER_SCORE else None
    # (a policy word inside the whole name or alias a matter is called by is no policy asked: «创业补贴»)
    called_whole = named_first is not None and called_by_name(text, named_first, 4)
    policy_said = _POLICY_WORDS.search(_without_names(text, named_first) if called_whole else text)
    if intent == "ask_policy" and not policy_said and (
            _WANTS_TO.search(text) and named_first is not None and _bigrams(text) & _named_words(named_first)
            or called_whole or (state.candidates or state.matter_code) and state.last_intent != "ask_policy"):
        # no policy word, and a request for a matter found strongly by its words («我想注册个公司»), a matter called
        # by a whole name («企业年报»), or a detail in a conversation about matters («公司的» after the options for
        # «营业执照»), not the firm's facts asked for
        intent = "ask_matter"
        parse = _as_intent(parse, intent, "no_policy_words")
    if _TOO_HARD.search(text) and not state.form and not QUESTION.search(text) and not BACKS_OUT.search(text) \
            and not strong and intent in SOFT_INTENTS:
        # «太复杂了», «看不懂» after a matter: the 金帮办's help (and the button that asks one), not a no, nor a
        # goodbye; «太麻烦了，不办了» backs out
        return _helpers_service(parse, "too_hard")
    if intent == "book_home_visit" and not state.form and not state.cannot_come and not _CANNOT_COME.search(text) \
            and (state.firm_facts or _FIRM_WORDS.search(f"{state.said_before} {state.topic_text} {text}")):
        # «能上门帮我们办不» from a firm (a 餐饮公司's licence to renew): the 金帮办's help for firms, not the home
        # visit booked for people who cannot come to the hall
        return _helpers_service(parse, "firm_proxy")
    if intent == "book_home_visit" and state.matter_code and not state.form and not strong \
            and not QUESTION.search(text) and _SAYS_CANNOT_COME.search(text) and not _VISIT_ASKED.search(text):
        # «我爸行动不便» after 高龄津贴 tells who cannot come; it asks for no visit: 上门办 and 帮办代办 are offered with
        # the matter, not a booking started
        return {**_with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "cannot_come"),
                "cannot_come": True}
    # (whichever way the classifier read it: the booking or the matter)
    if (intent == "book_home_visit" or intent == "ask_matter" and "上门" in text) and not state.form \
            and QUESTION.search(text):
        named = [m for m in map(kb.get, strong) if m is not None and "上门" not in m.name]
        if len(named) == 1 and _bigrams(text) & _named_words(named[0]):
            # whether a matter named by its words can be done at home («养老金认证能上门不»): that matter's card,
            # with 上门办 and 帮办代办 offered, not a booking started
            asked = _with_matter(parse, "ask_matter", named[0].code, named[0].name, "home_asked")
            return {**asked, "cannot_come": True}
    if intent == "book_home_visit" and not state.form and _OWN_BOOKING.search(text):
        # «我约的上门办»: the visit booked already, asked about (its number asked for), not a new one booked
        intent = "booking_status"
        parse = _as_intent(parse, intent, "own_booking")
    if intent in _BOOKING_INTENTS and not state.last_booking and not find_booking_numbers(text) \
            and (state.matter_code and QUESTION.search(text) or _NEEDS_APPOINTMENT.search(text)
                 or intent == "booking_status" and _HOW_TO_BOOK.search(text)
                 or (state.candidates or state.matter_code and intent == "change_booking")
                 and not _BOOKED.search(text)):
        # «是不是要预约» after 婚姻登记, or «结婚的话要提前预约吗», asks whether a matter needs an appointment,
        # «想改成妈妈的» after options (or after the card of 民族成份变更) says which: there is no booking to ask about
        # (a detail its words ask is that detail: «预约要收钱不» after 结婚登记预约)
        intent = "ask_matter" if not state.matter_code or _near_detail(parse) is None else _near_detail(parse)
        parse = _as_intent(parse, intent, "no_booking")
        current = kb.get(state.matter_code) if state.matter_code and not state.candidates else None
        if current is not None and "booking" in _kinds(current) \
                and not any(m is not None and called_by_name(text, m, 3) for m in map(kb.get, strong)):
            # the conversation's matter is the appointment itself, named by nothing else: «能提前约时间不» after
            # 公证业务预约办理 (alone it finds 结婚登记预约)
            return _with_matter(parse, intent, current.code, current.name, "no_booking")
    named, score = _top(parse, kb)
    if named is not None and halls is not None and hall_topic is not None and set(strong) <= {named.code} \
            and intent in HALL_INTENTS and not parse.get("ambiguous") and halls.find(text) is None \
            and (strong or score >= MATTER_SCORE and _bigrams(text) & _named_words(named)) \
            and hall_topic(text) in _HOURS_OF_A_MATTER and "booking" not in _kinds(named) \
            and not _brought(text, named) and not (hall_topic(text) in _TIMES and _time_told(text)):
        # «周末能办社保卡不», «办社保卡需不需要预约»: when and how the matter it names is done — its places, with
        # their hours and booking (a bank on Saturday, online at any time), not one hall's hours («结婚要预约吗»
        # finds 结婚登记预约 itself: its card). A match of a kind of request the question does not say gives way to
        # the one it calls by the same words (:func:`other_kinds`: «办营业执照要排队不» is about 设立, not 补领).
        named = (other_kinds(text, named, parse.get("matters") or [], kb) or [named, named])[1]
        return _with_matter(parse, "ask_location", named.code, named.name, "matter_hours")
    if state.matter_code and not state.form and _STILL_OPERATES.search(text) \
            and all(c == state.matter_code for c in strong):
        # «还能营业不» after 公共场所卫生许可延续 («卫生许可证过期了»): whether the business may go on, which the
        # matter's card says (its conditions) — not the hall's opening hours
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "still_operates")
    if state.matter_code and not state.form and _trip_to_hall(text) and not strong \
            and intent in HALL_INTENTS | {"out_of_scope"}:
        # «要跑一趟大厅不» after 社会保障卡挂失: whether it is done at the hall or elsewhere (online) — its places
        return _with_matter(parse, "ask_location", state.matter_code, state.matter_name or "", "trip_to_hall")
    if intent == "ask_time" and state.matter_code and not state.form and _HOW_ASKED.search(text) \
            and not _TIME_WORDS.search(text):
        # «怎么延续» after 烟草专卖零售许可证延续 asks how, not how long: the card
        parse, intent = _as_intent(parse, "ask_matter", "not_how_long"), "ask_matter"
    about_person = bool(_CANNOT_COME.search(text)) and bool(state.matter_code or state.candidates)
    # «在哪里» after a matter (or options) is about the matter's place («周末能办不» is still about the hall's hours)
    about_matter = intent in {"ask_materials", "ask_location", "ask_fee"} \
        and bool(state.matter_code or state.candidates)
    said = {w.group(0) for w in _HALL_WORDS.finditer(text)}
    if about_matter and _trip_to_hall(text):
        said -= {"大厅", "政务中心", "政务服务中心", "服务中心"}  # («在哪里报，要跑大厅不»: the matter's places, online too)
    # «营业执照在大厅几楼办»: where in the hall a matter the message finds well is done — its places (their windows);
    # so is «大厅几楼» after a matter (not «卫生间在几楼», a thing of the hall's own)
    of_ours = bool(state.matter_code) and not strong and not state.form \
        and (hall_topic is None or hall_topic(text) in {None, HallTopic.ADDRESS})
    in_hall = bool(_WHERE_IN_HALL.search(text)) and (_top(parse, kb)[1] >= MATTER_SCORE or of_ours)
    if in_hall and intent != "ask_location":
        parse, intent = _as_intent(parse, "ask_location", "where_in_hall"), "ask_location"
    about_matter = about_matter or in_hall
    # («在哪个窗口» after a matter asks where the matter is done: its places name their windows)
    hall_words = bool(said) and not in_hall \
        and not (about_matter and intent == "ask_location" and said <= _MATTER_PLACE_WORDS)
    # a question about the helpers' service is answered even when it names the service's own matter
    asks_help = intent == "request_human" and bool(QUESTION.search(text))
    # «怎么预约» and nothing else, about no matter: how to book at the hall (the search finds 结婚登记预约 by 预约)
    books_how = not state.matter_code and bool(_ONLY_HOW_TO_BOOK.fullmatch(text.strip()))
    # («什么时候截止» after 年报 asks the matter's deadline, not when the hall closes)
    deadline = bool(state.matter_code) and bool(_DEADLINE.search(text)) and not said
    # whether the hall has a thing one uses, named by words a matter found strongly is not called by («有没有无障碍
    # 通道，我坐轮椅» finds 困难重度残疾人家庭无障碍改造申请 by 无障碍; «有没有无障碍改造» is that matter)
    facility = False
    if _EXISTS.search(text) and halls is not None and hall_topic is not None and hall_topic(text) in _THINGS_USED:
        first = _top(parse, kb)[0]
        found = [*strong, *([first.code] if first is not None and top >= MATTER_SCORE else [])]
        rest = _bigrams(_EXISTS.sub("", text))
        facility = bool(found) and all(m is not None and rest - _named_words(m) for m in map(kb.get, found))
    hall_words = hall_words or facility
    asks_hall = asks_help or books_how or facility \
        or (intent in HALL_INTENTS | {"out_of_scope"} and not strong and not deadline)
    topic = hall_topic(text) if halls is not None and hall_topic is not None and asks_hall else None
    visit = _top(parse, kb)[0] if topic == HallTopic.PROXY and intent in DETAIL_INTENTS and "上门" in text else None
    if visit is not None and "上门" in visit.name:
        # «你们上门是免费的吧» asks a detail of the 上门办 service it finds, not what 帮办代办 does
        return _with_matter(parse, intent, visit.code, visit.name, "about_the_service")
    if topic is None and halls is not None and asks_hall and state.last_intent != "ask_hall" \
            and not _WHAT_ABOUT.match(text) and _only_a_hall(text, halls):
        # «金泉街道便民服务中心»: where it is, first («那营门口街道的呢» asks what was being asked, there)
        topic, hall_words = HallTopic.ADDRESS, True
    if topic is None and halls is not None and asks_hall and not state.matter_code and _LIVES_AT.search(text) \
            and halls.find(text) is not None and not parse.get("matters") and not _WANTS_TO.search(text):
        # «我在茶店子住» (what the hall answers invite: «告诉我您住哪个街道»): that street's centre, where it is (a
        # matter asked with it — «我住营门口街道，想问问居住证咋个办» — is the matter)
        topic, hall_words = HallTopic.ADDRESS, True
    ours = kb.get(state.matter_code) if state.matter_code else None
    # («补办收钱不» after the hall's copier asks the fee of 烟草专卖零售许可证补办, by a word of its name)
    says_ours = ours is not None and bool(_bigrams(text) & _named_words(ours))
    if topic is None and halls is not None and state.last_intent == "ask_hall" and not strong \
            and (halls.find(text) is not None or short_question(text) and intent != "ask_materials" and not says_ours
                 or state.hall_topic in {t.value for t in _TIMES} and _CLOCK.search(text) and QUESTION.search(text)):
        # «那营门口街道的呢» after the hall's hours: the same question about the hall it names; «收费不» after
        # the hall's parking: the same topic, a detail of it; «那我12点半去能办不» after its lunch break: when it
        # serves, again
        topic = next((t for t in HallTopic if t.value == state.hall_topic), None)
        hall_words = topic is not None
    elif topic is not None and state.last_intent == "ask_hall" and not strong and not in_hall \
            and not _goes_elsewhere(text, halls):
        hall_words = True  # «周末开不开» right after a hall's answer is about the hall, whatever the classifier read
        earlier = next((t for t in _THINGS_USED if t.value == state.hall_topic), None)
        if earlier is not None and topic in _TIMES and _USE_IT.search(text):
            topic = earlier  # «晚上能用不» after the self-service area: when it is open, not the evening service
    if topic is not None:
        if intent == "request_human" or topic == HallTopic.PROXY and _DO_FOR_ME.match(text.strip()):
            # «可以找人帮我代办不» asks about the service, «帮我转人工» asks for it; «帮我填一下表» asks for what the
            # hall's 帮办代办 does
            about_hall = topic == HallTopic.PROXY
        else:
            # (read as out of scope: parking or the facilities, or the way there when no other destination is
            # asked — «附近有没有地铁站», «几号线»; not «春熙路怎么走»; times of day are everyday words: «今天晚上吃啥»)
            # — nor, in a conversation about a matter, a short question of when: «星期六能补不» after 社保卡补领; nor
            # whether its certificate is posted: «能寄到屋头不» after 护照, not «帮我查下快递到哪了» about nothing)
            unplaced_hall = intent == "out_of_scope" and (topic in {HallTopic.PARKING, HallTopic.FACILITIES} or (
                topic == HallTopic.TRANSPORT and not _goes_elsewhere(text, halls)) or (
                topic in _TIMES and bool(state.matter_code) and short_question(text) and bool(_SERVED.search(text)))
                or topic == HallTopic.MAIL and bool(state.matter_code))
            # (a time of day in what the person does, with a matter found well, is no question of when the hall
            # serves)
            told_when = topic in _TIMES and top >= MATTER_SCORE and _time_told(text)
            # (the way to the hall is the hall's, asked in any words: «坐地铁过来的话在哪个站下最近» after 护照 — not a
            # matter told with a bus in it, «办个优待证，坐公交逛公园方便些», nor a detail asked after a trip told)
            way_here = topic == HallTopic.TRANSPORT and not strong and top < MATTER_SCORE \
                and intent not in _CLAUSE_DETAILS and bool(QUESTION.search(text)) and not _goes_elsewhere(text, halls)
            about_hall = hall_words or unplaced_hall or books_how or way_here or (intent in HALL_INTENTS and (
                topic in HALL_ONLY_TOPICS and not told_when
                or (top < MATTER_SCORE and not about_person and not about_matter)))
        if about_hall and not _PLACE_CHANGES.search(text):
            hall = halls.find(text)
            if hall is None and state.last_intent == "ask_hall" and state.last_hall:
                hall = halls.get(state.last_hall)  # «几点下班» after 营门口街道便民服务中心's address: that centre
            out = dict(parse, intent={"name": "ask_hall", "confidence": 1.0}, interpreted="hall")
            out["intent_ranking"] = [out["intent"]]
            out["entities"] = [{"entity": "hall_topic", "value": getattr(topic, "value", str(topic))}]
            if hall is not None:
                out["entities"].append({"entity": "hall", "value": hall.id})
            out["ambiguous"] = False
            out["out_of_scope"] = False
            return out
    if halls is not None and state.last_intent == "ask_hall" and state.last_hall and len(strong) == 1 \
            and _CAN_DO_THERE.search(text) and QUESTION.search(text) and halls.find(text) is None:
        hall = halls.get(state.last_hall)
        there = kb.get(strong[0]) if hall is not None else None
        if there is not None:
            # «能办居住证不» right after 营门口街道便民服务中心's address asks whether that centre does it
            return _where_at_hall(parse, there.code, there.name, hall)
    if halls is not None and not (state.matter_code or state.candidates or state.form) \
            and _CAN_DO_THERE.search(text) and QUESTION.search(text):
        hall, hit = halls.find(text), _one_matter(parse)
        there = kb.get(str(hit.get("code"))) if hall is not None and hit is not None \
            and float(hit.get("score") or 0) >= MATTER_SCORE else None
        if there is not None and _bigrams(text) & _named_words(there):
            # «我住在九里堤，社保卡能在街道办吗»: whether that street's centre does the matter the question names, found
            # clearly (not which of 社保卡's matters, by its name alone)
            return _where_at_hall(parse, there.code, there.name, hall)
    if state.matter_code and halls is not None and all(c == state.matter_code for c in strong) \
            and (_CAN_DO_THERE.search(text) or _PLACE_CAN.search(text) or _LIVES_AT.search(text)
                 or _WHAT_ABOUT.match(text) and state.last_intent == "ask_location"):
        hall = halls.find(text)
        if hall is not None:  # «荷花池街道能办不» after 社保卡补领, «那驷马桥呢» after its place, «我住茶店子»: there
            return _where_at_hall(parse, state.matter_code, state.matter_name or "", hall)
        if (intent in {"nlu_fallback", "out_of_scope", "ask_matter"} or intent == "ask_time"
            and not _TIME_WORDS.search(text)) and _AT_A_PLACE.search(text) \
                and (_CAN_DO_THERE.search(text) or _PLACE_CAN.search(text)) and QUESTION.search(text):
            # «能在金牛区办吗» after 补领结婚证 (understood as nothing), «在医院可以办不» after 出生登记: where the
            # matter is done; so is whatever a kind of place can do: «银行能激活不» (read as how long) after 社保卡启用
            return _with_matter(parse, "ask_location", state.matter_code, state.matter_name or "", "matter_place")
    # (a Chongqing said just before, in a message placed nowhere, counts: «我婆婆在重庆住», then «认证在哪弄»; so do
    # the question the conversation's matter was found for, «我是重庆户口», then «在成都能换身份证不», and a
    # conversation about a 川渝通办 variant: «我爸在重庆领养老金», then «认证咋弄»)
    told_before = f"{state.said_before} {state.topic_text or ''}"
    if (_CHONGQING.search(f"{told_before} {text}") or "川渝" in (state.matter_name or "")) \
            and intent not in {"request_human", "complain", "thanks", "goodbye", "greet"}:
        variant = _chongqing_variant(kb, parse, state, nlu)
        if variant is not None:
            asked = _asked(intent)
            return _with_matter(parse, asked, variant.code, variant.name, "chongqing")
    # (so does where else the person's 户口 is, for a matter whose variants differ by it: 居民身份证's)
    home = home_told(text) or home_told(told_before)  # (the latest said: «户口已经迁到成都了» after «户口在绵阳»)
    region = home[0] if home is not None else None
    if region is not None and intent not in {"request_human", "complain", "thanks", "goodbye", "greet"}:
        variant = _home_variant(kb, parse, state, region)
        if variant is not None:
            return _with_matter(parse, _asked(intent), variant.code, variant.name, "home_place")
    # (and which way a thing moves, for a matter named for one way and kin named for the other: 档案转出 / 档案接收)
    way = _way_to(text) or _way_to(told_before)
    if way is not None and intent not in {"request_human", "complain", "thanks", "goodbye", "greet"}:
        variant = _way_variant(kb, parse, state, way)
        if variant is not None:
            return _with_matter(parse, _asked(intent), variant.code, variant.name, "which_way")
    current = kb.get(state.matter_code) if state.matter_code and not state.form else None
    others = [kb.get(c) for c in strong if c != current.code] if current is not None else []
    if others and all(m is not None and _called_within_ours(text, current, m) for m in others):
        # the name said is part of one of ours: «怎么开完税证明» after «个人所得税» asks for its 个税完税证明
        return _with_matter(parse, _asked(intent), current.code, current.name, "within_ours")
    procedure = _procedure_asked(parse, state, kb, nlu)
    if procedure is not None:
        asked = intent if intent in DETAIL_INTENTS else "ask_matter"
        return _with_matter(parse, asked, procedure.code, procedure.name, "procedure")
    step = _family_member_asked_about(text, current, kb) if current is not None and not strong else None
    if step is not None:
        # («注销的呢» after 公共场所卫生许可新办审批: its 注销 — said by one member's name, before any reading together)
        return _with_matter(parse, _asked(intent), step.code, step.name, "what_about_step")
    # read with the message before — placed nowhere, or the question of the options when this one is ambiguous
    # too — before it is read as a detail of the options
    together = _read_together(parse, state, kb, nlu, strong) or _what_about_together(parse, state, kb, nlu)
    if together is not None:
        return together
    if intent in _ANSWERS and state.matter_code and not state.form and not strong \
            and (_ASKS_WHAT.search(text) or _whether_needed(text)) and not ANSWER_CLAUSE.match(text) \
            and not _another_kind_asked(text, kb.get(state.matter_code)):
        # «有啥条件» after 收养登记, read as a yes, is no answer: it asks about the matter (its card says who may);
        # nor is «也要办吗» after 食品经营许可核发 («我们是网上卖的»): whether it is needed, its card says. Whether a
        # kind of request ours is not of is needed («要续不» after 食品小作坊备案发放) asks about that sibling: read
        # as a refinement below
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "no_answer")
    # a greeting, thanks or goodbye without its words («刚出生的» read as a greeting) may be a detail; with them
    # («好的，再见») it is none
    said = intent in SOCIAL_WORDS and bool(SOCIAL_WORDS[intent].search(text))
    soft = (intent in SOFT_INTENTS or intent in SOCIAL_WORDS) and not said
    if soft and state.matter_code and not _PAYS.search(state.matter_name or ""):
        # («可以领吗» after 失业登记, which pays nothing: what one receives, before any reading as its detail)
        received = _what_one_receives(parse, state, kb, nlu)
        if received is not None:
            return received
    if intent in SOFT_INTENTS and state.matter_code and not strong and _NEEDS_A_HAND.search(text):
        # «不识字» after 高龄津贴 (read as a no): someone who needs a hand with it is offered 帮办代办 and 上门办
        # (the help is offered by the step, as for someone who cannot come)
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "cannot_come")
    # (so is the matter for who the person says they are: «我在事业单位上班» after 企业职工基本养老保险关系转移接续申请
    # is 机关事业单位基本养老保险关系转移接续（含职业年金）申请, «我是领工伤待遇的» after 养老保险定期待遇领取资格认证 is
    # 工伤保险定期待遇领取资格认证; not when the question called ours by its name: «我想申请创业补贴 → 刚毕业的大学生»
    # stays on 创业补贴申请, not 求职创业补贴申领 for graduates)
    for_others = _same_for_others(text, current, _reader(nlu, current.name, text)(), kb) \
        if current is not None and nlu is not None and not strong \
        and (_FOR_OTHERS.search(text) or (_DESCRIBES_SELF.match(text) or _WORKS_AT.match(text))
             and not called_by_name(state.topic_text or "", current, 4)) else None
    if for_others is not None:
        return _with_matter(parse, _asked(intent), for_others.code, for_others.name, "for_others")
    if soft and (state.matter_code or state.candidates):
        refined = _refinement(text, parse, state, kb, nlu)
        if refined is not None and current is not None and refined.code != current.code \
                and (_only_had(text, refined) or _says_our_name(text, current, refined)):
            # («我们有居住证，在金牛租房子住» after 随迁子女入学: a paper one has is no request for it; «购房入户咋个办»
            # after 购房落户 says a word of its name no 户口迁移审批 is called by)
            refined = current
        siblings = _siblings_unsaid(text, parse, state, kb, refined)
        if siblings:
            # «我想取出来» after the options for «公积金» says 提取, not which: the 提取 ones, not 提取（退休）
            out = dict(_as_intent(parse, "ask_matter", "family_unsaid"), ambiguous=True, out_of_scope=False,
                       entities=[])
            out["matters"] = [{"code": m.code, "name": m.name, "score": 1.0} for m in siblings]
            return out
        if refined is not None:
            # a question that stays on the matter asks the detail the classifier nearly read («好久拿得到»)
            same = refined.code == state.matter_code and bool(QUESTION.search(text))
            # («那离职的呢» right after the 租房 one's materials asks the 离职 one's)
            again = state.last_intent if _WHAT_ABOUT.match(text) and state.last_intent in DETAIL_INTENTS else None
            # («换证要照片不» after 居民身份证办理 asks whether a 相片 is to be brought: its materials; so does
            # «认定要体检不» after 教师资格证相关政策咨询, of 教师资格认定's; «要几张照片»: how many, its checklist says)
            material = "ask_materials" if not _WHAT_ABOUT.match(text) and (
                QUESTION.search(text) and (_names_material(text, refined) or _ORIGINAL.search(text))
                or _COPIES.search(text)) else None  # (an original asked of, «要户口本原件不»: what to bring too)
            # («要交啥税» after 不动产转移登记 asks what is paid for it: its fee, which names the taxes)
            tax = "ask_fee" if same and _TAX_ASKED.search(text) else None
            asked = material or tax or (_near_detail(parse) if same else None) or again or "ask_matter"
            return _with_matter(parse, asked, refined.code, refined.name, "refinement")
    if intent in SOFT_INTENTS and state.matter_code and not strong and _CANNOT_COME.search(text) \
            and not _names_another_well(parse, state, kb):
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "cannot_come")
    if intent in SOFT_INTENTS and state.matter_code and not state.form and nlu is not None and state.topic_text \
            and not QUESTION.search(text) and _SAYS_CANNOT_COME.search(text) \
            and (_one_together(nlu, state.topic_text, text, kb) or {}).get("code") == state.matter_code:
        # a statement that someone cannot come, which the two read together find ours for, is about ours even when
        # alone it names another: «他住院了来不了» after 社会保障卡申领 (alone: 住院费用报销)
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "cannot_come")
    received = _what_one_receives(parse, state, kb, nlu) if intent in {"ask_fee", "ask_matter"} else None
    if received is not None:
        return received
    material = _asks_about_material(parse, state, kb)
    if material is not None:
        return _with_matter(parse, material, state.matter_code or "", state.matter_name or "", "material")
    same_step = _same_step_named(parse, state, kb)
    if same_step is not None:  # «烟草证咋办» after 停业登记: 烟草专卖零售许可证停业
        return _with_matter(parse, intent, same_step.code, same_step.name, "same_step")
    other = _other_named(parse, state, kb)
    if other is not None:  # «丧葬补助去哪里领» after 户口注销: where 遗属待遇申领 (丧葬补助金申领) is done
        return _with_matter(parse, intent, other.code, other.name, "other_named")
    sibling = _kin_asked(parse, state, kb, nlu)
    if sibling is not None:  # «认定要啥材料» after 教师资格证相关政策咨询: 教师资格认定's materials
        return _with_matter(parse, intent, sibling.code, sibling.name, "kin_named")
    if _same_matter_asked(parse, state, kb) or _asked_of_ours(parse, state, kb, nlu):
        return _with_matter(parse, intent, state.matter_code or "", state.matter_name or "", "follow_up")
    if intent == "ask_location" and _in_words_of_our_guide(parse, state, kb):
        # «在医院办还是在哪办» after 《出生医学证明》首次签发: where ours is done (not 异地转诊人员备案, called 医院转诊)
        return _with_matter(parse, intent, state.matter_code or "", state.matter_name or "", "our_guide_words")
    detail = _detail_asked(parse, state, kb, strong)
    if detail is not None:
        return _with_matter(parse, detail, state.matter_code or "", state.matter_name or "", "follow_up")
    if _unsure_follow_up(parse, state, kb, strong):
        # (a detail its words ask that the classifier nearly chose is asked: «医保报销要准备啥» after 住院费用报销)
        said = label_question(text) if intent == "ask_matter" else None
        asked = said if said in DETAIL_INTENTS and said == _near_detail(parse) else _asked(intent)
        return _with_matter(parse, asked, state.matter_code or "", state.matter_name or "", "unsure_follow_up")
    if intent == "ask_matter" and state.matter_code and not state.form and not parse.get("matters") \
            and short_question(text):
        # a short question that finds no matter at all asks how ours is done («怎么交» after 职工参保登记, which was
        # not understood)
        return _with_matter(parse, intent, state.matter_code, state.matter_name or "", "follow_up")
    apart = _told_apart_by_conversation(parse, state, kb) or _one_said_before(parse, state, kb)
    if apart is not None:  # «抚恤那个待遇要年年认证吗» after 工伤认定申请: the 工伤保险 one, not the 养老保险 one
        return _with_matter(parse, intent, apart.code, apart.name, "told_apart")
    if heard_matter and intent in HEARD_INTENTS and all(c == heard_matter for c in strong):
        heard = kb.get(heard_matter)
        if heard is not None:
            return _with_matter(parse, _asked(intent), heard.code, heard.name,
                                "voice")
    intent = parse["intent"]["name"]
    if intent in SOCIAL_WORDS and not SOCIAL_WORDS[intent].search(text) and state.matter_code \
            and not _FILLER.fullmatch(text):
        # a greeting, thanks or goodbye without its words in a conversation about a matter is none: «咋补» after
        # 社会保障卡补领 (read as a goodbye) asks about the matter — never «慢走» to someone still asking
        if QUESTION.search(text):
            return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "no_social_words")
        return _as_intent(parse, "nlu_fallback", "no_social_words")
    if state.matter_code and not strong and only_how:
        # «咋弄» after a matter, understood as nothing: how the matter is done — its card
        return _with_matter(parse, "ask_matter", state.matter_code, state.matter_name or "", "how_again")
    hits = parse.get("matters") or []
    if state.matter_code and not state.form and parse.get("ambiguous") and not parse.get("out_of_scope") \
            and intent in ASK_INTENTS and hits and str(hits[0].get("code")) == state.matter_code:
        # a question as close to other matters as to the conversation's, but closest to it, is about it: «已经办了证
        # 要续签注» after 往来港澳通行证签注 (居住证办理, called 居住证签注, nearly as close)
        return _with_matter(parse, _asked(intent), state.matter_code, state.matter_name or "", "ours_first")
    kind = _kind_of_sibling(parse, text, state, kb) if intent in ASK_INTENTS else None
    if kind is not None:
        return _with_matter(parse, _asked(intent), kind.code, kind.name, "kind_said")
    after = _after_step_done(parse, text, state, kb) if intent in ASK_INTENTS else None
    if after is not None:
        return _with_matter(parse, _asked(intent), after.code, after.name, "step_done")
    told = _told_before(parse, text, state, kb) if intent in ASK_INTENTS else None
    if told is not None:
        return _with_matter(parse, _asked(intent), told.code, told.name, "told_before")
    return parse


def _told_before(parse: dict[str, Any], text: str, state: DialogueState, kb: Any) -> Any:
    """The sibling of a new question's best match that the person's situation, told before, tells apart when the
    question does not: «我从单位辞职了» (失业登记), then «公积金能取出来不» → 住房公积金提取（离职）; else ``None``."""
    hits = parse.get("matters") or []
    first = kb.get(str(hits[0].get("code"))) if hits else None
    before = f"{state.topic_text} {state.said_before}".strip()
    current = kb.get(state.matter_code) if state.matter_code else None
    if first is None or not before or state.form or state.candidates or parse.get("out_of_scope") \
            or current is not None and first.code in kin(kb, current) \
            or current is not None and float(hits[0].get("score") or 0) < MATTER_SCORE:
        # (a question the conversation's matter is about, whose best match is only a guess, asks nothing new:
        # «去哪个街道办都可以吗» after 居住证办理 is about where, not a guess's sibling the words before tell apart)
        return None
    # (its family, or else its related matters: 异地安置退休人员备案 beside 异地长期居住人员备案 for «要去外地跟女儿住»
    # after «我是退休职工»)
    siblings = [x for x in family(kb, first) if "川渝" not in x.name]
    if len(siblings) < 3:
        siblings = [first, *(x for c, x in kin(kb, first).items() if c != first.code and "川渝" not in x.name)]
    if len(siblings) < 2 or tells_apart(text, first, siblings):
        return None
    return said_apart(before, siblings)


#: A step told as done already («已经挂失了», «挂失过了», «早就报过了»; not «都» alone: «我们都结婚了» tells who).
_STEP_DONE = re.compile(r"(?:已经|早就|早都)(?P<step>[\u4e00-\u9fff]{2,3}?)(?:过|好|完)?了|"
                        r"(?P<step2>[\u4e00-\u9fff]{2})过了")


def _after_step_done(parse: dict[str, Any], text: str, state: DialogueState, kb: Any) -> Any:
    """The sibling of one of the message's two best matches that it asks for when it tells that one's own step done
    already: «社保卡搞掉了 已经挂失了 补卡是哪个窗口» finds 社会保障卡挂失 first, but that is done — its 补领 is
    asked (the member of the kind of request the rest of the message says, the best found first; else the one the
    rest names by its words); else ``None``. Not in a form, nor among options."""
    told = _STEP_DONE.search(text)
    if told is None or state.form or state.candidates:
        return None
    step = told.group("step") or told.group("step2")
    # (the one done is among the two best: «社保卡弄丢了，早就挂失了，补卡要带啥» finds 补领 just ahead of 挂失, which
    # its words name as well)
    first = next((m for m in (kb.get(str(h.get("code"))) for h in (parse.get("matters") or [])[:2])
                  if m is not None and step in m.name), None)
    if first is None:
        return None
    rest = f"{text[:told.start()]} {text[told.end():]}"
    others = [x for x in family(kb, first) if step not in " ".join([x.name, *x.aliases])]
    asked = _cues().of_query(rest)
    of_kind = [x for x in others if asked & _kinds(x)]
    if of_kind:
        rank = {str(h.get("code")): i for i, h in enumerate(parse.get("matters") or [])}
        return min(of_kind, key=lambda x: rank.get(x.code, len(rank)))
    return said_apart(rest, others) if len(others) >= 2 else None


def _kind_of_sibling(parse: dict[str, Any], text: str, state: DialogueState, kb: Any) -> Any:
    """The one of the next two matches, a sibling of the first, of the kind of request done to what one has that
    the message says and the first is not of: «诊所的执业许可证搞丢了» finds 医疗机构执业审批（校验） just ahead of its
    遗失补办; else ``None``. Not in a form, nor among options, nor about another matter than the conversation's."""
    hits = parse.get("matters") or []
    first = kb.get(str(hits[0].get("code"))) if hits else None
    asked = _cues().of_query(text) & _AFTER_GETTING
    if first is None or not asked or asked & _kinds(first) or state.form or state.candidates \
            or state.matter_code and state.matter_code != first.code:
        return None
    near = {x.code for x in family(kb, first)}
    fits = [m for m in (kb.get(str(h.get("code"))) for h in hits[1:3]
                        if h.get("code") in near and float(h.get("score") or 0) >= LOOK_ALIKE_SCORE)
            if m is not None and asked & _kinds(m)]
    # (of two, one whose names say more that the message does not is a narrower case: «个人独资企业想改个名字» is
    # 个人独资企业变更登记, not its 分支机构's)
    fits = fits[:1] + [m for m in fits[1:] if says_subject_of(text, m, fits[0])]
    return fits[0] if len(fits) == 1 else None
