"""A message read in the conversation's state (``assistant.dialogue.interpret``): hall-only topics after a matter,
a question about the helpers' service, a yes or no when nothing was asked, writing that is not a form."""

from __future__ import annotations

import pytest

from assistant.dialogue.interpret import (family, interpret, look_alikes, of_kind_asked, only_shared_words,
                                          said_apart)
from assistant.dialogue.state import DialogueState
from knowledge.hall_questions import classify_hall_question
from knowledge.halls import HallDirectory

RESIDENCE = "512B0011200070"  # 居住证办理


@pytest.fixture(scope="module")
def halls() -> HallDirectory:
    return HallDirectory.load()


def _parse(text: str, intent: str, matters: list[tuple[str, float]] = (), conf: float = 0.6) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": conf},
            "intent_ranking": [{"name": intent, "confidence": conf}], "entities": [],
            "matters": [{"code": c, "name": c, "score": s} for c, s in matters],
            "out_of_scope": False, "ambiguous": False}


def _read(kb, halls, parse, state=None):
    return interpret(parse, state or DialogueState(), kb, None, halls, classify_hall_question)


def _topic(out) -> str | None:
    return next((e["value"] for e in out["entities"] if e["entity"] == "hall_topic"), None)


def _after_matter() -> DialogueState:
    return DialogueState(matter_code=RESIDENCE, matter_name="居住证办理", topic_text="居住证咋个办",
                         last_intent="ask_location")


@pytest.mark.parametrize("text, intent, topic", [
    ("周末能办不", "ask_time", "weekend"),
    ("中午休息不", "ask_time", "lunch"),
    ("国庆放假开门吗", "ask_matter", "holiday"),
    ("车好停不", "ask_location", "parking"),
    ("有没有人可以帮我跑一趟", "request_human", "proxy"),
])
def test_hall_only_topics_after_a_matter_are_about_the_hall(kb, halls, text, intent, topic):
    # the message matches the current matter well (the NLU read it in the matter's words), yet asks about the hall
    out = _read(kb, halls, _parse(text, intent, [(RESIDENCE, 1.2)]), _after_matter())
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == topic


@pytest.mark.parametrize("text, intent, hits, topic", [
    ("你们中午休息不", "greet", [], "lunch"),  # (a greeting without its words, in no conversation)
    ("坐轮椅能进去不", "ask_matter", [("512B0645800000", 1.17)], "accessibility"),  # (a matter of wheelchairs found)
])
def test_a_hall_question_read_as_something_else_in_no_conversation_is_about_the_hall(kb, halls, text, intent, hits,
                                                                                     topic):
    out = _read(kb, halls, _parse(text, intent, hits))
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == topic


@pytest.mark.parametrize("text", ["哪些人能申请上门", "上门办需要啥条件", "谁可以申请上门办"])
def test_a_question_about_the_home_visit_service_is_about_its_matter_not_a_booking(kb, halls, text):
    out = _read(kb, halls, _parse(text, "book_home_visit", [("JN-FW-001", 0.98), ("512B0357300000", 0.9)]))
    assert out["intent"]["name"] == "ask_matter" and out["matters"][0]["code"] == "JN-FW-001", out
    assert _read(kb, halls, _parse("帮我约个上门办", "book_home_visit", [("JN-FW-001", 1.4)]))["intent"]["name"] \
        == "book_home_visit"


def test_a_where_after_a_matter_stays_about_the_matter(kb, halls):
    out = _read(kb, halls, _parse("在哪儿办嘛", "ask_location", [(RESIDENCE, 1.2)]), _after_matter())
    assert out["intent"]["name"] == "ask_location"


def test_a_matter_named_clearly_is_not_a_hall_question(kb, halls):
    # when the matter it names can be done: its places, each with its hours (not one hall's weekend)
    out = _read(kb, halls, _parse("居住证周末能办不", "ask_time", [(RESIDENCE, 1.6)]), _after_matter())
    assert (out["intent"]["name"], out["matters"][0]["code"]) == ("ask_location", RESIDENCE)


def test_asking_whether_someone_can_do_it_for_me_is_about_the_service(kb, halls):
    out = _read(kb, halls, _parse("可以找人帮我代办不", "request_human", [("X", 1.5)], conf=0.9))
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == "proxy"
    # asking for a person is not a question about the service
    for text in ("帮我转人工", "我要找人帮我代办", "可以转人工吗"):
        assert _read(kb, halls, _parse(text, "request_human", conf=0.9))["intent"]["name"] == "request_human", text


@pytest.mark.parametrize("text", ["帮我写个请假条", "帮我写份简历", "帮忙写个作文"])
def test_writing_that_is_not_a_form_is_not_the_helpers_service(text):
    assert classify_hall_question(text) is None


def test_filling_a_form_is_the_helpers_service():
    assert classify_hall_question("可以帮我填表不").value == "proxy"
    assert classify_hall_question("不会写申请书，有人帮忙写吗").value == "proxy"


@pytest.mark.parametrize("last", ["", "greet", "nlu_fallback", "affirm"])
def test_a_yes_or_no_when_nothing_was_asked_is_not_understood(kb, halls, last):
    out = _read(kb, halls, _parse("嗯嗯嗯", "affirm", conf=0.8), DialogueState(last_intent=last))
    assert out["intent"]["name"] == "nlu_fallback" and out["interpreted"] == "answers_nothing"


@pytest.mark.parametrize("state", [
    DialogueState(matter_code=RESIDENCE, matter_name="居住证办理", last_intent="ask_matter"),  # after an answer
    DialogueState(candidates=[RESIDENCE, "JN-BDC-003"], last_intent="ask_matter"),            # options offered
    DialogueState(form="book_home_visit", last_intent="book_home_visit"),                     # a form
    DialogueState(last_intent="complain"),                                                    # a question asked
])
def test_a_yes_or_no_that_answers_something_is_kept(kb, halls, state):
    out = _read(kb, halls, _parse("好的", "affirm", conf=0.8), state)
    assert out["intent"]["name"] != "nlu_fallback"


@pytest.mark.parametrize("text, intent", [("哦哦", "greet"), ("呃……", "chitchat"), ("嗯", "affirm")])
def test_a_sound_that_fills_a_pause_is_not_understood_when_nothing_was_asked(kb, halls, text, intent):
    out = _read(kb, halls, _parse(text, intent, conf=0.7))
    assert out["intent"]["name"] == "nlu_fallback"
    # after options were offered it is left to the selection and the answer rules
    out = _read(kb, halls, _parse(text, intent, conf=0.7), DialogueState(candidates=[RESIDENCE]))
    assert out["intent"]["name"] == intent


# --- actions need their words; a detail may move to a matter the card offered; a family name is not a choice ---

def test_every_example_of_an_action_intent_says_what_the_action_is_for():
    import yaml

    from assistant.dialogue.interpret import ACTION_WORDS
    from assistant.settings import REPO_ROOT

    intents = yaml.safe_load((REPO_ROOT / "nlu" / "data" / "intents.yml").read_text(encoding="utf-8"))["intents"]
    for name, words in ACTION_WORDS.items():
        examples = intents[name]
        examples = examples.get("examples", examples) if isinstance(examples, dict) else examples
        assert [e for e in examples if not words.search(e)] == [], name


@pytest.mark.parametrize("text, intent", [("个体户注销", "cancel_licence"), ("我要办个人独资企业", "request_human"),
                                          ("身份证咋办", "precheck_materials"), ("特殊工种提前退休咋办", "cancel_booking"),
                                          ("给客户开张发票", "ask_policy"), ("公司注销登记", "cancel_licence"),
                                          ("要不要去登记", "cancel_licence")])
def test_an_action_the_message_does_not_ask_for_is_not_taken(kb, halls, text, intent):
    out = _read(kb, halls, _parse(text, intent, [(RESIDENCE, 1.2)], conf=0.9))
    assert out["intent"]["name"] == "ask_matter" and out["interpreted"] == "not_an_action"
    low = _read(kb, halls, _parse(text, intent, [(RESIDENCE, 0.5)], conf=0.9))
    assert low["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize("text, intent", [("取消我的上门预约", "cancel_booking"), ("不用再提醒我了", "cancel_licence"),
                                          ("帮我转人工", "request_human"), ("撤销许可证登记", "cancel_licence"),
                                          ("我带了身份证，还差啥", "precheck_materials"),
                                          ("sm-q89c-d5mb-n7g3-26 现在啥状态", "booking_status"),
                                          ("我们开了个饭馆，能享受啥", "ask_policy")])
def test_an_action_asked_for_in_its_words_is_kept(kb, halls, text, intent):
    assert _read(kb, halls, _parse(text, intent, conf=0.9))["intent"]["name"] == intent


def _by_name(kb, name):
    return next(m for m in kb.matters if m.name == name)


@pytest.mark.parametrize("first, detail, want", [
    ("中国内地公民婚姻登记", "补办", "补领结婚证"),  # «补办» is a kind of request, not 残疾人证挂失补办
    ("社会保障卡补领、换领、换发", "挂失那个", "社会保障卡挂失"),  # a matter the card offered, outside the family
    ("学前教育、义务教育阶段入学办理", "我们是外地来打工的", "进城务工人员随迁子女接受义务教育入学申请办理"),
])
def test_a_detail_moves_to_a_matter_the_card_offered(kb, nlu, halls, first, detail, want):
    m = _by_name(kb, first)
    state = DialogueState(matter_code=m.code, matter_name=m.name, topic_text=first, last_intent="ask_matter")
    out = interpret(nlu.parse(detail), state, kb, nlu, halls, classify_hall_question)
    assert (out["matters"][0]["name"], out.get("interpreted")) == (want, "refinement")


def test_a_new_matter_named_in_its_own_words_is_still_a_new_topic(kb, nlu, halls):
    m = _by_name(kb, "居住证办理")
    state = DialogueState(matter_code=m.code, matter_name=m.name, topic_text="居住证咋个办", last_intent="ask_matter")
    out = interpret(nlu.parse("那护照呢"), state, kb, nlu, halls, classify_hall_question)
    assert out.get("interpreted") != "refinement"


def test_a_family_name_does_not_tell_its_members_apart(kb):
    from assistant.dialogue.interpret import family, tells_apart

    m = _by_name(kb, "住房公积金提取（偿还住房贷款）")
    siblings = family(kb, m)[:4]
    assert not tells_apart("公积金提取", m, siblings)
    assert tells_apart("公积金提取还房贷", m, siblings)
    lost = _by_name(kb, "居民身份证挂失申报、丢失招领")
    assert tells_apart("身份证丢了", lost, family(kb, lost))  # «丢了» asks for the 挂失 kind


@pytest.mark.parametrize("text, asks", [("要带身份证不", True), ("办好了没", True), ("收不收费", True),
                                        ("张秀英", False), ("13800001111", False), ("不", False),
                                        ("李国华，78岁，瘫痪在床", False)])
def test_a_sichuanese_yes_no_question_is_a_question(text, asks):
    from assistant.dialogue.interpret import QUESTION

    assert bool(QUESTION.search(text)) is asks


@pytest.mark.parametrize("text", ["我妈八十好几了腿脚不行", "爷爷中风了", "老人走路都困难"])
def test_more_ways_of_saying_someone_cannot_come(kb, halls, text):
    assert _read(kb, halls, _parse(text, "ask_matter", [(RESIDENCE, 1.2)])).get("cannot_come") is True


@pytest.mark.parametrize("text, want", [
    ("新办一张", "社会保障卡申领"),  # the one option of the kind of request asked for
    # the 补领 option is also called «…挂失补办»; «挂失那个» names the 挂失 matter of the family, though not offered
    ("挂失那个", "社会保障卡挂失"),
    ("第一个", "社会保障卡补领、换领、换发"),
    ("第二个吧", "社会保障卡申领"),
    # a count of times, not a place in the list: the kind of request it says (a new one)
    ("第一次办", "社会保障卡申领"),
])
def test_an_option_is_picked_by_its_name_then_its_aliases_then_its_kind(kb, halls, text, want):
    names = ["社会保障卡补领、换领、换发", "社会保障卡申领", "社会保障卡启用（激活）"]
    codes = [_by_name(kb, n).code for n in names]
    state = DialogueState(candidates=codes, topic_text="社保卡的事", last_intent="ask_matter")
    out = _read(kb, halls, _parse(text, "ask_matter", [(codes[0], 0.9)]), state)
    assert (out["matters"][0]["name"], out["interpreted"]) == (want, "selection")


@pytest.mark.parametrize("text, intent", [("新办一张要准备啥", "ask_materials"), ("新办一张要好久", "ask_time"),
                                          ("新办一张", "ask_matter")])
def test_an_option_picked_by_a_question_is_asked_what_its_words_ask(kb, halls, text, intent):
    names = ["社会保障卡补领、换领、换发", "社会保障卡申领"]
    codes = [_by_name(kb, n).code for n in names]
    state = DialogueState(candidates=codes, topic_text="社保卡的事", last_intent="ask_matter")
    out = _read(kb, halls, _parse(text, "ask_matter", [(codes[0], 0.9)]), state)  # (read as a matter asked)
    assert (out["matters"][0]["name"], out["intent"]["name"]) == ("社会保障卡申领", intent)


def test_a_detail_nearly_read_keeps_the_matter_a_guess_would_replace(kb, halls):
    other = _by_name(kb, "社会保障卡申领").code
    parse = _parse("好久拿得到", "ask_matter", [(other, 1.1)], conf=0.43)
    parse["intent_ranking"] += [{"name": "affirm", "confidence": 0.42}, {"name": "ask_time", "confidence": 0.3}]
    out = _read(kb, halls, parse, _after_matter())
    assert (out["intent"]["name"], out["matters"][0]["code"], out["interpreted"]) == ("ask_time", RESIDENCE,
                                                                                      "follow_up")
    # a matter named by its words, or strongly, is a new topic
    named = _parse("社保卡申领好久拿得到", "ask_matter", [(other, 1.1)], conf=0.43)
    named["intent_ranking"] += [{"name": "ask_time", "confidence": 0.3}]
    assert _read(kb, halls, named, _after_matter()).get("interpreted") != "follow_up"
    strong = _parse("好久拿得到", "ask_matter", [(other, 1.5)], conf=0.43)
    strong["intent_ranking"] += [{"name": "ask_time", "confidence": 0.3}]
    assert _read(kb, halls, strong, _after_matter()).get("interpreted") != "follow_up"
    # no detail nearly read: a short question is still about the matter (how long, its words ask: the time), a longer
    # message may be a new topic
    short = _read(kb, halls, _parse("要体检不", "ask_matter", [(other, 1.1)], conf=0.43), _after_matter())
    assert (short["intent"]["name"], short["matters"][0]["code"]) == ("ask_matter", RESIDENCE)
    short = _read(kb, halls, _parse("好久拿得到", "ask_matter", [(other, 1.1)], conf=0.43), _after_matter())
    assert (short["intent"]["name"], short["matters"][0]["code"]) == ("ask_time", RESIDENCE)
    longer = _parse("我想开个小吃店要办些啥子", "ask_matter", [(other, 1.1)], conf=0.43)
    assert _read(kb, halls, longer, _after_matter()).get("interpreted") != "follow_up"


@pytest.mark.parametrize("text", ["上次来办事等了两个钟头，太慢了", "办个证跑了三趟", "排队等了半天"])
def test_waiting_and_coming_back_again_are_complaints(kb, halls, text):
    assert _read(kb, halls, _parse(text, "ask_time", [(RESIDENCE, 0.9)]))["intent"]["name"] == "complain"


def test_a_parcel_of_ones_own_is_not_the_halls_mail_service():
    assert classify_hall_question("帮我查一下快递到哪了") is None
    assert classify_hall_question("证件寄出来了快递到哪了").value == "mail"


def test_a_question_after_a_matter_does_not_move_it_by_meaning(kb, nlu, halls):
    m = _by_name(kb, "出生登记（新生儿入户）")
    state = DialogueState(matter_code=m.code, matter_name=m.name, topic_text="新生儿上户口", last_intent="ask_matter")
    out = interpret(nlu.parse("在医院可以办不"), state, kb, nlu, halls, classify_hall_question)
    # the search alone guesses 生育登记 (weakly, by «医院»); the question asks about the conversation's matter
    assert out["matters"][0]["code"] == m.code


def test_a_question_naming_a_material_of_the_matter_asks_what_to_bring(kb, halls):
    m = _by_name(kb, "遗属待遇申领")
    material = next(x.name for x in m.materials if len(x.name) >= 4)
    other = _by_name(kb, "居住证办理").code
    state = DialogueState(matter_code=m.code, matter_name=m.name, topic_text="遗属待遇申领", last_intent="ask_matter")
    out = _read(kb, halls, _parse(f"要带{material}不", "ask_matter", [(other, 1.5)]), state)
    assert (out["intent"]["name"], out["matters"][0]["code"], out["interpreted"]) == ("ask_materials", m.code,
                                                                                      "material")


def test_the_same_hall_question_about_another_hall(kb, halls):
    state = DialogueState(last_intent="ask_hall", hall_topic="hours")
    out = _read(kb, halls, _parse("那营门口街道的呢", "ask_location"), state)
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == "hours"
    assert any(e["entity"] == "hall" for e in out["entities"])
    # not after a hall question
    assert _read(kb, halls, _parse("那营门口街道的呢", "ask_location"),
                 DialogueState(last_intent="ask_matter"))["intent"]["name"] != "ask_hall"


def test_an_action_a_helper_taught_needs_no_words(kb, halls):
    taught = dict(_parse("屋头猫儿走丢了", "request_human", conf=1.0), interpreted="learned")
    assert _read(kb, halls, taught)["intent"]["name"] == "request_human"


def test_a_matter_put_aside_by_the_nlu_is_asked_about_only_when_nothing_else_is_going_on(kb, halls):
    parse = dict(_parse("居住证了", "goodbye", conf=0.9), named_matter={"code": RESIDENCE, "name": "居住证办理",
                                                                     "score": 1.4})
    out = _read(kb, halls, parse)
    assert (out["intent"]["name"], out["matters"][0]["code"], out["interpreted"]) == ("ask_matter", RESIDENCE,
                                                                                      "named_matter")
    other = _by_name(kb, "住房公积金提取（离职）")
    after = DialogueState(matter_code=other.code, matter_name=other.name, topic_text="公积金咋个取")
    assert _read(kb, halls, parse, after).get("interpreted") != "named_matter"


def test_a_question_in_words_of_ours_stays_though_another_matter_is_found_strongly(kb, nlu, halls):
    m = _by_name(kb, "退役报到")
    state = DialogueState(matter_code=m.code, matter_name=m.name, topic_text="退役了", last_intent="ask_matter")
    parse = _parse("要去报到不", "ask_matter", [(_by_name(kb, "高校毕业生报到").code, 1.4), (m.code, 0.38)])
    out = interpret(parse, state, kb, nlu, halls, classify_hall_question)
    assert out["matters"][0]["code"] == m.code


def _after(kb, name: str, question: str, nlu=None) -> DialogueState:
    m = _by_name(kb, name)
    alikes = look_alikes(question, m, nlu.parse(question)["matters"], kb) if nlu is not None else []
    return DialogueState(matter_code=m.code, matter_name=m.name, topic_text=question, topic_matters=alikes,
                         last_intent="ask_matter")


def _read_after(kb, nlu, halls, name: str, question: str, text: str) -> dict:
    """``text`` read after ``question`` was answered with matter ``name``."""
    return interpret(nlu.parse(text), _after(kb, name, question, nlu), kb, nlu, halls, classify_hall_question)


@pytest.mark.parametrize("name, question, text, want", [
    # a detail that fits the matter with the question keeps it; alone the search guesses another matter
    ("机动车驾驶证核发（初次申领）", "驾照怎么考", "头一回考", None),  # alone: 不动产首次登记
    ("退役军人和其他优抚对象优待证申领", "退役军人优待证怎么申请", "我退伍好几年了", None),  # alone: 退役报到
    ("开具个人所得税纳税记录（县级行使）", "个税证明怎么开", "个人的", None),  # alone: 个人独资企业设立登记
    ("公证业务预约办理", "办理公证要预约不", "遗产继承的公证", None),  # a 公证: the word that comes last
    ("企业职工基本养老保险关系转移接续申请", "养老保险关系怎么转", "之前在外省上班", None),  # weakly elsewhere
    ("企业职工基本养老保险关系转移接续申请", "养老保险关系怎么转", "是从外地转来的", None),
    # a short question found elsewhere by one word stays when ours fits it
    ("出租汽车驾驶员从业资格证核发（巡游车、网约车）", "网约车司机的证怎么办", "需要考试吗", None),
    # a question in a word of a related matter asks about ours; named by its name, the related one is asked
    ("不动产转移登记（继承、受遗赠）", "父母的房子要过户给我", "必须要公证吗", None),
    ("不动产转移登记（继承、受遗赠）", "父母的房子要过户给我", "公证预约在哪里弄", "公证业务预约办理"),
    # a detail that names another matter better still moves
    ("不动产登记资料查询", "不动产登记的事情", "我要抵押贷款", "不动产抵押登记"),
    # a question in words only some members of the family have asks about the one the question fits
    # («是不是要预约» reads as a booking's status; there is no booking in this conversation)
    ("中国内地公民婚姻登记", "我和女朋友打算去扯结婚证", "是不是要预约", "结婚登记预约"),
    ("中国内地公民婚姻登记", "我和女朋友打算去扯结婚证", "需要预约不", "结婚登记预约"),
    # a detail question in words a sibling shares stays; a word the sibling alone is called by moves
    ("涉外、涉港澳台居民及华侨婚姻登记", "老公是台湾的", "结婚登记在哪里办", None),
    ("涉外、涉港澳台居民及华侨婚姻登记", "老公是台湾的", "补领结婚证在哪里办", "补领结婚证"),
    # what the question named as much («优待证»: the 老年人 one too) may be what a detail chooses
    ("退役军人和其他优抚对象优待证申领", "优待证怎么申请", "是给我妈办，她68了", "申领《四川省老年人优待证》"),
    # «那换领呢» asks about another member, not the same one's place
    ("残疾人证新办", "残疾证第一次怎么办", "那换领呢", "残疾人证换领"),
    # a short detail question found elsewhere by one word stays when ours fits it with the question
    ("机动车驾驶证核发（初次申领）", "学车考驾照咋办", "到哪报名", None),
    # asked how to get a matter the card offered, the question is about that matter
    ("退役报到", "我刚退伍回来", "优待证怎么申请", "退役军人和其他优抚对象优待证申领"),
    # a word of the transfer kind picks the family's transfer
    ("到档查询", "我的档案存在人才中心", "准备转走", "档案转出"),
    # what else to get for an activity, naming a matter the card offers strongly, asks about that one
    ("个体工商户设立登记", "开个小店咋办执照", "卖烟要办啥子", "烟草专卖零售许可证新办"),
    ("创业专家咨询", "我想自己创业", "能申请贷款不", "创业担保贷款申请"),  # whether one can have it
    # a situation the matter's own texts speak of is not the family's other kind (去世: 注销)
    ("遗属待遇申领", "遗属待遇怎么领", "我妈过世了", None),
    # who the person is, calling no other matter by a whole name
    ("对公民法律援助申请的审批", "想申请法律援助", "我们家是低保户", None),
    # words the other matter shares with ours are ours
    ("契税申报缴纳（不动产交易涉税）", "契税在哪交", "买了套二手房", None),
    # a statement found elsewhere by meaning alone stays when ours fits it with the question
    ("出生登记（新生儿入户）", "给娃娃上户口", "娃娃是在老家医院生的", None),
    # a question saying one member's whole name asks about that one, though a sibling shares its words
    ("企业职工参保登记", "公司来了新员工", "就业登记怎么弄", "就业登记"),
    # a statement read as a detail question («那儿» is no «哪儿») is a detail of the situation
    ("户口迁移审批", "我想迁户口", "要迁到我老公那儿", "投靠落户（夫妻投靠、父母投靠子女、子女投靠父母）"),
    # a question in the words of a related matter the card offers, not of the matter's own: about that one
    ("不动产转移登记", "我准备买二手房", "公积金能用不", "住房公积金提取（购房）"),
    # … unless it asks whether that one is needed: about the matter it is needed for
    ("不动产转移登记（继承、受遗赠）", "房子继承咋过户", "需要公证不", None),
    # a detail question in a word of a member ours is not called by, found elsewhere by that word: that member's
    ("教师资格证相关政策咨询", "我想考教师资格证", "认定要啥材料", "教师资格认定"),
])
def test_a_message_read_with_the_conversations_matter(kb, nlu, halls, name, question, text, want):
    out = _read_after(kb, nlu, halls, name, question, text)
    assert out["matters"][0]["name"] == (want or name)


def test_a_detail_question_keeps_what_it_asks(kb, nlu, halls):
    out = _read_after(kb, nlu, halls, "涉外、涉港澳台居民及华侨婚姻登记", "老公是台湾的", "结婚登记在哪里办")
    assert out["intent"]["name"] == "ask_location"
    out = _read_after(kb, nlu, halls, "教师资格证相关政策咨询", "我想考教师资格证", "认定要啥材料")
    assert out["intent"]["name"] == "ask_materials"
    out = _read_after(kb, nlu, halls, "残疾人证新办", "残疾证第一次怎么办", "那换领呢")
    assert out["intent"]["name"] == "ask_matter"


def test_a_goodbye_read_without_its_words_after_a_matter_is_a_detail(kb, nlu, halls):
    state = _after(kb, "80周岁以上老年人高龄津贴发放", "高龄津贴咋个领")
    parse = nlu.parse("我爷爷今年85")
    assert parse["intent"]["name"] == "goodbye"  # the classifier's reading
    out = interpret(parse, state, kb, nlu, halls, classify_hall_question)
    assert out["intent"]["name"] != "goodbye"
    # with its words it is a goodbye
    out = interpret(nlu.parse("好的谢谢，再见"), state, kb, nlu, halls, classify_hall_question)
    assert out["intent"]["name"] in {"goodbye", "thanks"}


def test_the_question_remembers_what_it_named_as_much(kb, nlu):
    state = _after(kb, "退役军人和其他优抚对象优待证申领", "优待证怎么申请", nlu)
    assert _by_name(kb, "申领《四川省老年人优待证》").code in state.topic_matters


def test_a_question_about_the_home_visit_service_does_not_start_its_booking(kb, nlu, halls):
    parse = nlu.parse("上门服务需要满足什么条件")
    out = interpret(parse, DialogueState(), kb, nlu, halls, classify_hall_question)
    assert out["intent"]["name"] != "book_home_visit"
    assert interpret(nlu.parse("帮我预约上门服务"), DialogueState(), kb, nlu, halls,
                     classify_hall_question)["intent"]["name"] == "book_home_visit"


def test_a_correction_names_what_was_meant(kb, nlu, halls):
    out = _read_after(kb, nlu, halls, "社会保障卡挂失", "社保卡不见了", "不是挂失，是要补一张新卡")
    assert (out.get("interpreted"), out["matters"][0]["name"]) == ("correction", "社会保障卡补领、换领、换发")
    # a question is no correction
    out = _read_after(kb, nlu, halls, "社会保障卡挂失", "社保卡不见了", "不是要交钱吗")
    assert out.get("interpreted") != "correction"


def test_a_detail_of_the_choice_read_with_the_question_picks_an_option(kb, nlu, halls):
    options = [_by_name(kb, n) for n in ("义务教育阶段学生学籍异动办理", "义务教育阶段学生学籍异动政策咨询")]
    state = DialogueState(candidates=[m.code for m in options], topic_text="娃娃转学要办啥手续",
                          last_intent="ask_matter")
    out = interpret(nlu.parse("从外省转过来"), state, kb, nlu, halls, classify_hall_question)
    assert out["matters"][0]["name"] == "义务教育阶段学生学籍异动办理"


@pytest.mark.parametrize("text", ["九里堤街道便民服务中心", "天回镇街道的便民服务中心"])
def test_a_hall_named_alone_is_asked_where_it_is(kb, halls, text):
    out = _read(kb, halls, _parse(text, "ask_matter"))
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == "address"
    assert any(e["entity"] == "hall" for e in out["entities"])


def test_a_question_ambiguous_after_options_is_read_with_the_question_before(kb, nlu, halls):
    options = [_by_name(kb, n) for n in ("高校毕业生报到", "离校未就业高校毕业生登记")]
    state = DialogueState(candidates=[m.code for m in options], topic_text="硕士毕业了", last_intent="ask_matter")
    # (a question the search finds two matters for about equally: alone it would be answered with options again)
    parse = dict(nlu.parse("想把户口落到成都来"), ambiguous=True)
    out = interpret(parse, state, kb, nlu, halls, classify_hall_question)
    assert (out.get("interpreted"), out["matters"][0]["name"]) == ("together", "人才落户（学历、技能人才及高校毕业生落户）")
    # a question clear on its own is not re-read with a question before
    asked = DialogueState(candidates=state.candidates, topic_text="硕士毕业了要办啥", last_intent="ask_matter")
    out = interpret(dict(parse, ambiguous=False), asked, kb, nlu, halls, classify_hall_question)
    assert out.get("interpreted") != "together"
    # (it is with the situation told: the person is still a graduate)
    out = interpret(dict(parse, ambiguous=False), state, kb, nlu, halls, classify_hall_question)
    assert (out.get("interpreted"), out["matters"][0]["name"]) == ("together", "人才落户（学历、技能人才及高校毕业生落户）")


def _by_names(kb, *names):
    out = [m for n in names for m in kb.matters if m.name == n]
    assert len(out) == len(names), names
    return out


@pytest.mark.parametrize("text, names, want", [
    # the option whose own words the message says most of
    ("结婚的时候要先约吗", ("结婚登记预约", "离婚登记预约", "中国内地公民婚姻登记"), "结婚登记预约"),
    ("离婚也要预约?", ("结婚登记预约", "离婚登记预约", "中国内地公民婚姻登记"), "离婚登记预约"),
    ("办电子的那种社保卡", ("社会保障卡申领", "电子社会保障卡签发", "社会保障卡补领、换领、换发"), "电子社会保障卡签发"),
    # words every option has, or the start all the names share (said again inside one name), tell none apart
    ("不动产登记要办哪些", ("不动产登记资料查询", "不动产转移登记", "不动产首次登记"), None),
    ("户口的问题", ("户口迁移审批", "户口迁出（开具户口迁移证明）", "户口登记"), None),
    # two options told apart as much: none
    ("预约一下", ("结婚登记预约", "离婚登记预约", "中国内地公民婚姻登记"), None),
    # the words of a kind of request's option, said without its kind, call one of no kind as well: none
    ("想办个结婚证", ("中国内地公民婚姻登记", "补领结婚证", "离婚登记预约"), None),
    ("想补办个结婚证", ("中国内地公民婚姻登记", "补领结婚证", "离婚登记预约"), "补领结婚证"),
    # an everyday word for a name's word («上班» for 工作, «老公» for 夫妻)
    ("我想落户到老公那里", ("人才落户（学历、技能人才及高校毕业生落户）", "投靠落户（夫妻投靠、父母投靠子女、子女投靠父母）",
                   "购房落户（合法稳定住所落户）"), "投靠落户（夫妻投靠、父母投靠子女、子女投靠父母）"),
    ("我在重庆上班，医保异地备案咋办", ("异地安置退休人员备案", "异地长期居住人员备案", "常驻异地工作人员备案"), "常驻异地工作人员备案"),
    # (a kind's option whose words no option of no kind is called by is still chosen: «上门» of 上门办服务预约)
    ("等一下上门要收费不", ("养老保险定期待遇领取资格认证", "劳动人事争议仲裁申请", "上门办服务预约（老年人、残疾人等行动不便群众）"),
     "上门办服务预约（老年人、残疾人等行动不便群众）"),
])
def test_the_option_a_message_says_the_own_words_of(kb, text, names, want):
    got = said_apart(text, _by_names(kb, *names))
    assert (got.name if got is not None else None) == want


def test_words_of_some_of_the_options_ask_again_among_those(kb, halls):
    names = ["个体工商户设立登记", "证照遗失补领、换发申请", "个体工商户注销登记"]
    codes = [_by_name(kb, n).code for n in names]
    state = DialogueState(candidates=codes, topic_text="营业执照", last_intent="ask_matter")
    out = _read(kb, halls, _parse("个体户", "ask_policy"), state)
    assert (out["intent"]["name"], out["ambiguous"]) == ("ask_matter", True)
    assert sorted(m["name"] for m in out["matters"]) == ["个体工商户注销登记", "个体工商户设立登记"]
    # a detail question is asked of the options as before; a message of every option's words narrows nothing
    assert _read(kb, halls, _parse("个体户的在哪办", "ask_location"), state).get("interpreted") != "narrowed"
    assert _read(kb, halls, _parse("登记", "ask_matter"), state).get("interpreted") != "narrowed"


@pytest.mark.parametrize("text", ["聋哑人有啥补贴", "盲人能领啥补贴"])
def test_a_policy_asked_for_people_of_a_kind_names_the_matter_the_search_decided_for_them(kb, halls, text):
    # found by meaning alone, below a matter's score (the words 聋哑人 are in no name): the kind of people says it
    parse = _parse(text, "ask_policy", [("51201103900003", 1.03), ("51201103900004", 0.35)])
    out = _read(kb, halls, parse)
    assert out["intent"]["name"] == "ask_matter" and out["interpreted"] == "for_people", out
    assert [e["value"] for e in out["entities"] if e["entity"] == "matter"] == ["51201103900003"], out


def test_a_policy_asked_for_a_firm_is_not_read_as_one_for_people(kb, halls):
    parse = _parse("我们公司有啥补贴", "ask_policy", [("512B0066700003", 1.03)])
    assert _read(kb, halls, parse)["intent"]["name"] == "ask_policy"


@pytest.mark.parametrize("text", ["有补贴不", "那有没有补贴", "能领啥补贴"])
def test_a_benefit_asked_alone_after_a_matter_is_the_one_of_its_kin_that_pays_it(kb, halls, text):
    state = DialogueState(matter_code="512B0158400000", matter_name="就业见习岗位申报", topic_text="我们公司想招见习生",
                          last_intent="ask_matter")
    out = _read(kb, halls, _parse(text, "ask_policy", [("512B0066700003", 1.0)]), state)
    assert out["interpreted"] == "benefit_of_kin", out
    assert [e["value"] for e in out["entities"] if e["entity"] == "matter"] == ["512B0158200000"], out  # 就业见习补贴申领


def test_what_happened_told_first_naming_a_matter_clearly_is_no_question_how_long(kb, halls):
    parse = _parse("工资拖了两个月没发", "ask_time", [("JN-RS-003", 1.2), ("512B0070200006", 0.3)])
    out = _read(kb, halls, parse)
    assert out["intent"]["name"] == "ask_matter" and out["interpreted"] == "a_statement", out



_DIBAO = [("最低生活保障", ["低保申请", "城市低保"]), ("医疗救助", ["低保户医疗救助"])]
_GJJ = [("个人住房公积金贷款", ["公积金贷款"]), ("住房公积金提取", ["公积金提取"])]


@pytest.mark.parametrize("text, matters, asks", [
    ("低保", _DIBAO, False),  # what 最低生活保障 is called itself (低保申请); 医疗救助 is called 低保户医疗救助
    ("申请低保", _DIBAO, False),
    ("公积金", _GJJ, True),  # a field both are of: which?
])
def test_a_word_one_match_is_called_by_itself_asks_no_which(text, matters, asks):
    from types import SimpleNamespace
    book = {str(i): SimpleNamespace(code=str(i), name=n, aliases=a) for i, (n, a) in enumerate(matters)}
    kb = SimpleNamespace(get=book.get)
    hits = [{"code": "0", "score": 1.4}, {"code": "1", "score": 1.1}]
    assert bool(only_shared_words(text, book["0"], hits, kb)) is asks


_DISPATCH_NEW, _DISPATCH_END = "511A14003004", "511A14003002"  # 经营劳务派遣业务…许可, 劳务派遣经营许可注销
_CLINIC_NEW, _CLINIC_END = "511A0013700019", "511A0013700021"  # 医疗机构执业审批（新办）, （注销）


@pytest.mark.parametrize("text, hits, meant", [
    # the guided member scores far ahead of its family's catalogue entry of the kind asked
    ("我们派遣公司不做了", [(_DISPATCH_NEW, 1.17), (_DISPATCH_END, 0.29)], _DISPATCH_END),
    # the family called by a word of the best match's aliases only (诊所), the member of the kind not found at all
    ("诊所不开了", [(_CLINIC_NEW, 1.18), ("511A0037300003", 0.84)], _CLINIC_END),
])
def test_a_kind_asked_of_what_one_has_is_the_member_of_the_best_matchs_family_of_that_kind(kb, halls, text, hits,
                                                                                           meant):
    out = _read(kb, halls, _parse(text, "ask_matter", hits))
    assert out.get("interpreted") == "kind_in_family", out
    assert [e["value"] for e in out["entities"] if e["entity"] == "matter"] == [meant], out


def test_a_kind_asked_without_a_word_of_the_family_is_no_member_of_it(kb, halls):
    out = _read(kb, halls, _parse("不做了", "ask_matter", [(_DISPATCH_NEW, 1.0)]))
    assert out.get("interpreted") != "kind_in_family", out


def test_names_alike_but_for_their_kind_of_request_are_one_family(kb):
    renew = kb.get("511A2200500013")  # 娱乐场所延续审批（含中外合资）: of no main item with its siblings
    codes = [m.code for m in family(kb, renew)]
    assert "511A2200500014" in codes  # 娱乐场所注销审批（含中外合资）
    assert "511A2200500010" not in codes  # 设立歌舞娱乐场所《娱乐经营许可证》核发: another name


def test_of_options_found_alike_the_one_of_the_kind_asked_is_the_answer(kb):
    options = [kb.get(c) for c in ("511A0011900013", "511A0011900011", "511A23003001")]  # 医师…补办, 医师新办…, 乡村医生…补办
    scores = {"511A0011900013": 1.25, "511A0011900011": 1.19, "511A23003001": 0.86}
    assert of_kind_asked("医生的执业证书丢了", options, scores, 0.15) is options[0]
    # two of the kind asked, alike: still which
    assert of_kind_asked("医生的执业证书丢了", options, {**scores, "511A23003001": 1.2}, 0.15) is None
    # no kind asked: which
    assert of_kind_asked("医生的执业证书", options, scores, 0.15) is None


def test_how_a_licence_near_its_end_is_renewed_is_asked_about_not_registered(kb, halls):
    renewal = _by_name(kb, "机动车驾驶证期满换证").code
    out = _read(kb, halls, _parse("驾照有效期快到了 要咋个整", "register_licence", [(renewal, 1.2)]))
    assert out["intent"]["name"] == "ask_matter"
    kept = _read(kb, halls, _parse("食品经营许可证快到期了 帮我记一下", "register_licence", [(renewal, 0.2)]))
    assert kept["intent"]["name"] == "register_licence"


@pytest.mark.parametrize("text, kept", [("她今年八十二了，户口在金牛区", True), ("她是成都户口", True),
                                        ("她户口在重庆", False)])
def test_a_hukou_here_asks_for_no_hukou_matter(kb, halls, text, kept):
    # (a 户口 elsewhere may: it tells a matter's variants apart)
    ours = next(m for m in kb if m.name == "申领《四川省老年人优待证》")
    hukou = [next(m for m in kb if m.name == n).code for n in ("户口迁出（开具户口迁移证明）", "户口迁移审批")]
    parse = dict(_parse(text, "ask_matter", [(hukou[0], 1.4), (hukou[1], 1.0)]),
                 entities=[{"entity": "matter", "value": hukou[0]}])
    state = DialogueState(matter_code=ours.code, matter_name=ours.name, topic_text="想给我婆婆办个老年人优待证",
                          last_intent="ask_matter")
    matter = next(e["value"] for e in _read(kb, halls, parse, state)["entities"] if e["entity"] == "matter")
    assert (matter == ours.code) is kept


def test_a_kind_said_picks_the_sibling_of_that_kind_not_a_narrower_case_of_it(kb, halls):
    # the search finds 设立 first, then 变更登记 and its 分支机构's 变更 — no branch is said
    found = [("511A0064100190", 1.2), ("511A0064100195", 0.99), ("511A0064100214", 0.84)]
    out = _read(kb, halls, _parse("个人独资企业的名字想改一下", "ask_matter", found))
    assert [e["value"] for e in out["entities"] if e["entity"] == "matter"] == ["511A0064100195"], out
    # (a branch said is that one)
    out = _read(kb, halls, _parse("个人独资企业分支机构的名字想改一下", "ask_matter", found))
    assert [e["value"] for e in out["entities"] if e["entity"] == "matter"] != ["511A0064100195"], out
