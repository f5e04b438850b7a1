"""Custom actions of the pre-service feature (预服务): licence registration and reminders, home-visit booking
(上门办), the enterprise handbook (惠企政策) and the material pre-check (预审).

The two forms (``licence_form``, ``home_visit_form`` in ``domain/preservice.yml``) take each answer as text;
``validate_<form>`` checks the requested slot and either keeps a clean value or rejects it (slot ``None``) with a
message saying why, and the form asks again. 取消 / 算了 / 不办了 inside a form ends it with nothing saved.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.context import StepContext, get_step, step
from assistant.dialogue.interpret import (BACK_OUT_WORDS, BACKS_OUT, BY_ANOTHER, COMPLAINT, DETAIL_INTENTS,
                                         QUESTION, sibling_of_unasked_kind)
from assistant.dialogue.rules import load_rules
from assistant.dialogue.replies import say
from assistant.logging import get_logger, log_event
from assistant.preservice.handbook import FACT_QUESTIONS, FirmFacts, extract_facts
from assistant.preservice.numbers import find_booking_numbers, remove_booking_numbers
from assistant.preservice.precheck import SYNONYMS, precheck, precheck_parts
from assistant.preservice.runtime import PreService, get_preservice
from assistant.preservice.store import DuplicateLicence, NotFound
from assistant.preservice.streets import looks_like_address
from assistant.preservice.validation import InvalidValue, parse_expiry, parse_half_day, parse_phone
from assistant.privacy import mask_name, mask_pii
from assistant.parts import checklist_part, payload
from nlu.text import KIN

log = get_logger(__name__)

LICENCE_SLOTS = ("licence_type", "licence_number", "licence_holder", "licence_expiry", "licence_channel")
VISIT_SLOTS = ("visit_person", "visit_phone", "visit_address", "visit_street", "visit_matter", "visit_time")
#: Words that leave a form in a short message (and the whole messages that do: ``BACKS_OUT``)
_CANCEL_WORD = re.compile(BACK_OUT_WORDS)
#: Intents of a question the form can answer in passing before it asks again.
_DIGRESSION_INTENTS = {"ask_matter", "ask_materials", "ask_location", "ask_time", "ask_fee", "ask_hall", "complain"}
#: Slots whose answer names someone or something (a person, a number, an address, a matter): never a question.
#: A date or a time may be answered with one («明天上午行不»).
_NAMING_SLOTS = {"visit_person", "visit_phone", "visit_address", "visit_matter", "licence_holder",
                 "licence_number"}
#: Readings of a message inside a form that steer the form (leave it, ask for a person, say yes or no): never
#: taken as a question in passing, even when they ask something («可以取消不»).
_FORM_CONTROL_INTENTS = {"affirm", "deny", "goodbye", "request_human", "cancel_booking", "cancel_licence",
                         "erase_my_data"}
_HUMAN = re.compile(r"转人工|人工服务|找人工|真人|找工作人员")
#: A request for a matter («想申请护理补贴», «我要办居住证»), which no name, number or address says.
_REQUEST = re.compile(r"(想|要|[帮给替][我他她]|我来)(申请|办理?|领|问|查|咨询|弄|整)")
#: A matter search score (nlu.NLU.search) at which a free-text matter for a home visit is taken as that matter.
VISIT_MATTER_SCORE = 1.2


def _pre(ctx: StepContext) -> PreService:
    return get_preservice(ctx.services)


def _cancelled(ctx: StepContext, slots: tuple[str, ...]) -> bool:
    """The citizen backed out of the form (取消 / 算了 in a short message, or asked for a person): clear it and
    end it."""
    text = ctx.tracker.text or ""
    wants_human = bool(_HUMAN.search(text))
    backs_out = bool(BACKS_OUT.match(text)) or (len(text) <= 12 and bool(_CANCEL_WORD.search(text)))
    if not backs_out and not wants_human:
        return False
    for s in slots:
        ctx.set_slot(s, None)
    ctx.set_slot("ps_cancelled", True)
    ctx.set_slot("requested_slot", None)
    return True


def _reject(ctx: StepContext, slot: str, message: str) -> None:
    ctx.text(message)
    ctx.set_slot(slot, None)


#: At most this long, a free-text answer that parses as another question's answer is that answer.
_OTHER_ANSWER_CHARS = 14


def _answers_another(ctx: StepContext, req: str, value: str, fits: dict[str, Any], ask: str) -> bool:
    """Whether a free-text answer (a name, a matter) is plainly the answer to another question of the form — a date
    for «持证人», a half-day for «办什么事», a phone number for «姓名» (``fits``: slot → value parser raising
    :class:`InvalidValue`). The other slot is filled when still empty (so it is not asked again; «好的，这个先记下了»),
    else ``ask`` is said; either way the question asked is asked again instead of storing the answer as it. An
    answer of the other kind that cannot be taken (a weekend half-day) is told why, and not stored either."""
    if len(value) > _OTHER_ANSWER_CHARS:
        return False
    for slot, fit in fits.items():
        try:
            parsed = fit(value)
        except InvalidValue as exc:
            if exc.recognised:  # («后天上午» for «办什么事» on a Friday: a half-day, but a weekend one — said so)
                _reject(ctx, req, str(exc))
                return True
            continue
        if ctx.tracker.get_slot(slot):
            _reject(ctx, req, ask)
        else:  # (the form asks its question again after this)
            ctx.set_slot(slot, parsed)
            _reject(ctx, req, say("preservice.form.noted_other"))
        return True
    return False


#: Who the person is to the speaker, without a name («我妈», «老人家»): no name to book under.
_ONLY_KIN = re.compile(rf"^(我|我的|我家|俺|家里)?的?(老)?[{KIN}]{{1,3}}[。.!！]?$|^(老人|老人家|老汉儿?|家里老人)[。.!！]?$")
#: Not known or not had («不知道», «记不得», «没有手机»).
_NOT_KNOWN = re.compile(r"不知道|不晓得|不清楚|记不得|记不住|忘了|没有|没得|莫得")
#: A name told («她叫李兰», «名字是…»).
_NAME_TOLD = re.compile(r"叫|姓名|名字")
#: A request or a wish said first («帮我预约上门办», «想改个时间», «我要约»), after a yes too («好的帮我预约上门», «好的你
#: 帮我约吧»): no one's name.
_WISH = re.compile(r"^(?:好的?|行|可以|嗯|要得|麻烦)?[，,。!！\s]*(?:你|您)?(我|我们)?(想|要|帮我|给我|替我|约|预约)")


# --- licence registration -------------------------------------------------------------------------------------

def _channel_choice(text: str, tracker_channel: str) -> tuple[str, str | None, str]:
    """(channel, contact, note) from the answer to "where should we remind you"."""
    t = text or ""
    if re.search(r"电话|打给我|打电话|工作人员", t):
        return "none", parse_phone(re.sub(r"[^\d+\-]", "", t) or "x"), ""
    if "微信" in t:
        if tracker_channel.startswith("wechat") or tracker_channel in {"miniprogram", "wechat_mp"}:
            return "wechat", None, ""
        return "web", None, say("preservice.licence.web_not_wechat")
    if re.search(r"对话|这里|网页|网站|聊天|在线|就在这|app|App|都行|随便", t):
        if tracker_channel.startswith("wechat") or tracker_channel in {"miniprogram", "wechat_mp"}:
            return "wechat", None, ""
        return "web", None, ""
    raise InvalidValue(say("preservice.licence.ask_channel"))


async def _run_step(ctx: StepContext, intent: str) -> None:
    """Run the dialogue step the rules give ``intent`` (the answer to a question in passing, the handoff)."""
    answer = get_step(load_rules(ctx.services.settings.rasa_project_dir.resolve()).step_for(intent))
    result = answer(ctx) if answer is not None else None
    if hasattr(result, "__await__"):
        await result


async def _validate(ctx: StepContext, validate, slots: tuple[str, ...]) -> None:
    """A form's validation: a request for a person («转人工») leaves the form and hands over at once; a question in
    between is answered first; else ``validate`` checks the requested slot."""
    if ctx.tracker.get_slot("requested_slot") and _HUMAN.search(ctx.tracker.text or "") and _cancelled(ctx, slots):
        await _run_step(ctx, "request_human")
    elif not await _digression(ctx):
        if ctx.tracker.get_slot("requested_slot"):  # (an answer to the form's question, whatever it was read as)
            ctx.answered_as = "form_answer"
        validate(ctx)


async def _digression(ctx: StepContext) -> bool:
    """A question asked in the middle of a form («上门办要收费吗», «大厅在哪儿»), a complaint, or a request for a matter
    where a name, number or address was asked: answer it, keep nothing of it as the requested value, and let the form
    ask its question again."""
    req = ctx.tracker.get_slot("requested_slot")
    text = ctx.tracker.text or ""
    # a request for a matter where a name, a number or an address was asked («想申请护理补贴») is no answer either
    asks = QUESTION.search(text) or (req in _NAMING_SLOTS - {"visit_matter"} and _REQUEST.search(text)) \
        or _names_a_matter_for_a_number(ctx, req, text) \
        or ctx.tracker.intent == "complain" and COMPLAINT.search(text)  # («我要投诉» where a number was asked)
    # a button of an answer given in passing clicked («材料清单» under the card of a question asked inside the form):
    # that answer (never the name asked) — a matter's button where the visit's matter is asked is that answer
    clicked = text.startswith("/") and ctx.tracker.intent in _DIGRESSION_INTENTS \
        and not (req == "visit_matter" and ctx.tracker.intent == "ask_matter")
    if not req or text.startswith("/") and not clicked or not (asks or clicked):
        return False
    if req == "licence_type" and ctx.tracker.intent not in DETAIL_INTENTS and _pre(ctx).catalogue.find(text):
        return False  # «食品经营许可证可以不» where the licence was asked: the answer, asked as a question
    field = _field_asked(req, text) if not clicked else None
    if field is None and not clicked and req in LICENCE_SLOTS and ctx.tracker.intent == "ask_fee" \
            and not ctx.tracker.entity_values("matter"):
        field = "licence_fee"  # («这个要钱不» while a reminder is registered: the reminder's charge, none)
    visit_matter = _requested_visit_matter(ctx, req) if field is None and not clicked else None
    if clicked:
        await _run_step(ctx, ctx.tracker.intent)
    elif field is not None:  # «电话可以不留吗», «编号在哪里看»: what the form's question is for, and how to answer it
        ctx.text(say(f"preservice.field.{field}"))
        ctx.answered_as = "form_field"  # (not the hall's phone number, say: what follows is no question about it)
    elif visit_matter is not None:  # «帮他办养老认证» where the person's name was asked: what the visit is for
        ctx.set_slot("visit_matter", f"{visit_matter.code}|{visit_matter.name}")
        ctx.text(say("preservice.visit.matter_noted", name=visit_matter.name))
    elif ctx.tracker.intent in _DIGRESSION_INTENTS:
        await _run_step(ctx, ctx.tracker.intent)
    elif (req in _NAMING_SLOTS or req == "licence_type" and _pre(ctx).catalogue.find(text) is None) \
            and (ctx.tracker.intent not in _FORM_CONTROL_INTENTS or BY_ANOTHER.search(text)) \
            and not _CANCEL_WORD.search(text):
        # a question, not the answer: not kept, whatever it asks («需要身份证不» where the licence was asked; «食品
        # 经营许可证可以不» names one: an answer; «我老公帮我办行不», read as a request for a person, is a question)
        ctx.text(say("preservice.form.unanswered"))
    else:
        return False
    ctx.text(say("preservice.form.resume"))
    ctx.set_slot(req, None)
    log_event(log, "dialogue.form.digression", session=ctx.tracker.sender_id, slot=req, intent=ctx.tracker.intent)
    return True


#: Words that name one of a form's questions: a question with one asks about that question («电话可以不留吗»,
#: «编号在哪里看», «地址要写多详细», «你们什么时候能来», «要提前好久约»), not about a matter or the hall.
_FIELD_WORDS = {
    "visit_person": re.compile(r"姓名|名字|真名|实名"),
    "visit_phone": re.compile(r"电话|手机|号码"),
    "visit_address": re.compile(r"地址|住址|门牌|楼栋|房号"),
    "visit_street": re.compile(r"街道|社区"),
    "visit_time": re.compile(r"((什么|啥|哪个)时候|哪天|几点|几号).{0,3}(来|上门|到)|上门时间|约(哪天|什么时候|啥时候)|"
                            r"((周|星期|礼拜)[一二三四五六日天末]|明天|后天|今天|上午|下午|晚上).{0,4}(可以|行|能|来|上门|方便)|"
                            r"提前(多久|好久|几天|多少天|多长时间)"),
    "licence_number": re.compile(r"编号|证号|号码"),
    "licence_holder": re.compile(r"持证人|单位名称|名称|写谁"),
    "licence_expiry": re.compile(r"有效期|到期(日|时间|日期)|日期"),
    "licence_channel": re.compile(r"提醒方式|怎么提醒|(微信|电话)提醒"),
}
_DIGITS = re.compile(r"\d{5,}")


def _field_asked(req: str, text: str) -> str | None:
    """The question of the form (the one asked first, then the form's others) that a question inside it asks
    about, by its words; ``None`` for a message with a number in it (an answer, asked as a question)."""
    slots = VISIT_SLOTS if req in VISIT_SLOTS else LICENCE_SLOTS if req in LICENCE_SLOTS else ()
    if _DIGITS.search(text):
        return None
    return next((slot for slot in sorted(slots, key=lambda s: s != req)
                 if slot in _FIELD_WORDS and _FIELD_WORDS[slot].search(text)), None)


def _checked_person(ctx: StepContext, value: str) -> str:
    """The person a visit is for: a name (not a number, not only who they are to the speaker, not a short request
    or wish: «帮我预约上门办», «想改个时间»)."""
    if len(value) < 2 or len(value) > 120 or re.fullmatch(r"[\d\s+\-]+", value) or _ONLY_KIN.match(value) \
            or _WISH.match(value) and len(value) <= 10 and not _NAME_TOLD.search(value):
        raise InvalidValue(say("preservice.visit.person_needed"))
    return value


def _checked_number(ctx: StepContext, value: str) -> str:
    """A licence number, in the format of the licence type asked first."""
    lt = _pre(ctx).catalogue.get(str(ctx.tracker.get_slot("licence_type") or ""))
    if lt is None:  # pragma: no cover - the type is validated first
        raise InvalidValue(say("preservice.licence.type_first"))
    return lt.check_number(value)


def _checked_holder(ctx: StepContext, value: str) -> str:
    """A licence's holder, as written on it."""
    if len(value) < 2 or len(value) > 100:
        raise InvalidValue(say("preservice.licence.ask_holder"))
    return value


#: The checks of the answers that can be put right (the value as kept, or :class:`InvalidValue`), one per question:
#: the form's validation asks them too.
_PUT_RIGHT_CHECKS = {"visit_phone": lambda ctx, v: parse_phone(v), "visit_person": _checked_person,
                     "licence_number": _checked_number, "licence_holder": _checked_holder}


#: An earlier answer said to be wrong («电话写错了，是139…», «名字说错了，应该是刘桂英», «不对，电话是189…», «编号
#: 不对，应该是JY…»), and what it should be.
_FIELDS_SAID = "|".join(_FIELD_WORDS[s].pattern for s in _PUT_RIGHT_CHECKS)  # (the questions' own words)
_PUT_RIGHT = (re.compile(rf"(?P<field>{_FIELDS_SAID})[^，,。]{{0,4}}(写错|说错|填错|打错|弄错|错了|不对|改一下|改成|改为)"
                         r"[^，,。]{0,3}[，,。\s]*(应该是|改成|改为|是|换成)?[：:\s]*(?P<value>.+)$"),
              re.compile(rf"^(不对|错了|说错了|写错了|填错了|搞错了|弄错了)[，,。\s]*(?P<field>{_FIELDS_SAID})(号码|号)?"
                         r"(应该是|改成|改为|是|换成)[：:\s]*(?P<value>.+)$"))


def _put_right(ctx: StepContext, req: str, value: str) -> bool:
    """An earlier answer of the form put right where another question was asked (:data:`_PUT_RIGHT`): the phone,
    the name, the licence's number or holder replaced, «好的，这个先记下了», and the question asked again — not
    stored as its answer (the address, the expiry date)."""
    m = next((m for m in (p.search(value) for p in _PUT_RIGHT) if m is not None), None)
    slots = VISIT_SLOTS if req in VISIT_SLOTS else LICENCE_SLOTS
    slot = next((s for s in slots if m is not None and s in _PUT_RIGHT_CHECKS
                 and _FIELD_WORDS[s].search(m.group("field"))), None)
    if slot is None or slot == req:  # (the question asked answered: its own check)
        return False
    new = m.group("value").strip("。.!！ ")
    try:
        new = _PUT_RIGHT_CHECKS[slot](ctx, new)
    except InvalidValue as exc:
        _reject(ctx, req, str(exc))
        return True
    ctx.set_slot(slot, new)
    _reject(ctx, req, say("preservice.form.noted_other"))
    return True


def _names_a_matter_for_a_number(ctx: StepContext, req: str, text: str) -> bool:
    """Whether a message with no digit, where a phone number was asked, names a matter well («他的养老金认证»): a
    matter, not a wrong number."""
    hits = ctx.tracker.latest_message.get("matters") or []
    return req == "visit_phone" and not re.search(r"\d", text) and bool(hits) \
        and float(hits[0].get("score") or 0) >= VISIT_MATTER_SCORE


def _requested_visit_matter(ctx: StepContext, req: str) -> Any:
    """The matter a request names («帮他办养老认证») while the home-visit form asks another of its slots and has no
    matter yet (not a question about it: «认证要带啥» is answered in passing), else ``None``."""
    text = ctx.tracker.text or ""
    if req not in VISIT_SLOTS or req == "visit_matter" or ctx.tracker.get_slot("visit_matter") \
            or QUESTION.search(text) or not (_REQUEST.search(text) or _names_a_matter_for_a_number(ctx, req, text)):
        return None
    found = _matter_in_request(ctx)
    if found is None:
        code, _ = _visit_matter(ctx, text)
        kb = getattr(ctx.services, "kb", None)
        found = kb.get(code) if code and kb is not None else None
    return found


@step("validate_licence_form")
async def validate_licence_form(ctx: StepContext) -> None:
    """Check the requested slot of ``licence_form`` (a question in between is answered first)."""
    await _validate(ctx, _validate_licence, LICENCE_SLOTS)


def _validate_licence(ctx: StepContext) -> None:
    """The requested slot of ``licence_form`` (on activation: take the licence type from the request)."""
    req = ctx.tracker.get_slot("requested_slot")
    if not req:
        catalogue = _pre(ctx).catalogue
        lt = catalogue.find(ctx.tracker.text) if not ctx.tracker.text.startswith("/") else None
        # (else the licence the conversation is about renewing: «我们店的食品经营许可证快到期了 → 提醒我一下»)
        lt = lt or catalogue.of_matter(ctx.state.matter_code)
        if lt is not None and not ctx.tracker.get_slot("licence_type"):
            ctx.set_slot("licence_type", lt.key)
            ctx.text(say("preservice.licence.start", name=lt.name))
        else:  # the opening, said once (a question asked again after a digression or a wrong answer goes without)
            ctx.text(say("preservice.licence.start_any"))
        return
    if _cancelled(ctx, LICENCE_SLOTS):
        return
    pre = _pre(ctx)
    value = str(ctx.tracker.get_slot(req) or "").strip()
    if _put_right(ctx, req, value):
        return
    if req == "licence_type":
        lt = pre.catalogue.find(value)
        if lt is None:
            names = "、".join(t.name for t in pre.catalogue.types[:8])
            _reject(ctx, req, say("preservice.licence.unknown_type", value=value[:20], names=names))
            return
        ctx.set_slot(req, lt.key)
    elif req == "licence_number":
        try:
            ctx.set_slot(req, _checked_number(ctx, value))
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
    elif req == "licence_holder":
        try:
            _checked_holder(ctx, value)
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
            return
        if not _answers_another(ctx, req, value, {
                "licence_expiry": lambda v: parse_expiry(v, pre.today()).isoformat()},
                say("preservice.licence.ask_holder")):
            ctx.set_slot(req, value)
    elif req == "licence_expiry":
        try:
            ctx.set_slot(req, parse_expiry(value, pre.today()).isoformat())
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
    elif req == "licence_channel":
        try:
            channel, contact, note = _channel_choice(value, ctx.tracker.channel)
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
            return
        if note:
            ctx.text(note)
        ctx.set_slot(req, f"{channel}|{contact or ''}")


def _reset(ctx: StepContext, slots: tuple[str, ...]) -> None:
    for s in slots:
        ctx.set_slot(s, None)
    ctx.set_slot("ps_cancelled", None)


@step("action_licence_submit")
async def action_licence_submit(ctx: StepContext) -> None:
    """Save the licence from the completed ``licence_form`` (or say it was dropped)."""
    t = ctx.tracker
    if t.get_slot("ps_cancelled") or not all(t.get_slot(s) for s in LICENCE_SLOTS):
        _reset(ctx, LICENCE_SLOTS)
        ctx.text(say("preservice.licence.dropped"))
        return
    pre = _pre(ctx)
    lt = pre.catalogue.get(t.get_slot("licence_type"))
    from datetime import date

    expiry = date.fromisoformat(t.get_slot("licence_expiry"))
    channel, _, contact = str(t.get_slot("licence_channel")).partition("|")
    _reset(ctx, LICENCE_SLOTS)
    try:
        lic = await run_in_threadpool(lambda: pre.licences.register(
            licence_type=lt.key, licence_name=lt.name, number=t.get_slot("licence_number"),
            holder=t.get_slot("licence_holder"), expiry_date=expiry, session_id=t.sender_id, channel=channel,
            contact=contact or None, source="chat"))
    except DuplicateLicence:
        ctx.text(say("preservice.licence.duplicate", name=lt.name, number=t.get_slot("licence_number")))
        return
    offsets = "、".join(str(o) for o in pre.scheduler.offsets)
    how = say({"web": "preservice.licence.how_web", "wechat": "preservice.licence.how_wechat",
               "none": "preservice.licence.how_phone"}[channel], contact=mask_pii(contact))
    ctx.text(say("preservice.licence.saved", name=lt.name, number=lic.number, holder=mask_name(lic.holder),
                 year=expiry.year, month=expiry.month, day=expiry.day, offsets=offsets, how=how))
    matter = pre.catalogue.matter(lt)
    buttons = [{"title": say("preservice.button.my_licences"), "payload": "/list_licences"}]
    if matter is not None:
        buttons.insert(0, {"title": say("preservice.button.matter_materials", name=matter.name[:14]),
                           "payload": payload("ask_materials", matter.code)})
    ctx.reply({"type": "buttons", "buttons": buttons})


@step("action_licence_list")
async def action_licence_list(ctx: StepContext) -> None:
    """The conversation's registered licences with their expiry and next reminder."""
    pre = _pre(ctx)
    lics = await run_in_threadpool(pre.licences.list_for_session, ctx.tracker.sender_id)
    if not lics:
        ctx.text(say("preservice.licence.none_yet"))
        ctx.reply({"type": "buttons", "buttons": [{"title": say("preservice.button.register_licence"),
                                                   "payload": "/register_licence"}]})
        return
    today = pre.today()
    lines = [say("preservice.licence.list_head")]
    for i, lic in enumerate(lics, 1):
        left = (lic.expiry_date - today).days
        sent = [r for r in lic.reminders if r.status == "sent"]
        tail = say("preservice.licence.list_reminded", count=len(sent)) if sent else ""
        lines.append(say("preservice.licence.list_line", i=i, name=lic.licence_name, number=lic.number,
                         expiry=lic.expiry_date.isoformat(), left=left, reminded=tail))
    ctx.text("\n".join(lines))
    ctx.reply({"type": "buttons", "buttons": [{"title": say("preservice.button.cancel_reminder", number=lic.number),
                                               "payload": f"取消提醒 {lic.number}"} for lic in lics[:5]]})


@step("action_licence_cancel")
async def action_licence_cancel(ctx: StepContext) -> None:
    """Stop reminders for one licence (named by number or position; the only one when there is one)."""
    pre = _pre(ctx)
    sid = ctx.tracker.sender_id
    lics = await run_in_threadpool(pre.licences.list_for_session, sid)
    if not lics:
        ctx.text(say("preservice.licence.none_to_cancel"))
        return
    text = ctx.tracker.text
    ref = None
    for lic in lics:
        if lic.number in re.sub(r"[\s\-]", "", text.upper()):
            ref = lic.number
    if ref is None:
        m = re.search(r"第\s*([1-9一二三四五])\s*(张|个|项)", text)
        if m:
            ref = str("一二三四五".index(m.group(1)) + 1 if m.group(1) in "一二三四五" else m.group(1))
    if ref is None:
        by_type = [lic for lic in lics if pre.catalogue.find(text) and lic.licence_type == pre.catalogue.find(text).key]
        if len(by_type) == 1:
            ref = by_type[0].number
    if ref is None and len(lics) == 1:
        ref = lics[0].number
    if ref is None:
        ctx.text(say("preservice.licence.which_to_cancel"))
        ctx.reply({"type": "buttons", "buttons": [{"title": say("preservice.button.licence", name=lic.licence_name,
                                                                number=lic.number),
                                                   "payload": f"取消提醒 {lic.number}"} for lic in lics[:5]]})
        return
    try:
        lic = await run_in_threadpool(pre.licences.cancel, sid, ref)
    except NotFound:
        ctx.text(say("preservice.licence.not_found"))
        return
    ctx.text(say("preservice.licence.cancelled", name=lic.licence_name, number=lic.number))


# --- home-visit booking ---------------------------------------------------------------------------------------

def _visit_matter(ctx: StepContext, text: str) -> tuple[str | None, str]:
    """(code, name) of the matter a free-text answer names; (None, text) when nothing fits well."""
    kb = getattr(ctx.services, "kb", None)
    if kb is not None:
        exact = [m for m in kb.matters if m.name == text or text in getattr(m, "aliases", [])]
        if exact:
            return exact[0].code, exact[0].name
    nlu = getattr(ctx.services, "nlu", None)
    if nlu is not None and hasattr(nlu, "search"):
        try:
            hits = nlu.search(text, k=1)
        except Exception:  # pragma: no cover - search failures leave the text as said
            hits = []
        if hits and hits[0].score >= VISIT_MATTER_SCORE:
            return hits[0].code, hits[0].name
    return None, text[:100]


#: Words in a booking request → the name of the matter usually done at home (first match wins).
_VISIT_MATTERS = (
    (re.compile(r"重庆|川渝"), "养老保险待遇领取资格认证（川渝通办）"),
    (re.compile(r"认证|生存认证|资格认证|领养老金"), "养老保险定期待遇领取资格认证"),
    (re.compile(r"高龄津贴|高龄补贴"), "80周岁以上老年人高龄津贴发放"),
)


def _matter_in_request(ctx: StepContext) -> Any:
    """The matter a home-visit request names by a usual word (认证 → 养老金资格认证), or ``None``."""
    kb = getattr(ctx.services, "kb", None)
    if kb is None:
        return None
    for pattern, name in _VISIT_MATTERS:
        if pattern.search(ctx.tracker.text or ""):
            found = [m for m in kb.matters if m.name == name]
            if found:
                return found[0]
    return None


def _conversation_matter(ctx: StepContext) -> Any:
    """The matter the conversation is about (from its state), or ``None``."""
    kb = getattr(ctx.services, "kb", None)
    code = ctx.state.matter_code
    return kb.get(code) if kb is not None and code else None


@step("validate_home_visit_form")
async def validate_home_visit_form(ctx: StepContext) -> None:
    """Check the requested slot of ``home_visit_form`` (a question in between is answered first)."""
    await _validate(ctx, _validate_visit, VISIT_SLOTS)


def _validate_visit(ctx: StepContext) -> None:
    """The requested slot of ``home_visit_form`` (on activation: take the matter from the request)."""
    req = ctx.tracker.get_slot("requested_slot")
    if not req:
        # the matter the request names, else the conversation's («我爸82了想办高龄津贴 → 预约上门办»)
        found = _matter_in_request(ctx) or _conversation_matter(ctx)
        if found is not None and not ctx.tracker.get_slot("visit_matter"):
            ctx.set_slot("visit_matter", f"{found.code}|{found.name}")
        ctx.text(say("preservice.visit.start"))  # the opening, said once
        return
    if _cancelled(ctx, VISIT_SLOTS):
        return
    pre = _pre(ctx)
    value = str(ctx.tracker.get_slot(req) or "").strip()
    if _put_right(ctx, req, value):
        return
    # (another question's answer given to a free-text one: a half-day, a phone number)
    others = {"visit_time": lambda v: _half_day(v, pre), "visit_phone": parse_phone}
    if req == "visit_person":
        try:
            _checked_person(ctx, value)
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
            return
        if not _answers_another(ctx, req, value, others, say("preservice.visit.person_needed")):
            ctx.set_slot(req, value)
    elif req == "visit_phone":
        try:
            ctx.set_slot(req, parse_phone(value))
        except InvalidValue as exc:
            if _NAME_TOLD.search(value) and not re.search(r"\d{5}", value) and len(value) <= 120:
                # «她叫李兰，腿不好» where the phone was asked: the person's name, put right
                ctx.set_slot("visit_person", value)
                _reject(ctx, req, say("preservice.form.noted_other"))
            elif _NOT_KNOWN.search(value) and not re.search(r"\d", value):
                # «他的电话我不知道», «老人没得手机»: whose phone will do, not «号码不对»
                _reject(ctx, req, say("preservice.visit.phone_unknown"))
            else:
                _reject(ctx, req, str(exc))
    elif req == "visit_address":
        if len(value) < 4 or len(value) > 200:
            _reject(ctx, req, say("preservice.visit.ask_address"))
            return
        if _answers_another(ctx, req, value, others, say("preservice.visit.ask_address")):
            return  # («明天下午» where the address was asked: the half-day, noted)
        m = pre.streets.match(value)
        if m.reason == "unknown" and not looks_like_address(value):
            _reject(ctx, req, say("preservice.visit.ask_address"))  # («我想改成明天下午»: no address at all)
            return
        if m.reason == "outside":
            _reject(ctx, req, say("preservice.visit.outside", place=m.term))
            return
        ctx.set_slot(req, value)
        if m.street is not None:
            ctx.set_slot("visit_street", m.street.name)
        elif m.reason == "ambiguous":
            ctx.text(say("preservice.visit.street_ambiguous", term=m.term,
                         streets="、".join(s.name for s in m.candidates)))
    elif req == "visit_street":
        st = pre.streets.get(value) or pre.streets.match(value).street
        if st is None:
            _reject(ctx, req, say("preservice.visit.ask_street_again", streets="、".join(pre.streets.names)))
        else:
            ctx.set_slot(req, st.name)
    elif req == "visit_matter":
        if len(value) < 2:
            _reject(ctx, req, say("preservice.visit.ask_matter"))
            return
        if _answers_another(ctx, req, value, others, say("preservice.visit.ask_matter")):
            return
        code, name = _visit_matter(ctx, value)
        ctx.set_slot(req, f"{code or ''}|{name}")
    elif req == "visit_time":
        try:
            ctx.set_slot(req, _half_day(value, pre))
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))


def _half_day(value: str, pre: PreService) -> str:
    """The ``visit_time`` slot value, ``ISO date|上午/下午``, of a preferred half-day (:func:`parse_half_day`; raises
    :class:`InvalidValue`)."""
    d, half = parse_half_day(value, pre.today())
    return f"{d.isoformat()}|{half}"


@step("action_home_visit_submit")
async def action_home_visit_submit(ctx: StepContext) -> None:
    """Book the visit from the completed ``home_visit_form``; confirm with the booking number."""
    t = ctx.tracker
    if t.get_slot("ps_cancelled") or not all(t.get_slot(s) for s in VISIT_SLOTS):
        _reset(ctx, VISIT_SLOTS)
        ctx.text(say("preservice.visit.dropped"))
        return
    from datetime import date

    pre = _pre(ctx)
    code, _, matter_name = str(t.get_slot("visit_matter")).partition("|")
    day_s, _, half = str(t.get_slot("visit_time")).partition("|")
    day = date.fromisoformat(day_s)
    values = {s: t.get_slot(s) for s in VISIT_SLOTS}
    _reset(ctx, VISIT_SLOTS)
    if not await ctx.take_daily("bookings"):
        ctx.text(say("preservice.visit.capped"))
        return
    b = await run_in_threadpool(lambda: pre.bookings.create(
        person_name=str(values["visit_person"])[:64], person_note=str(values["visit_person"])[:255],
        phone=values["visit_phone"], address=values["visit_address"], street=values["visit_street"],
        matter_code=code or None, matter_name=matter_name, visit_date=day, half_day=half,
        session_id=t.sender_id, channel=t.channel))
    ctx.set_slot("last_booking", b.number)
    st = pre.streets.get(b.street)
    ctx.text(say("preservice.visit.booked", number=b.number, month=b.visit_date.month, day=b.visit_date.day,
                 half_day=b.half_day, centre=st.service_centre if st else b.street, matter=b.matter_name,
                 phone=mask_pii(b.phone)))
    m = pre.catalogue.kb.get(code) if (code and pre.catalogue.kb is not None) else None
    if m is not None and m.materials:
        ctx.text(say("preservice.visit.materials"))
        ctx.reply(checklist_part(m))


_STATES = ("booked", "confirmed", "done", "cancelled")


def _state_words(status: str) -> str:
    """How a booking status reads to the citizen (an unknown status as it is)."""
    return say(f"preservice.booking.state.{status}") if status in _STATES else status


def _booking_ref(ctx: StepContext) -> str | None:
    named = find_booking_numbers(ctx.tracker.text)
    return named[0] if named else ctx.tracker.get_slot("last_booking")


async def _find_booking(ctx: StepContext, pre: PreService):
    """The booking the message is about — only ever one of this conversation's own: a number typed here that
    belongs to another conversation (or to none) gets the same «not found here» answer, which tells nothing about
    whether it exists."""
    sid = ctx.tracker.sender_id
    number = _booking_ref(ctx)
    if number is None:
        mine = await run_in_threadpool(pre.bookings.for_session, sid)
        if mine:
            number = mine[0].number
    if number is None:
        ctx.text(say("preservice.booking.ask_number"))
        return None
    b = await run_in_threadpool(lambda: pre.bookings.get(number, session_id=sid))
    if b is None:
        ctx.text(say("preservice.booking.not_found", number=number))
        log_event(log, "preservice.booking.not_found_here", session=sid)
        return None
    return b


@step("action_booking_status")
async def action_booking_status(ctx: StepContext) -> None:
    """A booking's status (by the number in the message, or the conversation's last booking)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    ctx.text(say("preservice.booking.status", number=b.number, state=_state_words(b.status),
                 month=b.visit_date.month, day=b.visit_date.day, half_day=b.half_day, street=b.street,
                 matter=b.matter_name, address=mask_pii(b.address), phone=mask_pii(b.phone)))
    if b.status in {"booked", "confirmed"}:
        ctx.reply({"type": "buttons", "buttons": [
            {"title": say("preservice.button.change_time"), "payload": f"改预约 {b.number}"},
            {"title": say("preservice.button.cancel_booking"), "payload": f"取消预约 {b.number}"}]})


@step("action_booking_change")
async def action_booking_change(ctx: StepContext) -> None:
    """Move a booking to another half-day named in the message (``改到下周二下午``)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    if b.status in {"cancelled", "done"}:
        ctx.text(say("preservice.booking.cannot_change", number=b.number, state=_state_words(b.status)))
        return
    text = remove_booking_numbers(ctx.tracker.text)
    try:
        day, half = parse_half_day(text, pre.today())
    except InvalidValue as exc:
        ctx.text(say("preservice.booking.change_how", problem=exc, number=b.number))
        return
    b2 = await run_in_threadpool(lambda: pre.bookings.update(b.number, visit_date=day, half_day=half,
                                                             status="booked", session_id=ctx.tracker.sender_id))
    ctx.text(say("preservice.booking.changed", number=b2.number, month=day.month, day=day.day, half_day=half))


@step("action_booking_cancel")
async def action_booking_cancel(ctx: StepContext) -> None:
    """Cancel a booking (by number or the conversation's last booking)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    if b.status in {"cancelled", "done"}:
        ctx.text(say("preservice.booking.no_need_to_cancel", number=b.number, state=_state_words(b.status)))
        return
    await run_in_threadpool(lambda: pre.bookings.update(b.number, status="cancelled",
                                                        session_id=ctx.tracker.sender_id))
    ctx.text(say("preservice.booking.cancelled", number=b.number))


# --- handbook -------------------------------------------------------------------------------------------------

@step("action_policy_list")
def action_policy_list(ctx: StepContext) -> None:
    """Policies that fit what the firm has said (this message and earlier ones), asking for missing facts."""
    pre = _pre(ctx)
    facts = FirmFacts.from_dict(ctx.tracker.get_slot("firm_facts")).merged(extract_facts(ctx.tracker.text))
    ctx.set_slot("firm_facts", facts.as_dict())
    matches = pre.handbook.match(facts)
    fits = [m for m in matches if not m.unknown]
    maybe = [m for m in matches if m.unknown]
    known = "、".join(v if k != "age_years" else say("preservice.policy.fact_new") if v < 1  # («新开的公司»)
                     else say("preservice.policy.fact_age", years=format(v, "g"))
                     for k, v in facts.as_dict().items() if v is not None)
    lines = [say("preservice.policy.intro_known", known=known) if known else say("preservice.policy.intro_general")]
    for i, m in enumerate(fits[:6], 1):
        p = m.policy
        lines.append(say("preservice.policy.item", i=i, kind=p.kind, title=p.title, summary=p.summary,
                         how=p.how_to_apply))
    if maybe:
        lines.append(say("preservice.policy.maybe", items="；".join(
            say("preservice.policy.maybe_item", title=m.policy.title, facts="、".join(_fact_name(u) for u in m.unknown))
            for m in maybe[:5])))
    missing = [k for k in FACT_QUESTIONS if getattr(facts, k) is None and any(k in m.unknown for m in maybe)]
    if missing:
        lines.append(say("preservice.policy.ask_facts", questions="；".join(FACT_QUESTIONS[k] for k in missing)))
    lines.append(say("preservice.policy.disclaimer"))
    ctx.text("\n".join(lines))
    log_event(log, "preservice.policy.listed", session=ctx.tracker.sender_id, fits=len(fits), maybe=len(maybe),
              missing=",".join(missing))


def _fact_name(k: str) -> str:
    from assistant.preservice.handbook import FACT_NAMES

    return FACT_NAMES.get(k, k)


# --- pre-check ------------------------------------------------------------------------------------------------

_DOC_TERMS = sorted(set(SYNONYMS) | set(SYNONYMS.values()), key=len, reverse=True)


def _precheck_matter(ctx: StepContext, kb: Any) -> Any:
    """The matter a pre-check is about: named in the message (document words removed first), else the
    conversation's matter."""
    text = ctx.tracker.text
    stripped = text
    for term in _DOC_TERMS:
        stripped = stripped.replace(term, "")
    stripped = re.sub(r"我?(带了|有|拿了|准备了|只带了|手头有)|还差啥子?|还差什么|还缺什么|还缺啥|够不够|齐不齐|够了没有?|"
                      r"还要啥|还要什么|复印件|原件|[，,、和跟。？?！!]", " ", stripped).strip()
    code = ctx.tracker.get_slot("matter_code")
    current = kb.get(code) if code else None
    nlu = getattr(ctx.services, "nlu", None)
    if stripped and nlu is not None and hasattr(nlu, "search"):
        hits = nlu.search(stripped, k=1)
        if hits and hits[0].score >= 1.0:
            m = kb.get(hits[0].code)
            # (a sibling of the conversation's matter the message asks no kind of is no other matter: «还差个卫生的
            # 证» after 公共场所卫生许可新办 is that one's, not the 延续 the words find just ahead)
            if m is not None and m.materials \
                    and not (current is not None and sibling_of_unasked_kind(text, m, current, kb)):
                return m
    return current


@step("action_precheck")
def action_precheck(ctx: StepContext) -> None:
    """``precheck_materials``: the matter's checklist with what the citizen has ticked, the rest explained."""
    kb = getattr(ctx.services, "kb", None)
    if kb is None:
        ctx.text(say("preservice.not_ready"))
        return
    m = _precheck_matter(ctx, kb)
    if m is None or not m.materials:
        ctx.text(say("preservice.precheck.which_matter"))
        return
    items = precheck(m, ctx.tracker.text)
    for part in precheck_parts(m, items):
        ctx.reply(part)
    ctx.set_slot("matter_code", m.code)
    ctx.set_slot("matter_name", m.name)
    ctx.reply({"type": "buttons", "buttons": [
        {"title": say("button.location"), "payload": payload("ask_location", m.code)},
        {"title": say("button.human"), "payload": "/request_human"}]})
    log_event(log, "preservice.precheck", session=ctx.tracker.sender_id, matter=m.code,
              have=sum(i.status == "have" for i in items), missing=sum(i.status == "missing" for i in items))
