"""The web channel: ``POST /api/v1/chat``, ``GET /api/v1/chat/{session_id}/messages`` and the chat page at
``/`` (``assistant/static``).

``POST /api/v1/chat`` is also what the widget and the kiosk's buttons call. The first turn of a new
``session_id`` returns ``session_token``; every later request for the conversation presents it (body
``session_token`` or header ``X-Session-Token``), see :mod:`assistant.api.citizen`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.citizen import presented_token, require_session_token, session_for_turn
from assistant.api.deps import ApiError, get_services
from assistant.container import Services
from assistant.db.conversations import StaffMessage
from assistant.chat import MAX_ACCEPTED_CHARS, ChatResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"

router = APIRouter(tags=["web"])


class ChatRequest(BaseModel):
    """A citizen's message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)
    session_id: str = Field(pattern=SESSION_ID_PATTERN,
                            description="the conversation id chosen by the client (letters, digits, _.:@-)")
    text: str = Field(max_length=MAX_ACCEPTED_CHARS, description="what the citizen typed")
    metadata: dict[str, Any] | None = None
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                                   description="the client's id of this message: a retry with the same id gets "
                                               "the stored answer instead of a second turn")
    session_token: str | None = Field(default=None, max_length=128,
                                      description="the token the conversation's first turn returned (or send it "
                                                  "as the X-Session-Token header); omit it on the first turn")


class MessagesResponse(BaseModel):
    """Staff messages delivered into a conversation."""

    session_id: str
    messages: list[StaffMessage]
    last_id: int
    handoff: dict[str, Any] | None = None


@router.post("/api/v1/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, request: Request, services: Services = Depends(get_services)) -> ChatResponse:
    """One chat turn; empty or blank text is a 400, too many turns a 429, a later turn without the conversation's
    session token a 401 (a wrong one a 403), everything else gets an answer. The first turn of a new
    ``session_id`` returns ``session_token``."""
    limiter = services.limiter
    if limiter is not None:
        await limiter.check_chat(request, body.session_id)
    if not body.text.strip() or not any(c.isprintable() and not c.isspace() for c in body.text):
        raise ApiError(400, "empty_text", "消息内容为空，请输入您想办理的事情。/ the message text is empty")
    session_id, token = await session_for_turn(services, body.session_id, "web",
                                               presented_token(request.headers, body.session_token))
    metadata = {k: v for k, v in (body.metadata or {}).items() if isinstance(k, str)}
    # who counts against the daily caps (a keyed hash of the address; never what the client says)
    metadata["client_ref"] = limiter.client_ref(request) if limiter is not None else None
    response = await services.assistant.chat(session_id, body.text, channel="web", metadata=metadata,
                                             message_id=body.message_id)
    # added here, after the turn was stored for retries: the token itself is never written down
    if token:
        response = ChatResponse.model_validate(response).model_copy(update={"session_token": token})
    return response


@router.get("/api/v1/chat/{session_id}/messages", response_model=MessagesResponse)
async def messages(session_id: str = Depends(require_session_token), after: int = Query(0, ge=0),
                   services: Services = Depends(get_services)) -> MessagesResponse:
    """Staff messages with an id greater than ``after`` (the ``X-Session-Token`` header must be the
    conversation's session token: 401 without, 403 when wrong)."""
    msgs = await run_in_threadpool(services.conversations.staff_messages_after, session_id, after)
    ticket = await run_in_threadpool(services.handoffs.open_for_session, session_id)
    return MessagesResponse(session_id=session_id, messages=msgs,
                            last_id=max([after] + [m.id for m in msgs]),
                            handoff=ticket.part() if ticket else None)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The citizens' web chat page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})
