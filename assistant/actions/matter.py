"""The spine's custom actions: matter card, clarification, checklist / place / time / fee, fallback and handoff.

Every answer is built from the knowledge base (``services.kb``) and sent as reply parts (``docs/architecture.md``).
Which matter a turn is about:

1. the ``matter`` entity of the message (a catalogue code the app's NLU resolved, or a clicked button payload);
2. otherwise the matter kept in the ``matter_code`` slot (so "那要带啥子材料" answers for the last matter);
3. otherwise the citizen is asked which matter (with the NLU's top 3 as buttons when it has any).

An ``ambiguous`` parse (several matters fit about equally) gets the top 3 to choose from instead of a guess.
Two failed turns in a row (``nlu_fallback`` or nothing understood) open a human-helper ticket, as does
``request_human``; the ticket carries the masked transcript, the matter and the level that serves it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.actions.server import ActionContext, Tracker, action, iso_time
from assistant.logging import get_logger, log_event
from assistant.privacy import mask_pii
from assistant.service import checklist_part, matter_card_part, payload

log = get_logger(__name__)

DETAIL_INTENTS = ("ask_materials", "ask_location", "ask_time", "ask_fee")
DETAIL_TITLES = {"ask_materials": "材料清单", "ask_location": "办理地点", "ask_time": "办理时限", "ask_fee": "收费标准"}
DETAIL_WORDS = {"ask_materials": "要带哪些材料", "ask_location": "在哪里办", "ask_time": "要多久", "ask_fee": "收不收费"}
#: A fused search score (nlu.NLU ``matters[].score``) at which a matter counts as named by the message even when
#: no name or alias appears in it. Measured on the current NLU: questions that name a matter score 1.40-1.50,
#: follow-ups without one ("要收费吗", "在哪里办") 0.9-1.2.
STRONG_MATCH_SCORE = 1.35
#: Failed turns in a row that open a human-helper ticket.
FALLBACKS_BEFORE_HANDOFF = 2
DEFAULT_LEVEL = "区政务大厅"

TEXT_KB_LOADING = "金小二正在启动，办事指南还没加载好，请稍等一会儿再问，或者点「转人工」。"
TEXT_NOT_UNDERSTOOD = ("抱歉，我没太明白您的意思😅 可以换个说法，说说要办的事，比如「开小卖部要办啥证」「居住证咋个办」；"
                       "也可以直接说「转人工」。")
TEXT_NOT_UNDERSTOOD_SUGGEST = "抱歉，我没太明白您的意思。您是不是想问下面这些事项？也可以换个说法再问一次。"
TEXT_CLARIFY = "您说的可能是下面几个事项，请点选您要办的那一个："
TEXT_UNVERIFIED = "以上信息来自办事指南，仅供参考，请以四川政务服务网和窗口最新要求为准。"
TEXT_HANDOFF = "已为您转接金帮办专员（{level}），工单号 {id}。专员回复后会直接显示在这里，请稍候。"
TEXT_HANDOFF_AFTER_FALLBACKS = "金小二连续两次没弄明白您的问题，已经帮您找人工："
TEXT_HANDOFF_FAILED = "抱歉，暂时没能为您转接人工。您可以拨打 12345 或直接到金牛区政务服务大厅咨询窗口。"


# --- helpers -------------------------------------------------------------------------------------------------------

def _kb(ctx: ActionContext) -> Any:
    return getattr(ctx.services, "kb", None) if ctx.services is not None else None


def _is_payload(tracker: Tracker) -> bool:
    return tracker.text.startswith("/")


def _entity_matters(ctx: ActionContext, kb: Any) -> list[Any]:
    """The matters named by the message's ``matter`` entities that the KB knows, in order."""
    return [m for m in (kb.get(c) for c in ctx.tracker.entity_values("matter")) if m is not None]


def _score(ctx: ActionContext, code: str) -> float:
    for hit in ctx.tracker.latest_message.get("matters") or []:
        if isinstance(hit, dict) and hit.get("code") == code:
            try:
                return float(hit.get("score") or 0.0)
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def _mentions(text: str, m: Any) -> bool:
    """Whether ``text`` names matter ``m`` (its name, an alias or a colloquial phrase of 2+ characters)."""
    for term in [m.name, *getattr(m, "aliases", []), *getattr(m, "colloquial", [])]:
        if term and len(term) >= 2 and term in text:
            return True
    return False


def _explicit_matters(ctx: ActionContext, kb: Any) -> list[Any]:
    """The entity matters the message really names: a clicked button, a name/alias/colloquial phrase in the text,
    or a strong search match. A follow-up like "要收费吗" gets a best-effort search guess from the NLU as its
    entity; that guess must not replace the matter the conversation is about."""
    named = _entity_matters(ctx, kb)
    if _is_payload(ctx.tracker):
        return named
    text = ctx.tracker.text
    return [m for m in named if _mentions(text, m) or _score(ctx, m.code) >= STRONG_MATCH_SCORE]


def _ranked(ctx: ActionContext, kb: Any, k: int = 3) -> list[Any]:
    """The NLU's ranked matters (``latest_message.matters``) that the KB knows, best first, at most ``k``."""
    out: list[Any] = []
    for hit in ctx.tracker.latest_message.get("matters") or []:
        code = hit.get("code") if isinstance(hit, dict) else None
        m = kb.get(str(code)) if code else None
        if m is not None and all(m.code != x.code for x in out):
            out.append(m)
        if len(out) >= k:
            break
    return out


def _slot_matter(ctx: ActionContext, kb: Any) -> Any:
    code = ctx.tracker.get_slot("matter_code")
    return kb.get(str(code)) if code else None


def _remember(ctx: ActionContext, m: Any) -> None:
    ctx.set_slot("matter_code", m.code)
    ctx.set_slot("matter_name", m.name)
    ctx.set_slot("candidates", None)
    ctx.set_slot("fallback_streak", 0)


def _human_button(m: Any = None) -> dict[str, str]:
    return {"title": "转人工", "payload": payload("request_human", m.code if m is not None else None)}


def _clarify(ctx: ActionContext, options: list[Any], intent: str) -> None:
    """Offer ``options`` (top 3) as buttons that re-ask ``intent`` for the chosen matter."""
    top = options[:3]
    ctx.text(TEXT_CLARIFY)
    ctx.reply({"type": "buttons", "buttons": [{"title": m.name, "payload": payload(intent, m.code)} for m in top]})
    ctx.set_slot("candidates", [m.code for m in top])
    ctx.set_slot("fallback_streak", 0)
    log_event(log, "dialogue.clarify", session=ctx.tracker.sender_id, intent=intent,
              candidates=",".join(m.code for m in top))


def _unverified_notice(ctx: ActionContext, m: Any) -> None:
    if not getattr(m, "verified", False):
        ctx.reply({"type": "notice", "text": TEXT_UNVERIFIED})


def _detail_buttons(m: Any, skip: str | None) -> dict[str, Any]:
    buttons = [{"title": DETAIL_TITLES[i], "payload": payload(i, m.code)} for i in DETAIL_INTENTS if i != skip]
    buttons.append(_human_button(m))
    return {"type": "buttons", "buttons": buttons}


# --- the matter card -----------------------------------------------------------------------------------------------

def _related_label(m: Any, r: Any) -> str:
    """A related matter's name for the "还需要办理" line, with when it applies where that is clear."""
    if "食品" in r.name and "食品" not in m.name:
        return f"「{r.name}」（经营中销售食品的）"
    return f"「{r.name}」"


def _answer_card(ctx: ActionContext, m: Any, also: list[Any]) -> None:
    kb = _kb(ctx)
    ctx.text(f"您要办的是「{m.name}」，办事指南要点如下：")
    ctx.reply(matter_card_part(m))
    related = list(also)
    for code in getattr(m, "related", []) or []:
        r = kb.get(code)
        if r is not None and r.code != m.code and all(r.code != x.code for x in related):
            related.append(r)
    related = related[:2]
    if related:
        ctx.text("根据您的具体情况，可能还需要办理：" + "、".join(_related_label(m, r) for r in related) + "。")
    _unverified_notice(ctx, m)
    buttons = [{"title": "材料清单", "payload": payload("ask_materials", m.code)},
               {"title": "办理地点", "payload": payload("ask_location", m.code)}]
    buttons += [{"title": r.name[:24], "payload": payload("ask_matter", r.code)} for r in related]
    buttons.append(_human_button(m))
    ctx.reply({"type": "buttons", "buttons": buttons})
    _remember(ctx, m)
    log_event(log, "dialogue.matter.answered", session=ctx.tracker.sender_id, matter=m.code,
              related=",".join(r.code for r in related))


@action("action_matter_answer")
async def action_matter_answer(ctx: ActionContext) -> None:
    """``ask_matter``: the matter card (+ related matters and the 材料清单 / 办理地点 / 转人工 buttons), or the top 3
    to choose from when the question is ambiguous, or a rephrase request when nothing fits."""
    kb = _kb(ctx)
    if kb is None:
        ctx.text(TEXT_KB_LOADING)
        ctx.reply({"type": "buttons", "buttons": [_human_button()]})
        return
    named = _entity_matters(ctx, kb)
    ranked = _ranked(ctx, kb)
    ambiguous = bool(ctx.tracker.latest_message.get("ambiguous")) and not _is_payload(ctx.tracker)
    if ambiguous:
        options = ranked or named
        if len(options) >= 2:
            _clarify(ctx, options, "ask_matter")
            return
    if named:
        _answer_card(ctx, named[0], named[1:])
        return
    if len(ranked) >= 2:
        _clarify(ctx, ranked, "ask_matter")
        return
    if ranked:
        _answer_card(ctx, ranked[0], [])
        return
    await _fallback(ctx)


# --- checklist / place / time / fee --------------------------------------------------------------------------------

def _places_text(m: Any) -> str:
    lines = []
    for i, p in enumerate(m.places[:4], 1):
        bits = [f"{i}. {p.name}（{p.level}）"]
        if p.address:
            bits.append(f"地址：{p.address}")
        if p.window:
            bits.append(f"窗口：{p.window}")
        if p.hours:
            bits.append(f"时间：{p.hours}")
        if p.phone:
            bits.append(f"电话：{p.phone}")
        lines.append("；".join(bits))
    return "\n".join(lines)


def _answer_detail(ctx: ActionContext, m: Any, intent: str) -> None:
    if intent == "ask_materials":
        if m.materials:
            ctx.text(f"办理「{m.name}」需要准备这些材料：")
            ctx.reply(checklist_part(m))
            if m.conditions:
                ctx.text("办理条件：" + "；".join(m.conditions[:5]))
        else:
            where = f"可查看办事指南：{m.online_link}" if m.online_link else "可到窗口咨询"
            phone = f"，或拨打咨询电话 {m.consult_phone}" if m.consult_phone else ""
            ctx.text(f"「{m.name}」暂时还没有收录详细的材料清单，{where}{phone}。")
    elif intent == "ask_location":
        if m.places:
            ctx.text(f"「{m.name}」可以在这些地方办理：\n{_places_text(m)}")
        else:
            ctx.text(f"「{m.name}」一般在金牛区政务服务大厅办理，具体窗口请以现场指引为准。")
        if m.online_link:
            ctx.text(f"也可以先在网上申请：{m.online_link}")
    elif intent == "ask_time":
        bits = []
        if m.promised_time_limit:
            bits.append(f"承诺办结时限：{m.promised_time_limit}")
        if m.legal_time_limit:
            bits.append(f"法定办结时限：{m.legal_time_limit}")
        hours = next((p.hours for p in m.places if p.hours), "")
        if hours:
            bits.append(f"窗口办公时间：{hours}")
        ctx.text(f"「{m.name}」" + ("；".join(bits) if bits else "的办理时限指南里没有写明，请以窗口告知为准") + "。")
    else:  # ask_fee
        fee = m.fee.strip() if m.fee else ""
        ctx.text(f"「{m.name}」的收费：{fee}。" if fee else f"「{m.name}」的办事指南没有写明收费标准，请以窗口告知为准。")
    _unverified_notice(ctx, m)
    ctx.reply(_detail_buttons(m, intent))
    _remember(ctx, m)
    log_event(log, "dialogue.detail.answered", session=ctx.tracker.sender_id, matter=m.code, intent=intent)


@action("action_matter_detail")
async def action_matter_detail(ctx: ActionContext) -> None:
    """``ask_materials`` / ``ask_location`` / ``ask_time`` / ``ask_fee`` for the message's matter or the one the
    conversation is about; asks which matter when there is none."""
    kb = _kb(ctx)
    intent = ctx.tracker.intent if ctx.tracker.intent in DETAIL_INTENTS else "ask_materials"
    if kb is None:
        ctx.text(TEXT_KB_LOADING)
        return
    named = _explicit_matters(ctx, kb)
    ranked = _ranked(ctx, kb)
    strong = [r for r in ranked if _score(ctx, r.code) >= STRONG_MATCH_SCORE]
    current = _slot_matter(ctx, kb)
    ambiguous = bool(ctx.tracker.latest_message.get("ambiguous")) and not _is_payload(ctx.tracker)
    if not named and ambiguous and len(strong) >= 2 and \
            not (current is not None and any(current.code == r.code for r in strong)):
        _clarify(ctx, strong, intent)
        return
    m = named[0] if named else current
    if m is None:
        ctx.text(f"您想问哪个事项{DETAIL_WORDS[intent]}？请告诉我事项名称，比如「个体工商户设立登记」「居住证办理」。")
        return
    _answer_detail(ctx, m, intent)


# --- fallback and handoff ------------------------------------------------------------------------------------------

def previous_streak(events: list[dict[str, Any]]) -> int:
    """How many failed turns in a row came before the current user message.

    Args:
        events: the tracker's events (the current user message is the last ``user`` event).

    Returns:
        The ``fallback_streak`` value set during the previous turn (0 when that turn did not fail).
    """
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return 0
    prev, cur = users[-2], users[-1]
    streak = 0
    for e in events[prev:cur]:
        if e.get("event") == "slot" and e.get("name") == "fallback_streak":
            try:
                streak = int(float(e.get("value") or 0))
            except (TypeError, ValueError):
                streak = 0
    return streak


def _part_summary(part: dict[str, Any]) -> str:
    t = part.get("type")
    if t in {"text", "notice"}:
        return str(part.get("text") or "")
    if t == "staff":
        return f"【专员{part.get('staff_name') or ''}】{part.get('text') or ''}"
    if t == "matter_card":
        return f"【事项卡片】{(part.get('matter') or {}).get('name', '')}"
    if t == "checklist":
        items = "、".join(str(i.get("name", "")) for i in part.get("items") or [])
        return f"【材料清单】{(part.get('matter') or {}).get('name', '')}：{items}"
    if t == "buttons":
        return "【按钮】" + " / ".join(str(b.get("title", "")) for b in part.get("buttons") or [])
    if t == "handoff":
        return f"【转人工】工单 {(part.get('ticket') or {}).get('id', '')}"
    return ""


def transcript_from_events(events: list[dict[str, Any]], limit: int = 60) -> list[dict[str, str]]:
    """The conversation as ``[{"role": "user"|"bot"|"staff", "text", "at"}]``, personal data masked.

    Args:
        events: the tracker's events.
        limit: keep the last ``limit`` lines.
    """
    lines: list[dict[str, str]] = []
    for e in events:
        kind = e.get("event")
        if kind == "user":
            text = str(e.get("text") or "")
            if text:
                lines.append({"role": "user", "text": mask_pii(text), "at": iso_time(e.get("timestamp"))})
        elif kind == "bot":
            meta = e.get("metadata") or {}
            role = "staff" if isinstance(meta, dict) and meta.get("source") == "staff" else "bot"
            texts = [str(e.get("text"))] if e.get("text") else []
            custom = (e.get("data") or {}).get("custom") if isinstance(e.get("data"), dict) else None
            for c in custom if isinstance(custom, list) else [custom] if custom else []:
                if isinstance(c, dict) and c.get("type") != "buttons":
                    s = _part_summary(c)
                    if s:
                        texts.append(s)
            if texts:
                lines.append({"role": role, "text": mask_pii(" ".join(texts)), "at": iso_time(e.get("timestamp"))})
    return lines[-limit:]


async def _handoff(ctx: ActionContext, reason: str, lead: str | None = None) -> None:
    kb = _kb(ctx)
    m = None
    if kb is not None:
        named = _explicit_matters(ctx, kb)
        m = named[0] if named else _slot_matter(ctx, kb)
    level = getattr(m, "level", None) or DEFAULT_LEVEL
    handoffs = getattr(ctx.services, "handoffs", None) if ctx.services is not None else None
    if handoffs is None:
        ctx.text(TEXT_HANDOFF_FAILED)
        return
    transcript = transcript_from_events(ctx.tracker.events)
    ticket = await run_in_threadpool(handoffs.create, ctx.tracker.sender_id, ctx.tracker.channel,
                                     m.code if m else None, m.name if m else None, level, transcript, reason)
    part = ticket.part() if hasattr(ticket, "part") else {
        "id": ticket["id"], "level": ticket.get("level", level), "status": ticket.get("status", "open")}
    if lead:
        ctx.text(lead)
    ctx.text(TEXT_HANDOFF.format(level=part["level"], id=part["id"]))
    ctx.reply({"type": "handoff", "ticket": part})
    ctx.set_slot("handoff_ticket", str(part["id"]))
    ctx.set_slot("fallback_streak", 0)
    log_event(log, "dialogue.handoff", session=ctx.tracker.sender_id, ticket=part["id"], level=part["level"],
              matter=m.code if m else None, reason=reason)


@action("action_handoff")
async def action_handoff(ctx: ActionContext) -> None:
    """``request_human``: open (or refresh) the conversation's human-helper ticket."""
    await _handoff(ctx, "request_human")


async def _fallback(ctx: ActionContext) -> None:
    streak = previous_streak(ctx.tracker.events) + 1
    if streak >= FALLBACKS_BEFORE_HANDOFF:
        await _handoff(ctx, "two_fallbacks", TEXT_HANDOFF_AFTER_FALLBACKS)
        return
    kb = _kb(ctx)
    suggestions = _ranked(ctx, kb) if kb is not None else []
    if suggestions:
        ctx.text(TEXT_NOT_UNDERSTOOD_SUGGEST)
        buttons = [{"title": m.name, "payload": payload("ask_matter", m.code)} for m in suggestions]
    else:
        ctx.text(TEXT_NOT_UNDERSTOOD)
        buttons = []
    buttons.append(_human_button())
    ctx.reply({"type": "buttons", "buttons": buttons})
    ctx.set_slot("fallback_streak", streak)
    log_event(log, "dialogue.fallback", session=ctx.tracker.sender_id, streak=streak, intent=ctx.tracker.intent)


@action("action_fallback")
async def action_fallback(ctx: ActionContext) -> None:
    """``nlu_fallback`` (and Rasa's core fallback): ask to rephrase once; the second failure in a row hands over."""
    await _fallback(ctx)
