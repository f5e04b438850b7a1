"""Questions about a hall itself (几点开门, 中午休息不, 礼拜六开不开, 坐地铁咋个去, 停车方便不, 可以代办不 …): which
topic a message asks about, and the short answer / UI card for a hall (:mod:`knowledge.halls`).

Recognition is by rules (no model): each topic has phrasings, Sichuanese included, tried in a fixed order (the
service-specific topics before the general time ones, so 礼拜六开不开 is ``weekend``, not ``hours``), plus a few
phrasings that veto a topic because they are about a matter, not the hall (营业执照在哪儿办, 违章停车罚款,
产假期间 …). Every text citizens see is in :data:`TEXTS` (and the hall data).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from knowledge.halls import PENDING, Hall, HallDirectory, normalize


class HallTopic(str, Enum):
    """What a hall question is about."""

    HOURS = "hours"
    LUNCH = "lunch"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    EXTENDED = "extended"
    ADDRESS = "address"
    TRANSPORT = "transport"
    PARKING = "parking"
    APPOINTMENT = "appointment"
    PROXY = "proxy"
    SELF_SERVICE = "self_service"
    MAIL = "mail"
    ACCESSIBILITY = "accessibility"
    PHONE = "phone"
    FACILITIES = "facilities"


T = HallTopic

#: Topics only a hall has (when it is open, where to park): asked right after a matter («周末能办不», «中午休息不»)
#: they are still about the hall, unlike a «在哪儿办» that asks where that matter is done.
HALL_ONLY_TOPICS = frozenset({T.HOURS, T.LUNCH, T.WEEKEND, T.HOLIDAY, T.EXTENDED, T.PARKING, T.FACILITIES})

#: Every text citizens see: one answer line per topic (``{name}`` = the hall, ``{value}`` = its data), the label
#: of each topic, the line for a value the data lacks, and the note on unverified halls.
TEXTS: dict[str, Any] = {
    "answer": {
        T.HOURS: "{name}办公时间：{value}。",
        T.LUNCH: "{name}中午：{value}。",
        T.WEEKEND: "{name}周末：{value}。",
        T.HOLIDAY: "{name}节假日：{value}。",
        T.EXTENDED: "{name}延时服务：{value}。",
        T.ADDRESS: "{name}地址：{value}。",
        T.TRANSPORT: "去{name}：{value}。",
        T.PARKING: "{name}停车：{value}。",
        T.APPOINTMENT: "{name}取号和预约：{value}。",
        T.PROXY: "{name}帮办代办：{value}。",
        T.SELF_SERVICE: "{name}24小时自助：{value}。",
        T.MAIL: "{name}证照邮寄：{value}。",
        T.ACCESSIBILITY: "{name}无障碍服务：{value}。",
        T.PHONE: "{name}电话：{value}。",
        T.FACILITIES: "{name}便民设施：{value}。",
    },
    "label": {
        T.HOURS: "办公时间", T.LUNCH: "午休安排", T.WEEKEND: "周末安排", T.HOLIDAY: "节假日安排",
        T.EXTENDED: "延时服务", T.ADDRESS: "地址", T.TRANSPORT: "交通", T.PARKING: "停车",
        T.APPOINTMENT: "取号预约", T.PROXY: "帮办代办", T.SELF_SERVICE: "24小时自助", T.MAIL: "证照邮寄",
        T.ACCESSIBILITY: "无障碍服务", T.PHONE: "电话", T.FACILITIES: "便民设施",
    },
    "unknown": "{name}的{label}我这里还没有信息，可以拨打 12345 政务服务便民热线问一下。",
    "unverified": "（信息待核实，仅供参考）",
    "metro": "地铁{stops}",
    "metro_exit": "{exit}出口",
    "bus": "公交：{buses}",
    "on_site": "现场：{value}",
    "online": "预约：{value}",
}

_PARTICLE = r"(?:不|没|没得|没有|吗|嘛|哇|噻|撒|哦|喃|啊|呀|得不|行不|可以不)"

#: Phrasings per topic, tried in this order; the first topic with a phrasing that matches (and no veto) wins.
PATTERNS: list[tuple[HallTopic, list[str]]] = [
    (T.MAIL, [r"邮寄|快递|寄送|包邮|ems|到付|邮政|邮费", r"寄(?!存|宿|养|生)", r"邮(?:到|回|过来|给我)",
              r"送(?:上门|到家|到屋|过来)|上门送|送证"]),
    (T.SELF_SERVICE, [r"24小时|二十四小时|全天|通宵|半夜|凌晨", r"自助"]),
    (T.PROXY, [r"代办|帮办|代跑|跑腿|陪办|代填|代交|代领|代取|导办|帮(?:我|他|她|老人|我们)?跑(?:一趟|一下|一哈)",
               r"帮(?:我|忙|他|她|老人|我们|一下)?(?:填|写)", r"替(?:我|他|她|人|别人|老人)",
               r"委托|授权(?:别人|他人|家属|家人)|志愿者|(?:有没有|有没得|有)(?:专|个|专门的?)?人(?:帮|指导|带)|帮.{0,4}填",
               r"(?:找人|别人|家里人|家人|家属|子女|儿子|女儿|亲戚|朋友).{0,4}(?:去|帮|代|替)",
               r"上门|不会(?:填|写|弄|操作|用手机)"]),
    (T.ACCESSIBILITY, [r"轮椅|无障碍|盲道|盲人|视障|聋|手语|助听|坡道|拐杖|扶手|电梯|楼梯|母婴|哺乳|喂奶|换尿布|婴儿车",
                       r"残疾人?(?:通道|窗口|车位|厕所|卫生间|专用)", r"行动不便|腿脚不(?:好|方便|便|灵活)",
                       r"走不动|走路不方便|爱心窗口|绿色通道|优先(?:办理|窗口)|孕妇|老年人?.{0,5}(?:窗口|通道|专窗)",
                       r"(?:老人|老年人|残疾人).{0,4}优先"]),
    (T.FACILITIES, [r"复印(?!件)|影印|扫描仪|打印机|打印店|饮水|喝水|开水|热水|充电|卫生间|厕所|洗手间|wifi|无线网|"
                    r"存包|寄存|老花镜|雨伞|借笔|签字笔",
                    r"(?:大厅|中心|现场|里面|这里|这儿|那里|那边).{0,6}(?:打印|拍照|照相|照片|证件照)",
                    r"(?:打印|拍照|照相|证件照)(?:的地方|的店)"]),
    (T.PARKING, [r"停车|车位|好停|停哪|停在哪|能停|可以停|停得|泊车|地方停|(?:电瓶车|电动车|自行车|摩托车?)(?:停|放)", r"车.{0,2}(?:开得进|开进|进得去|能进)",
                 r"(?:开车|自驾)(?:去|过去|来)?(?:方便|好停)"]),
    (T.TRANSPORT, [r"地铁|轻轨|公交|公车|几路|坐车|乘车|打车|打的|几号线|哪个站|哪一站|哪站|啥子站|什么站|站下",
                   r"出口|路线|导航|多远|远不远|离.{0,8}(?:远|近)",
                   r"(?:怎么|咋个|咋|如何|怎样)(?:去|走|过去|到|过来)"]),
    (T.APPOINTMENT, [r"预约|约号|取号|拿号|排号|叫号|挂号|抽号|领号|放号|号(?:怎么|咋个|咋)(?:取|拿)",
                     r"排队|人多|人挤|排(?:好久|多久)", r"(?:提前|先|网上|线上|手机上)约",
                     r"约(?:一下|个时间|不|没)", r"要不要约",
                     # (a first visit: what to do on arriving is to take a number)
                     r"(?:第一次|头一回|头一次|第一回)(?:来|到|去)(?:你们)?(?:大厅|政务|服务中心|便民|中心|这里|这儿)"]),
    (T.HOLIDAY, [r"节假日|假期|放假|国庆|春节|过年|大年|除夕|五一|劳动节|元旦|端午|中秋|清明|法定|长假|调休|节日"]),
    (T.WEEKEND, [r"周末|周六|周日|周天|星期六|星期天|星期日|礼拜六|礼拜天|礼拜日|双休|休息日|休息天",
                 r"(?:哪天|哪几天|星期几|礼拜几)(?:不|没)(?:上班|开门|办公|开)|(?:哪天|哪几天|星期几|礼拜几)(?:休息|关门)"]),
    (T.LUNCH, [r"中午|午休|午间|午饭|午餐|吃饭|12点(?:到|至|-)|十二点"]),
    (T.EXTENDED, [r"延时|延迟服务|延长(?:服务|时间|办公)|错时|晚上|夜间|夜里|弹性",
                  r"下班(?:后|以后|之后|了)|下了班|上班前|(?:8|八)点(?:前|以前|之前)",
                  r"(?:上班|工作日|白天)没(?:时间|空)|请不到假|赶不到|来不及|晚点(?:去|来|过去)"]),
    (T.HOURS, [r"(?:几点|好久|啥时候|什么时候|几时|哪阵|啥时)(?:开门|关门|上班|下班|开始|结束|开(?![得出好证个张具])|关|办公|营业|截止|停止|收号)",
               rf"(?:开门|关门|上班|下班|开放|营业|办公)(?:了)?{_PARTICLE}",
               r"上不上班|开不开|开没开|关没关|开着没|还开着|还在上班|(?:今天|明天|今儿|明儿)(?:开|上班|办公|营业)",
               r"(?:营业|办公|上班|工作|开放|服务|开门|作息)时间|开到几点|到几点|几点钟|(?:早上|上午|下午)几点",
               r"几点(?:可以|能|才能)?(?:去|来|过去|办)"]),
    (T.PHONE, [r"电话|热线|联系方式|客服|座机|12345", r"(?:怎么|咋个|咋|如何)联系"]),
    (T.ADDRESS, [r"在哪|在啥子地方|在什么地方|啥子地方|什么地方|哪个地方|哪点|地址|位置|地点|门牌|定位",
                 r"(?:怎么|咋个|咋)找|哪栋|哪层|几楼|几层"]),
]

#: Words naming a hall or its parts: a question that names one is about the hall even when it names a matter.
_HALL_WORDS = r"大厅|政务|便民|服务中心|中心|街道办|窗口|你们|这里|这儿|那里"
#: Nouns of matters: a "where" question naming one (and no hall) asks where to do the matter, not the hall's address.
_MATTER_NOUNS = (r"证|照|卡|许可|备案|登记|补贴|津贴|社保|医保|公积金|户口|户籍|体检|手续|材料|护照|签证|养老金|低保|"
                 r"退休|结婚|离婚|出生|学籍|入学|考场|考点|上牌")

#: Phrasings that mean the topic is about a matter, not the hall (checked on the normalised text).
VETOES: dict[HallTopic, list[str]] = {
    T.PARKING: [r"违章|违停|罚|备案|许可|经营|审批|泊位.*收费标准"],
    T.TRANSPORT: [r"出口退税|进出口|出口(?:许可|备案|贸易|商品)",
                  r"(?:流程|手续|程序|步骤).{0,3}(?:怎么|咋个|咋|如何)走", r"考场|考点|体检",
                  # (a card or a fare for rides, «坐公交要办卡不», not the way to the hall)
                  r"(?:地铁|公交|乘车)\S{0,3}(?:卡|码|月票|票|免费|优惠|打折)|天府通卡"],
    T.HOLIDAY: [r"产假|婚假|病假|丧假|年休假|陪产假|育儿假|护理假"],
    T.PHONE: [r"挂失|变更|更改|改(?:了|成)|换了|绑定|实名|诈骗|骚扰"],
    T.PROXY: [r"委托书(?:怎么|咋个|咋)写|授权委托书模板",
              # writing that is not a government form or application
              r"请假条|作文|论文|检讨|情书|小说|作业|简历|演讲稿|总结|文案|诗|歌词|代码|周报|日报|合同"],
    T.ADDRESS: [r"(?:在哪|哪里|哪儿|哪点|什么地方|啥子地方|哪个地方).{0,3}(?:办|申请|领|交|补|换|开|打印|拿|缴|考|买|刻|做|弄|整|搞|报|认证|盖|查|鉴定|注册|登记)",
                _MATTER_NOUNS],
    T.HOURS: [r"现在几点|北京时间|营业时间(?:怎么|咋个|咋)?(?:改|变更|填)"],
    # a benefit or a matter for disabled people (聋哑人有啥补贴, 轮椅能申请不), or an aid wanted for one's own (想要个
    # 轮椅, 配个助听器), not the hall's accessibility
    T.ACCESSIBILITY: [r"补贴|津贴|补助|救助|资助|适配|康复|托养|按摩|申请|申领|残疾人证|盲人证",
                      r"(?:想要|要个|想配|要配|配个|配一|买个|领个|弄个)(?:个|一个|一副|一台|副|台)?(?:轮椅|助听|拐杖|盲杖)"],
    # what a matter asks for (copies to bring, a photo of its own kind), not what the hall has
    T.FACILITIES: [r"几份|原件|(?:要|需要|带|交)(?:不要|不需要)?(?:复印|照片)|照片(?:要求|尺寸|底色|规格)|回执"],
    # a parcel of one's own, not a certificate the hall mails back
    T.MAIL: [r"^(?!.*(?:证|照|件|材料|卡|结果|办好|办完)).*(?:快递|物流|包裹|外卖)"],
}

_COMPILED = [(topic, [re.compile(p) for p in pats]) for topic, pats in PATTERNS]
_VETOES = {topic: [re.compile(p) for p in pats] for topic, pats in VETOES.items()}
_HALL = re.compile(_HALL_WORDS)
_PUNCT = re.compile(r"[\s,.!?;:~'\"()\[\]、，。！？；：…“”‘’（）【】《》·—-]+")
#: Vetoes that a hall named in the message overrides (政务中心在哪儿办事 is still the hall's address).
_HALL_OVERRIDES = {T.ADDRESS, T.TRANSPORT}


def _clean(text: str) -> str:
    return _PUNCT.sub("", normalize(text))


def classify_hall_question(text: str) -> HallTopic | None:
    """The hall topic a message asks about, or ``None`` when it is not a question about a hall.

    Args:
        text: what the citizen said (``几点开门``, ``礼拜六开不开``, ``坐轮椅方便不``).

    Returns:
        The topic; ``None`` for matter questions (``营业执照怎么办``, ``营业执照在哪儿办``) and anything else.
    """
    t = _clean(text)
    if not t:
        return None
    names_hall = bool(_HALL.search(t))
    for topic, patterns in _COMPILED:
        if not any(p.search(t) for p in patterns):
            continue
        vetoed = any(v.search(t) for v in _VETOES.get(topic, ()))
        if vetoed and not (names_hall and topic in _HALL_OVERRIDES):
            continue
        return topic
    return None


def _strip(value: str) -> str:
    return value.strip().rstrip("。；;，, ")


def _transport(hall: Hall) -> str:
    parts = []
    stops = []
    for stop in hall.transport.metro:
        station = stop.station if stop.station.endswith("站") else stop.station + "站"
        exit_ = TEXTS["metro_exit"].format(exit=stop.exit) if stop.exit and stop.exit != PENDING else ""
        stops.append(f"{stop.line}{station}{exit_}")
    if stops:
        walks = "；".join(dict.fromkeys(_strip(s.walk) for s in hall.transport.metro if s.walk))
        parts.append(TEXTS["metro"].format(stops="、".join(stops)) + (f"（{walks}）" if walks else ""))
    if hall.transport.bus:
        parts.append(TEXTS["bus"].format(buses="、".join(hall.transport.bus)))
    if hall.transport.note:
        parts.append(_strip(hall.transport.note))
    return "；".join(parts)


def _appointment(hall: Hall) -> str:
    a = hall.appointment
    parts = [TEXTS["on_site"].format(value=_strip(a.on_site)) if a.on_site else "",
             TEXTS["online"].format(value=_strip(a.online)) if a.online else "", _strip(a.note)]
    return "；".join(p for p in parts if p)


def topic_value(topic: HallTopic, hall: Hall) -> str:
    """The hall's data for a topic as one line (empty when the data has none)."""
    topic = HallTopic(topic)
    simple = {T.HOURS: hall.hours.weekday, T.LUNCH: hall.hours.lunch_break, T.WEEKEND: hall.hours.weekend,
              T.HOLIDAY: hall.hours.holiday, T.EXTENDED: hall.hours.extended, T.ADDRESS: hall.address,
              T.PARKING: hall.parking, T.PROXY: hall.proxy, T.SELF_SERVICE: hall.self_service, T.MAIL: hall.mail,
              T.ACCESSIBILITY: hall.accessibility, T.PHONE: hall.phone, T.FACILITIES: hall.facilities}
    if topic in simple:
        return _strip(simple[topic])
    return _transport(hall) if topic == T.TRANSPORT else _appointment(hall)


def answer_text(topic: HallTopic, hall: Hall) -> str:
    """The short answer to a hall question, in Chinese, with the 仅供参考 note when the hall is unverified.

    Args:
        topic: what was asked.
        hall: the hall asked about.
    """
    topic = HallTopic(topic)
    value = topic_value(topic, hall)
    if value:
        text = TEXTS["answer"][topic].format(name=hall.name, value=value)
    else:
        text = TEXTS["unknown"].format(name=hall.name, label=TEXTS["label"][topic])
    return text if hall.verified else text + TEXTS["unverified"]


def hall_card(hall: Hall) -> dict[str, Any]:
    """A hall as a UI card: ``type: hall_card`` with every field citizens are shown, the topic labels and the
    note to show when unverified (``notice``, empty once verified)."""
    data = hall.model_dump(mode="json", exclude={"aliases", "source_ref", "source_note"})
    return {"type": "hall_card", **data,
            "labels": {t.value: label for t, label in TEXTS["label"].items()},
            "notice": "" if hall.verified else TEXTS["unverified"].strip("（）")}


def answer_question(text: str, halls: HallDirectory, street: str | None = None) -> str | None:
    """Answer a message if it is a hall question: about the hall it names, else the centre of ``street`` (the
    citizen's street, when known), else the district hall.

    Args:
        text: the message.
        halls: the directory.
        street: the citizen's street, if known.

    Returns:
        The answer, or ``None`` when the message is not a hall question.
    """
    topic = classify_hall_question(text)
    if topic is None:
        return None
    hall = halls.find(text) or (halls.for_street(street) if street else None) or halls.district()
    return answer_text(topic, hall)
