"""Rasa's external NLU: ``POST /nlu/model/parse``.

Rasa (endpoints.yml ``nlu: {url: <app>/nlu}``) posts ``{"text", "message_id", "token"}`` for every user
message; the answer is ``nlu.NLU.parse(text)`` and always carries ``text``, ``intent`` and ``entities`` (a
missing key makes Rasa drop the message silently). The parse is recorded per sender (``message_id`` is the
Rasa sender id) so the chat response can report the intent.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import require_internal
from assistant.logging import get_logger, log_event

log = get_logger(__name__)
router = APIRouter(tags=["nlu"])


class ParseRequest(BaseModel):
    """Rasa's request body."""

    model_config = ConfigDict(extra="ignore")
    text: str = ""
    message_id: str | None = None
    token: str | None = None


def _fallback_parse(text: str, why: str) -> dict[str, Any]:
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.0},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.0}], "entities": [], "matters": [],
            "out_of_scope": False, "ambiguous": False, "error": why}


def complete_parse(text: str, parse: Any) -> dict[str, Any]:
    """Make sure a parse has the keys Rasa requires (``text``, ``intent{name,confidence}``, ``entities``)."""
    if not isinstance(parse, dict):
        return _fallback_parse(text, "bad_parse")
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


@router.post("/nlu/model/parse")
async def model_parse(body: ParseRequest, request: Request) -> dict[str, Any]:
    """Parse one user message for Rasa.

    Returns:
        The NLU parse in Rasa's format; ``nlu_fallback`` with an ``error`` key while the NLU is loading or
        when it fails (so Rasa's fallback rules run instead of the message being lost).
    """
    require_internal(request, body.token or request.query_params.get("token"))
    services = request.app.state.services
    t0 = time.perf_counter()
    text = body.text or ""
    if services.nlu is None:
        result = _fallback_parse(text, "nlu_not_ready")
    else:
        try:
            result = complete_parse(text, await run_in_threadpool(services.nlu.parse, text))
        except Exception as exc:  # the NLU must never make Rasa lose a message
            log.exception("nlu.parse.failed")
            result = _fallback_parse(text, type(exc).__name__)
    services.parses.record(body.message_id, result)
    log_event(log, "nlu.parse.completed", sender=body.message_id, intent=result["intent"]["name"],
              confidence=round(result["intent"]["confidence"], 3),
              matter=(result["entities"][0].get("value") if result["entities"] else None),
              ms=round((time.perf_counter() - t0) * 1000, 1))
    return result
