"""The web channel: ``POST /api/v1/chat``, ``GET /api/v1/chat/{session_id}/messages``, ``DELETE
/api/v1/chat/{session_id}`` («删除我的记录») and the chat page at ``/`` (``assistant/static``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Path as PathParam, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services
from assistant.container import Services
from assistant.db.conversations import StaffMessage
from assistant.db.retention import erase_session
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


class MessagesResponse(BaseModel):
    """Staff messages delivered into a conversation."""

    session_id: str
    messages: list[StaffMessage]
    last_id: int
    handoff: dict[str, Any] | None = None


@router.post("/api/v1/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, request: Request, services: Services = Depends(get_services)) -> ChatResponse:
    """One chat turn; empty or blank text is a 400, too many turns a 429, everything else gets an answer."""
    if services.limiter is not None:
        await services.limiter.check_chat(request, body.session_id)
    if not body.text.strip() or not any(c.isprintable() and not c.isspace() for c in body.text):
        raise ApiError(400, "empty_text", "消息内容为空，请输入您想办理的事情。/ the message text is empty")
    metadata = {k: v for k, v in (body.metadata or {}).items() if isinstance(k, str)}
    return await services.assistant.chat(body.session_id, body.text, channel="web", metadata=metadata,
                                         message_id=body.message_id)


@router.get("/api/v1/chat/{session_id}/messages", response_model=MessagesResponse)
async def messages(session_id: str, after: int = Query(0, ge=0), services: Services = Depends(get_services)
                   ) -> MessagesResponse:
    """Staff messages with an id greater than ``after`` (404 for a conversation that never started)."""
    exists = await run_in_threadpool(services.conversations.exists, session_id)
    if not exists:
        raise ApiError(404, "unknown_session", "没有这个会话，请先发送一条消息。/ unknown session")
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


class EraseResponse(BaseModel):
    """What ``DELETE /api/v1/chat/{session_id}`` erased."""

    session_id: str
    erased: bool = True
    #: Rows per table (``handoff_tickets``: made anonymous; ``ps_bookings``/``ps_licences``: detached).
    deleted: dict[str, int] = Field(default_factory=dict)


@router.delete("/api/v1/chat/{session_id}", response_model=EraseResponse,
               responses={404: {"description": "no such conversation"}})
async def erase(session_id: str = PathParam(pattern=SESSION_ID_PATTERN), services: Services = Depends(get_services)
                ) -> EraseResponse:
    """«删除我的记录» from a client (web, widget, kiosk, mini-program): erase the conversation, its messages,
    dialogue state, feedback, turn keys and Rasa tracker; its tickets stay as anonymous stubs (matter, times,
    rating). 404 for a conversation that does not exist (or was erased already)."""

    exists = await run_in_threadpool(services.conversations.exists, session_id)
    if not exists:
        raise ApiError(404, "unknown_session", "没有这个会话，请先发送一条消息。/ unknown session")
    counts = await run_in_threadpool(erase_session, services.db, session_id)
    return EraseResponse(session_id=session_id, deleted=counts)
