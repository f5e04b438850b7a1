"""Record the turns the assistant got wrong or was unsure of, where each signal arises.

* :func:`note_parse` — from :func:`assistant.dialogue.understand.understand` (both the Rasa and the degraded path):
  an ``nlu_fallback``; a matter question that matched nothing (``no_match``); an ``ambiguous`` route; a
  low-confidence intent (``low_confidence``); and, when the previous answer was a clarification and this message
  picks none of its options, the question that was being clarified (``clarify_unpicked``).
* :func:`note_thumbs_down` — from the feedback API: the question whose answer got a 👎.
* :func:`note_handoff` — from the handoff step: a citizen who asks for a human within two turns of a matter answer;
  the question that got that answer.

Every function is best-effort: it never raises into the turn, and it stores only masked text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from assistant.db.chat import Message
from assistant.logging import get_logger, log_event
from assistant.teach import store
from nlu.intents import MATTER_INTENTS
from nlu.text import MAX_MODEL_CHARS, normalize, strip_frame

log = get_logger(__name__)

#: Reasons, in the words the inbox shows them.
REASONS = {"fallback": "没听懂", "no_match": "没找到事项", "low_confidence": "把握不大", "ambiguous": "多个事项难分",
           "clarify_unpicked": "追问后没选", "thumbs_down": "点了👎", "handoff_after_answer": "答后转人工"}
#: How many bot turns back a matter answer counts for "asked for a human right after an answer".
HANDOFF_WINDOW_TURNS = 2


def _enabled(services: Any) -> bool:
    return bool(getattr(services.settings, "triage_enabled", True)) and getattr(services, "db", None) is not None


def _vector(services: Any, text: str):
    nlu = getattr(services, "nlu", None)
    if nlu is None:
        return None
    from assistant.privacy import mask_pii

    norm = strip_frame(normalize(mask_pii(text), MAX_MODEL_CHARS))
    return nlu.encoder.encode_one(norm) if norm else None


def _record(services: Any, **fields: Any) -> int | None:
    if str(fields.get("text") or "").startswith("/"):  # a button press is not a question
        return None
    try:
        item = store.add_item(services.db, vector=_vector(services, fields["text"]), **fields)
    except Exception:  # the inbox must never break a turn
        log.exception("triage.record_failed")
        return None
    if item is not None:
        log_event(log, "triage.recorded", item=item, reason=fields["reason"], session=fields.get("session_id"))
    return item


def reason_of(parse: dict[str, Any], low_confidence: float) -> str | None:
    """Why a parse belongs in the inbox, or ``None`` (understood, a button, a rule's reading, a loading NLU)."""
    if parse.get("error") or parse.get("interpreted") or str(parse.get("text") or "").startswith("/"):
        return None
    intent = parse.get("intent") or {}
    name, conf = intent.get("name"), float(intent.get("confidence") or 0.0)
    ranking = [r.get("name") for r in parse.get("intent_ranking") or []]
    if name == "nlu_fallback":
        return "fallback"
    if name == "out_of_scope" and len(ranking) > 1 and ranking[1] in MATTER_INTENTS:
        return "no_match"
    if parse.get("ambiguous"):
        return "ambiguous"
    if name not in ("out_of_scope",) and conf < low_confidence:
        return "low_confidence"
    return None


def _last_user_message(s, session_id: str, before_id: int | None = None) -> Message | None:
    q = select(Message).where(Message.session_id == session_id, Message.role == "user")
    if before_id is not None:
        q = q.where(Message.id < before_id)
    return s.scalars(q.order_by(Message.id.desc()).limit(1)).first()


def note_parse(services: Any, text: str, session_id: str | None, parse: dict[str, Any], state: Any,
               channel: str = "") -> None:
    """Record a parsed message that the assistant was unsure of, and a clarification nobody picked.

    Args:
        services: the app's services.
        text: the message as received.
        session_id: the conversation (``None``: a message read on its own is not recorded).
        parse: the parse after :func:`assistant.dialogue.interpret.interpret`.
        state: the conversation's memory before this message (``None`` when unknown).
        channel: the channel, when known.
    """
    if not session_id or not _enabled(services) or getattr(state, "form", None):
        # (while a form asks its questions, a message is an answer to one — a name, a number, an address: personal,
        # and no question the NLU was unsure of)
        return
    try:
        candidates = list(getattr(state, "candidates", None) or [])
        picked = parse.get("interpreted") == "selection" or any(
            e.get("entity") == "matter" and e.get("value") in candidates for e in parse.get("entities") or []
            if str(parse.get("text") or "").startswith("/"))
        if candidates and not picked:
            with services.db.session() as s:
                asked = _last_user_message(s, session_id)
                asked_text = asked.text if asked is not None else ""
                # only right after the clarification itself (its buttons offered the candidates)
                bot = s.scalars(select(Message).where(Message.session_id == session_id, Message.role == "bot")
                                .order_by(Message.id.desc()).limit(1)).first()
                offered = bot is not None and any(
                    isinstance(p, dict) and p.get("type") == "buttons" and candidates[0] in str(p.get("buttons"))
                    for p in bot.payload or [])
                if not offered:
                    asked_text = ""
            kb = getattr(services, "kb", None)
            first = kb.get(candidates[0]) if kb is not None else None
            if asked_text:
                _record(services, session_id=session_id, channel=channel, text=asked_text, reason="clarify_unpicked",
                        intent="ask_matter", matter_code=candidates[0], matter_name=first.name if first else None)
        reason = reason_of(parse, float(getattr(services.settings, "triage_low_confidence", 0.5)))
        if reason is None:
            return
        top = (parse.get("matters") or [{}])[0]
        intent = parse.get("intent") or {}
        _record(services, session_id=session_id, channel=channel, text=text, reason=reason,
                intent=str(intent.get("name") or ""), confidence=float(intent.get("confidence") or 0.0),
                matter_code=top.get("code"), matter_name=top.get("name"), matter_score=float(top.get("score") or 0.0))
    except Exception:
        log.exception("triage.note_parse_failed")


def note_thumbs_down(services: Any, session_id: str, message_ref: str, channel: str = "",
                     matter_code: str | None = None) -> None:
    """Record the question whose answer got a 👎 (``message_ref``: the bot message id, else the last question)."""
    if not _enabled(services):
        return
    try:
        with services.db.session() as s:
            bot = None
            if message_ref.isdigit():
                bot = s.scalars(select(Message).where(Message.id == int(message_ref),
                                                      Message.session_id == session_id,
                                                      Message.role == "bot")).first()
            asked = _last_user_message(s, session_id, bot.id if bot is not None else None)
            if asked is None:
                return
            text, intent = asked.text, asked.intent or ""
            if not matter_code and bot is not None:  # the matter the rated answer was about
                card = _card(bot)
                matter_code = card.get("code") if card else None
        kb = getattr(services, "kb", None)
        m = kb.get(matter_code) if kb is not None and matter_code else None
        _record(services, session_id=session_id, channel=channel, text=text, reason="thumbs_down", intent=intent,
                matter_code=m.code if m else None, matter_name=m.name if m else None)
    except Exception:
        log.exception("triage.note_thumbs_down_failed")


def _card(bot: Message) -> dict[str, Any] | None:
    """The matter ``{"code", "name", …}`` of a bot message's matter card, if it had one."""
    for p in bot.payload or []:
        if isinstance(p, dict) and p.get("type") == "matter_card" and isinstance(p.get("matter"), dict):
            return p["matter"]
    return None


def note_handoff(services: Any, session_id: str, channel: str = "") -> None:
    """A citizen asked for a human: when one of the last two answers was a matter card, record the question that
    got it (the answer did not help)."""
    if not _enabled(services):
        return
    try:
        with services.db.session() as s:
            bots = s.scalars(select(Message).where(Message.session_id == session_id, Message.role == "bot")
                             .order_by(Message.id.desc()).limit(HANDOFF_WINDOW_TURNS)).all()
            answered = next(((bot, _card(bot)) for bot in bots if _card(bot)), None)
            if answered is None:
                return
            bot, card = answered
            asked = _last_user_message(s, session_id, bot.id)
            if asked is None or str(asked.text).startswith("/"):
                return
            text, intent = asked.text, asked.intent or ""
        matter = card
        _record(services, session_id=session_id, channel=channel, text=text, reason="handoff_after_answer",
                intent=intent, matter_code=matter.get("code"), matter_name=matter.get("name"))
    except Exception:
        log.exception("triage.note_handoff_failed")
