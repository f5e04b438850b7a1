"""The NLU parse of one message, as the dialogue needs it: always Rasa's keys (``text``, ``intent{name,
confidence}``, ``entities``) plus the app NLU's ``matters``, ``out_of_scope`` and ``ambiguous``.

Used by the NLU endpoint Rasa calls (``assistant.rasa.nlu_endpoint``) and by the degraded path, so a message
is understood the same way whether Rasa is up or not.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.interpret import interpret, meant_text
from assistant.dialogue.state import DialogueState, mask_for_rasa
from assistant.dialogue.rules import load_rules
from assistant.logging import get_logger
from assistant.preservice.numbers import remove_booking_numbers
from assistant.teach.collect import note_parse
from knowledge.hall_questions import classify_hall_question
from knowledge.halls import HallDirectory
from nlu.payload import looks_like_payload, parse_payload, payload_parse

log = get_logger(__name__)


def fallback_parse(text: str, why: str) -> dict[str, Any]:
    """An ``nlu_fallback`` parse with the reason in ``error`` (NLU loading or failing)."""
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.0},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.0}], "entities": [], "matters": [],
            "out_of_scope": False, "ambiguous": False, "error": why}


def complete_parse(text: str, parse: Any) -> dict[str, Any]:
    """Make sure a parse has the keys Rasa requires (``text``, ``intent{name,confidence}``, ``entities``)."""
    if not isinstance(parse, dict):
        return fallback_parse(text, "bad_parse")
    out = dict(parse)
    out.setdefault("text", text)
    intent = out.get("intent")
    if not isinstance(intent, dict) or not intent.get("name"):
        out["intent"] = {"name": "nlu_fallback", "confidence": 0.0}
    else:
        out["intent"] = {**intent, "confidence": float(intent.get("confidence") or 0.0)}
    if not isinstance(out.get("entities"), list):
        out["entities"] = []
    out.setdefault("intent_ranking", [out["intent"]])
    return out


def _payload(services: Any, text: str) -> dict[str, Any] | None:
    """A button payload (``/intent{"matter": …}``): the intent must be one the dialogue's rule table answers, the
    matter one the KB knows (when it is loaded). Works while the NLU is still loading."""
    if not looks_like_payload(text):
        return None
    rules = load_rules(services.settings.rasa_project_dir.resolve())
    intents = set(rules.steps) | set(rules.forms)
    kb = getattr(services, "kb", None)
    payload = parse_payload(text, intents, (lambda c: kb.get(c) is not None) if kb is not None else (lambda c: False))
    return payload_parse(text, payload, lambda c: kb.get(c).name) if payload is not None else None


@lru_cache(maxsize=1)
def halls() -> Any:
    """The hall directory (``knowledge/data/halls.yml``), loaded once; ``None`` when it cannot be read."""
    try:
        return HallDirectory.load()
    except Exception:  # the hall data is optional for understanding a message
        log.exception("dialogue.halls.load_failed")
        return None


def _nlu_parse(services: Any, text: str) -> dict[str, Any]:
    # a booking number is read as the word 预约号: its random characters mean nothing to the classifier (the
    # steps still see the text as typed)
    query = remove_booking_numbers(text, "预约号")
    parse = complete_parse(text, services.nlu.parse(query))
    if query != text:
        parse["text"] = text
    return parse


def heard_matter(metadata: dict[str, Any] | None) -> str | None:
    """The matter the kiosk's n-best decision is sure of (``metadata["voice"]["matter"]``), only on a kiosk turn:
    other channels' metadata comes from their clients."""
    meta = metadata or {}
    voice = meta.get("voice")
    if meta.get("channel") != "kiosk" or not isinstance(voice, dict):
        return None
    code = voice.get("matter")
    return code if isinstance(code, str) and code else None


def _parse_in_state(services: Any, text: str, session_id: str | None, state: DialogueState | None = None,
                    raw: str | None = None, heard: str | None = None) -> dict[str, Any]:
    states = getattr(services, "states", None)
    if not session_id or (states is None and state is None):
        return _nlu_parse(services, text)
    if state is None:
        state = states.load(session_id)
    # Rasa was sent the masked text of this turn: understand what the citizen wrote, answer with the masked text
    # (Rasa keeps the parse's text in its tracker)
    if raw is None:
        raw = text
        if state.pending_text and mask_for_rasa(state.pending_text, bool(state.form)) == text:
            raw = state.pending_text
    # (what a thing is said not to be is no word of what is asked: «她是企业的工人，不是机关事业单位的» is read without
    # its «不是…», the steps still see the message as written)
    meant = raw if state.form else meant_text(raw)
    parse = interpret(_nlu_parse(services, meant), state, services.kb, services.nlu, halls(), classify_hall_question,
                      heard)
    if meant != raw:
        parse = dict(parse, text=raw)
    note_parse(services, text, session_id, parse, state)  # the triage inbox: what it was unsure of (masked text)
    return dict(parse, text=text) if raw != text else parse


def _note_payload(services: Any, text: str, session_id: str | None, parse: dict[str, Any]) -> None:
    """A button press after a clarification: the inbox notes «none of these» (the payload picks no option)."""
    states = getattr(services, "states", None)
    if not session_id or states is None:
        return
    state = states.load(session_id)
    if state.candidates:
        note_parse(services, text, session_id, parse, state)


async def understand(services: Any, text: str, session_id: str | None = None, *,
                     state: DialogueState | None = None, raw: str | None = None,
                     metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse ``text`` with the app's NLU (``services.nlu``) and read it in the conversation's state
    (:func:`assistant.dialogue.interpret.interpret`); never raises.

    Args:
        services: the app's services.
        text: the message (as Rasa is sent it: masked).
        session_id: the conversation (``None``: the message is read on its own).
        state: the conversation's state when the caller has just loaded it (else it is loaded here).
        raw: what the citizen wrote when ``text`` is its masked form (else found in ``state.pending_text``).
        metadata: the turn's metadata (a kiosk turn may carry the matter its voice decision is sure of).

    Returns:
        The completed parse; a button payload is understood even while the NLU is loading; otherwise
        ``nlu_fallback`` with an ``error`` key while the NLU is loading or when it fails.
    """
    payload = _payload(services, text)
    if payload is not None:
        try:
            await run_in_threadpool(_note_payload, services, text, session_id, payload)
        except Exception:  # the inbox must never lose a message
            log.exception("triage.payload_note_failed")
        return payload
    if getattr(services, "nlu", None) is None:
        return fallback_parse(text, "nlu_not_ready")
    try:
        return await run_in_threadpool(_parse_in_state, services, text, session_id, state, raw,
                                       heard_matter(metadata))
    except Exception as exc:  # the NLU must never lose a message
        log.exception("nlu.parse.failed")
        return fallback_parse(text, type(exc).__name__)
