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

from assistant.dialogue.context import StepContext, step
from assistant.logging import get_logger, log_event
from assistant.preservice.handbook import FACT_QUESTIONS, FirmFacts, extract_facts
from assistant.preservice.precheck import SYNONYMS, precheck, precheck_parts
from assistant.preservice.runtime import PreService, get_preservice
from assistant.preservice.store import DuplicateLicence, NotFound
from assistant.preservice.validation import InvalidValue, parse_expiry, parse_half_day, parse_phone
from assistant.privacy import mask_pii
from assistant.parts import checklist_part, payload

log = get_logger(__name__)

LICENCE_SLOTS = ("licence_type", "licence_number", "licence_holder", "licence_expiry", "licence_channel")
VISIT_SLOTS = ("visit_person", "visit_phone", "visit_address", "visit_street", "visit_matter", "visit_time")
_CANCEL = re.compile(r"^\s*(取消|算了|不办了|不登记了|不约了|不预约了|退出|不要了|不用了|先不了|不弄了)(吧|了|啊|哈)?\s*[。!！.]?\s*$")
_HUMAN = re.compile(r"转人工|人工服务|找人工|真人|找工作人员")
_BOOKING_NO = re.compile(r"SM\s*\d{6}\s*[A-Z0-9]{4}", re.IGNORECASE)
#: A matter search score (nlu.NLU.search) at which a free-text matter for a home visit is taken as that matter.
VISIT_MATTER_SCORE = 1.2
TEXT_NOT_READY = "金小二正在启动，请稍等一会儿再试。"


def _pre(ctx: StepContext) -> PreService:
    return get_preservice(ctx.services)


def _cancelled(ctx: StepContext, slots: tuple[str, ...]) -> bool:
    """The citizen backed out of the form (取消 / 算了, or asked for a person): clear it and end it."""
    text = ctx.tracker.text or ""
    wants_human = bool(_HUMAN.search(text))
    if not _CANCEL.match(text) and not wants_human:
        return False
    if wants_human:
        ctx.reply({"type": "buttons", "buttons": [{"title": "转人工", "payload": "/request_human"}]})
    for s in slots:
        ctx.set_slot(s, None)
    ctx.set_slot("ps_cancelled", True)
    ctx.set_slot("requested_slot", None)
    return True


def _reject(ctx: StepContext, slot: str, message: str) -> None:
    ctx.text(message)
    ctx.set_slot(slot, None)


# --- licence registration -------------------------------------------------------------------------------------

def _channel_choice(text: str, tracker_channel: str) -> tuple[str, str | None, str]:
    """(channel, contact, note) from the answer to "where should we remind you"."""
    t = text or ""
    if re.search(r"电话|打给我|打电话|工作人员", t):
        return "none", parse_phone(re.sub(r"[^\d+\-]", "", t) or "x"), ""
    if "微信" in t:
        if tracker_channel.startswith("wechat") or tracker_channel in {"miniprogram", "wechat_mp"}:
            return "wechat", None, ""
        return "web", None, "（您现在是在网页上和我对话，提醒会发到这个对话里；想用微信提醒，请在「金牛政务」微信里再登记一次。）"
    if re.search(r"对话|这里|网页|网站|聊天|在线|就在这|app|App|都行|随便", t):
        if tracker_channel.startswith("wechat") or tracker_channel in {"miniprogram", "wechat_mp"}:
            return "wechat", None, ""
        return "web", None, ""
    raise InvalidValue("请选择提醒方式：「在这个对话里」「微信」或「打电话」（打电话请附上号码）。")


@step("validate_licence_form")
def validate_licence_form(ctx: StepContext) -> None:
    """Check the requested slot of ``licence_form`` (on activation: take the licence type from the request)."""
    req = ctx.tracker.get_slot("requested_slot")
    if not req:
        lt = _pre(ctx).catalogue.find(ctx.tracker.text) if not ctx.tracker.text.startswith("/") else None
        if lt is not None and not ctx.tracker.get_slot("licence_type"):
            ctx.set_slot("licence_type", lt.key)
            ctx.text(f"好的，帮您登记「{lt.name}」的到期提醒（随时回复「取消」可以退出）。")
        return
    if _cancelled(ctx, LICENCE_SLOTS):
        return
    pre = _pre(ctx)
    value = str(ctx.tracker.get_slot(req) or "").strip()
    if req == "licence_type":
        lt = pre.catalogue.find(value)
        if lt is None:
            names = "、".join(t.name for t in pre.catalogue.types[:8])
            _reject(ctx, req, f"「{value[:20]}」不在金牛区许可延续提示清单里。清单里有：{names}等，"
                              "请换个说法，或回复「取消」。")
            return
        ctx.set_slot(req, lt.key)
    elif req == "licence_number":
        lt = pre.catalogue.get(str(ctx.tracker.get_slot("licence_type") or ""))
        if lt is None:  # pragma: no cover - the type is validated first
            _reject(ctx, "licence_type", "请先告诉我是哪种证照。")
            return
        try:
            ctx.set_slot(req, lt.check_number(value))
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
    elif req == "licence_holder":
        if len(value) < 2 or len(value) > 100:
            _reject(ctx, req, "请输入证上写的持证人或单位全称（2到100个字）。")
        else:
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
        ctx.text("好的，这次不登记了。需要时说「登记证照到期提醒」就行。")
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
        ctx.text(f"这张{lt.name}（编号 {t.get_slot('licence_number')}）已经登记过了，不用重复登记。"
                 "说「我的证照」可以查看。")
        return
    offsets = "、".join(str(o) for o in pre.scheduler.offsets)
    how = {"web": "在这个对话里", "wechat": "通过微信", "none": f"由工作人员打电话（{mask_pii(contact)}）"}[channel]
    ctx.text(f"已登记✅ {lt.name}，编号 {lic.number}，持证：{lic.holder}，有效期至 {expiry.year}年{expiry.month}月"
             f"{expiry.day}日。\n到期前 {offsets} 天，金小二会{how}提醒您，并附上延续办理的材料清单。")
    matter = pre.catalogue.matter(lt)
    buttons = [{"title": "我的证照", "payload": "/list_licences"}]
    if matter is not None:
        buttons.insert(0, {"title": f"看看{matter.name[:14]}要啥材料", "payload": payload("ask_materials", matter.code)})
    ctx.reply({"type": "buttons", "buttons": buttons})


@step("action_licence_list")
async def action_licence_list(ctx: StepContext) -> None:
    """The conversation's registered licences with their expiry and next reminder."""
    pre = _pre(ctx)
    lics = await run_in_threadpool(pre.licences.list_for_session, ctx.tracker.sender_id)
    if not lics:
        ctx.text("您在这个对话里还没有登记证照。说「登记证照到期提醒」可以添加。")
        ctx.reply({"type": "buttons", "buttons": [{"title": "登记证照到期提醒", "payload": "/register_licence"}]})
        return
    today = pre.today()
    lines = ["您登记的证照："]
    for i, lic in enumerate(lics, 1):
        left = (lic.expiry_date - today).days
        sent = [r for r in lic.reminders if r.status == "sent"]
        tail = f"，已提醒 {len(sent)} 次" if sent else ""
        lines.append(f"{i}. {lic.licence_name}（{lic.number}），{lic.expiry_date.isoformat()} 到期，还剩 {left} 天{tail}")
    ctx.text("\n".join(lines))
    ctx.reply({"type": "buttons", "buttons": [{"title": f"取消提醒：{lic.number}", "payload": f"取消提醒 {lic.number}"}
                                              for lic in lics[:5]]})


@step("action_licence_cancel")
async def action_licence_cancel(ctx: StepContext) -> None:
    """Stop reminders for one licence (named by number or position; the only one when there is one)."""
    pre = _pre(ctx)
    sid = ctx.tracker.sender_id
    lics = await run_in_threadpool(pre.licences.list_for_session, sid)
    if not lics:
        ctx.text("您在这个对话里没有登记需要提醒的证照。")
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
        ctx.text("要取消哪一张证照的提醒？")
        ctx.reply({"type": "buttons", "buttons": [{"title": f"{lic.licence_name} {lic.number}",
                                                   "payload": f"取消提醒 {lic.number}"} for lic in lics[:5]]})
        return
    try:
        lic = await run_in_threadpool(pre.licences.cancel, sid, ref)
    except NotFound:
        ctx.text("没找到这张证照，请说「我的证照」看看登记了哪些。")
        return
    ctx.text(f"好的，已停止「{lic.licence_name}」（{lic.number}）的到期提醒。")


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


@step("validate_home_visit_form")
def validate_home_visit_form(ctx: StepContext) -> None:
    """Check the requested slot of ``home_visit_form`` (on activation: take the matter from the request)."""
    req = ctx.tracker.get_slot("requested_slot")
    if not req:
        found = _matter_in_request(ctx)
        if found is not None and not ctx.tracker.get_slot("visit_matter"):
            ctx.set_slot("visit_matter", f"{found.code}|{found.name}")
        return
    if _cancelled(ctx, VISIT_SLOTS):
        return
    pre = _pre(ctx)
    value = str(ctx.tracker.get_slot(req) or "").strip()
    if req == "visit_person":
        if len(value) < 2 or len(value) > 120 or re.fullmatch(r"[\d\s+\-]+", value):
            _reject(ctx, req, "请告诉我被上门服务的人的姓名（以及不方便出门的原因）。")
        else:
            ctx.set_slot(req, value)
    elif req == "visit_phone":
        try:
            ctx.set_slot(req, parse_phone(value))
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
    elif req == "visit_address":
        if len(value) < 4 or len(value) > 200:
            _reject(ctx, req, "请告诉我详细地址（路名、门牌号、小区楼栋）。")
            return
        m = pre.streets.match(value)
        if m.reason == "outside":
            _reject(ctx, req, f"这个地址在{m.term}，金牛区的上门服务只能到金牛区内。请联系{m.term}的政务服务中心，"
                              "或换一个金牛区内的地址。")
            return
        ctx.set_slot(req, value)
        if m.street is not None:
            ctx.set_slot("visit_street", m.street.name)
        elif m.reason == "ambiguous":
            ctx.text(f"「{m.term}」跨了好几个街道（{'、'.join(s.name for s in m.candidates)}），需要确认一下。")
    elif req == "visit_street":
        st = pre.streets.get(value) or pre.streets.match(value).street
        if st is None:
            _reject(ctx, req, "没对上金牛区的街道。金牛区的街道有：" + "、".join(pre.streets.names)
                    + "。不清楚的话说出附近的社区或地标也行。")
        else:
            ctx.set_slot(req, st.name)
    elif req == "visit_matter":
        if len(value) < 2:
            _reject(ctx, req, "要上门办理什么事？比如「养老金资格认证」。")
            return
        code, name = _visit_matter(ctx, value)
        ctx.set_slot(req, f"{code or ''}|{name}")
    elif req == "visit_time":
        try:
            d, half = parse_half_day(value, pre.today())
        except InvalidValue as exc:
            _reject(ctx, req, str(exc))
            return
        ctx.set_slot(req, f"{d.isoformat()}|{half}")


@step("action_home_visit_submit")
async def action_home_visit_submit(ctx: StepContext) -> None:
    """Book the visit from the completed ``home_visit_form``; confirm with the booking number."""
    t = ctx.tracker
    if t.get_slot("ps_cancelled") or not all(t.get_slot(s) for s in VISIT_SLOTS):
        _reset(ctx, VISIT_SLOTS)
        ctx.text("好的，这次不预约了。需要时说「预约上门服务」就行。")
        return
    from datetime import date

    pre = _pre(ctx)
    code, _, matter_name = str(t.get_slot("visit_matter")).partition("|")
    day_s, _, half = str(t.get_slot("visit_time")).partition("|")
    day = date.fromisoformat(day_s)
    values = {s: t.get_slot(s) for s in VISIT_SLOTS}
    _reset(ctx, VISIT_SLOTS)
    b = await run_in_threadpool(lambda: pre.bookings.create(
        person_name=str(values["visit_person"])[:64], person_note=str(values["visit_person"])[:255],
        phone=values["visit_phone"], address=values["visit_address"], street=values["visit_street"],
        matter_code=code or None, matter_name=matter_name, visit_date=day, half_day=half, today=pre.today(),
        session_id=t.sender_id, channel=t.channel))
    ctx.set_slot("last_booking", b.number)
    st = pre.streets.get(b.street)
    ctx.text(f"预约成功✅ 预约号 {b.number}\n{b.visit_date.month}月{b.visit_date.day}日{b.half_day}，"
             f"{st.service_centre if st else b.street}的工作人员上门办理「{b.matter_name}」。"
             f"上门前会先打电话（{mask_pii(b.phone)}）确认。\n查询、改时间或取消，说「查预约 {b.number}」"
             f"「改预约」「取消预约」就行。")
    m = pre.catalogue.kb.get(code) if (code and pre.catalogue.kb is not None) else None
    if m is not None and m.materials:
        ctx.text("上门时请准备好下面这些材料：")
        ctx.reply(checklist_part(m))


_STATUS_WORDS = {"booked": "已预约，等待街道确认", "confirmed": "街道已确认", "done": "已上门办结",
                 "cancelled": "已取消"}


def _booking_ref(ctx: StepContext) -> str | None:
    m = _BOOKING_NO.search(ctx.tracker.text or "")
    if m:
        return re.sub(r"\s", "", m.group(0)).upper()
    return ctx.tracker.get_slot("last_booking")


async def _find_booking(ctx: StepContext, pre: PreService):
    number = _booking_ref(ctx)
    if number is None:
        mine = await run_in_threadpool(pre.bookings.for_session, ctx.tracker.sender_id)
        if mine:
            number = mine[0].number
    if number is None:
        ctx.text("请告诉我预约号（SM 开头的12位，如 SM261201AB3K）。")
        return None
    b = await run_in_threadpool(pre.bookings.get, number)
    if b is None:
        ctx.text(f"没有找到预约号 {number} 的预约，请核对一下。")
        return None
    if b.session_id and b.session_id != ctx.tracker.sender_id and not _BOOKING_NO.search(ctx.tracker.text or ""):
        ctx.text("请告诉我预约号。")
        return None
    return b


@step("action_booking_status")
async def action_booking_status(ctx: StepContext) -> None:
    """A booking's status (by the number in the message, or the conversation's last booking)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    ctx.text(f"预约号 {b.number}：{_STATUS_WORDS.get(b.status, b.status)}。\n"
             f"{b.visit_date.month}月{b.visit_date.day}日{b.half_day}上门，{b.street}，办理「{b.matter_name}」，"
             f"地址 {mask_pii(b.address)}，电话 {mask_pii(b.phone)}。")
    if b.status in {"booked", "confirmed"}:
        ctx.reply({"type": "buttons", "buttons": [{"title": "改时间", "payload": f"改预约 {b.number}"},
                                                  {"title": "取消预约", "payload": f"取消预约 {b.number}"}]})


@step("action_booking_change")
async def action_booking_change(ctx: StepContext) -> None:
    """Move a booking to another half-day named in the message (``改到下周二下午``)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    if b.status in {"cancelled", "done"}:
        ctx.text(f"预约 {b.number} {_STATUS_WORDS[b.status]}，不能再改了。需要的话说「预约上门服务」重新约。")
        return
    text = _BOOKING_NO.sub("", ctx.tracker.text or "")
    try:
        day, half = parse_half_day(text, pre.today())
    except InvalidValue as exc:
        ctx.text(f"{exc}\n请这样说：「把 {b.number} 改到下周二下午」。")
        return
    b2 = await run_in_threadpool(lambda: pre.bookings.update(b.number, visit_date=day, half_day=half,
                                                             status="booked"))
    ctx.text(f"已改好✅ 预约 {b2.number} 改到 {day.month}月{day.day}日{half}，街道工作人员会再打电话确认。")


@step("action_booking_cancel")
async def action_booking_cancel(ctx: StepContext) -> None:
    """Cancel a booking (by number or the conversation's last booking)."""
    pre = _pre(ctx)
    b = await _find_booking(ctx, pre)
    if b is None:
        return
    if b.status in {"cancelled", "done"}:
        ctx.text(f"预约 {b.number} {_STATUS_WORDS[b.status]}，不用再取消。")
        return
    await run_in_threadpool(lambda: pre.bookings.update(b.number, status="cancelled"))
    ctx.text(f"已取消预约 {b.number}。以后需要上门服务，说「预约上门服务」就行。")


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
    known = "、".join(v if k != "age_years" else f"成立约{v:g}年" for k, v in facts.as_dict().items() if v is not None)
    lines = [f"按您说的情况（{known}），这些可能适合您：" if known else "这些惠企政策和服务对大多数企业都适用："]
    for i, m in enumerate(fits[:6], 1):
        p = m.policy
        lines.append(f"{i}. 【{p.kind}】{p.title}：{p.summary}\n   怎么申请：{p.how_to_apply}")
    if maybe:
        lines.append("还有几项要看具体条件：" + "；".join(
            f"{m.policy.title}（要看{'、'.join(_fact_name(u) for u in m.unknown)}）" for m in maybe[:5]))
    missing = [k for k in FACT_QUESTIONS if getattr(facts, k) is None and any(k in m.unknown for m in maybe)]
    if missing:
        lines.append("方便的话告诉我：" + "；".join(FACT_QUESTIONS[k] for k in missing)
                     + "。比如「我们是餐饮小微企业，成立两年，在金牛区」，我再帮您筛一遍。")
    lines.append("以上为政策摘要（示例内容，未经核实），具体以主管部门最新文件为准。")
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
    nlu = getattr(ctx.services, "nlu", None)
    if stripped and nlu is not None and hasattr(nlu, "search"):
        hits = nlu.search(stripped, k=1)
        if hits and hits[0].score >= 1.0:
            m = kb.get(hits[0].code)
            if m is not None and m.materials:
                return m
    code = ctx.tracker.get_slot("matter_code")
    return kb.get(code) if code else None


@step("action_precheck")
def action_precheck(ctx: StepContext) -> None:
    """``precheck_materials``: the matter's checklist with what the citizen has ticked, the rest explained."""
    kb = getattr(ctx.services, "kb", None)
    if kb is None:
        ctx.text(TEXT_NOT_READY)
        return
    m = _precheck_matter(ctx, kb)
    if m is None or not m.materials:
        ctx.text("您要办的是哪件事？告诉我事项，比如「我带了身份证和户口本，办居住证还差啥」，我帮您对材料。")
        return
    items = precheck(m, ctx.tracker.text)
    for part in precheck_parts(m, items):
        ctx.reply(part)
    ctx.set_slot("matter_code", m.code)
    ctx.set_slot("matter_name", m.name)
    ctx.reply({"type": "buttons", "buttons": [{"title": "办理地点", "payload": payload("ask_location", m.code)},
                                              {"title": "转人工", "payload": "/request_human"}]})
    log_event(log, "preservice.precheck", session=ctx.tracker.sender_id, matter=m.code,
              have=sum(i.status == "have" for i in items), missing=sum(i.status == "missing" for i in items))
