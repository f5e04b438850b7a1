"""The NLU parse of one message, as the dialogue needs it: always Rasa's keys (``text``, ``intent{name,
confidence}``, ``entities``) plus the app NLU's ``matters``, ``out_of_scope`` and ``ambiguous``.

Used by the NLU endpoint Rasa calls (``assistant.rasa.nlu_endpoint``) and by the degraded path, so a message
is understood the same way whether Rasa is up or not.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from assistant.dialogue.rules import load_rules
from assistant.logging import get_logger
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


def _payload_without_nlu(services: Any, text: str) -> dict[str, Any] | None:
    """A button payload parsed while the NLU is still loading (intents from the rule table, matters from the KB
    when it is loaded)."""
    if not looks_like_payload(text):
        return None
    rules = load_rules(services.settings.rasa_project_dir.resolve())
    intents = set(rules.steps) | set(rules.forms)
    kb = getattr(services, "kb", None)
    payload = parse_payload(text, intents, (lambda c: kb.get(c) is not None) if kb is not None else (lambda c: False))
    return payload_parse(text, payload, lambda c: kb.get(c).name) if payload is not None else None


async def understand(services: Any, text: str) -> dict[str, Any]:
    """Parse ``text`` with the app's NLU (``services.nlu``); never raises.

    Returns:
        The completed parse; a button payload is understood even while the NLU is loading; otherwise
        ``nlu_fallback`` with an ``error`` key while the NLU is loading or when it fails.
    """
    if getattr(services, "nlu", None) is None:
        return _payload_without_nlu(services, text) or fallback_parse(text, "nlu_not_ready")
    try:
        return complete_parse(text, await run_in_threadpool(services.nlu.parse, text))
    except Exception as exc:  # the NLU must never lose a message
        log.exception("nlu.parse.failed")
        return fallback_parse(text, type(exc).__name__)
