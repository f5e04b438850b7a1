"""Rasa's external NLU: ``POST /nlu/model/parse``.

Rasa (endpoints.yml ``nlu: {url: <app>/nlu}``) posts ``{"text", "message_id", "token"}`` for every user
message; the answer is :func:`assistant.dialogue.understand.understand` (the same parse the degraded path uses)
and always carries ``text``, ``intent`` and ``entities`` (a missing key makes Rasa drop the message silently).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from assistant.api.deps import require_internal
from assistant.dialogue.understand import understand
from assistant.logging import get_logger, log_event

log = get_logger(__name__)
router = APIRouter(tags=["nlu"])


class ParseRequest(BaseModel):
    """Rasa's request body."""

    model_config = ConfigDict(extra="ignore")
    text: str = ""
    message_id: str | None = None
    token: str | None = None


@router.post("/nlu/model/parse")
async def model_parse(body: ParseRequest, request: Request) -> dict[str, Any]:
    """Parse one user message for Rasa.

    Returns:
        The NLU parse in Rasa's format; ``nlu_fallback`` with an ``error`` key while the NLU is loading or
        when it fails (so Rasa's fallback rules run instead of the message being lost).
    """
    require_internal(request, body.token or request.query_params.get("token"))
    t0 = time.perf_counter()
    result = await understand(request.app.state.services, body.text or "", body.message_id)
    log_event(log, "nlu.parse.completed", sender=body.message_id, intent=result["intent"]["name"],
              confidence=round(result["intent"]["confidence"], 3),
              matter=(result["entities"][0].get("value") if result["entities"] else None),
              ms=round((time.perf_counter() - t0) * 1000, 1))
    return result
