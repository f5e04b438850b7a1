"""The web channel: ``POST /api/v1/chat``, ``GET /api/v1/chat/{session_id}/messages`` (staff replies, the open
ticket, a rating request after close), ``POST /api/v1/chat/{session_id}/rating`` and ``…/callback`` (the web
chat and the widget use them), ``DELETE /api/v1/chat/{session_id}`` («删除我的记录») and the chat page at ``/``
(``assistant/static``).

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
from assistant.chat import MAX_ACCEPTED_CHARS, ChatResponse
from assistant.db.conversations import StaffMessage, TicketClosed, TicketNotFound
from assistant.db.retention import erase_session
from assistant.dialogue.replies import say
from assistant.privacy import mask_pii
from assistant.staff.workbench import extract_phone

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
    #: ``{"ticket_id"}`` when the conversation's last ticket is closed and not rated yet: ask for 1–5.
    rating_request: dict[str, Any] | None = None


class RatingRequest(BaseModel):
    """The citizen's rating of a closed ticket."""

    ticket_id: int
    rating: int = Field(ge=1, le=5, description="1 (poor) … 5 (very good)")


class CallbackBody(BaseModel):
    """A phone number for a call-back while no helper is available."""

    phone: str = Field(min_length=5, max_length=32)


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
                                               presented_token(request.headers, body.session_token), body.message_id)
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
    rating = None if ticket else await run_in_threadpool(services.workbench.rating_request, session_id)
    return MessagesResponse(session_id=session_id, messages=msgs,
                            last_id=max([after] + [m.id for m in msgs]),
                            handoff=ticket.part() if ticket else None, rating_request=rating)


@router.post("/api/v1/chat/{session_id}/rating")
async def rate(body: RatingRequest, session_id: str = Depends(require_session_token),
               services: Services = Depends(get_services)) -> dict[str, Any]:
    """Rate the help of a closed ticket of this conversation, once (1–5); ``X-Session-Token`` required."""
    try:
        await run_in_threadpool(services.workbench.rate, session_id, body.ticket_id, body.rating)
    except TicketNotFound:
        raise ApiError(404, "not_found", "这个会话没有这个工单。/ no such ticket in this conversation") from None
    except TicketClosed:
        raise ApiError(409, "not_ratable", "工单尚未结束或已经评价过。/ the ticket is not closed or already rated") \
            from None
    return {"ok": True, "message": say("handoff.rate_thanks")}


@router.post("/api/v1/chat/{session_id}/callback")
async def callback(body: CallbackBody, session_id: str = Depends(require_session_token),
                   services: Services = Depends(get_services)
                   ) -> dict[str, Any]:
    """Leave a phone number for a call-back on the conversation's open ticket; ``X-Session-Token`` required."""
    phone = extract_phone(body.phone)
    if phone is None:
        raise ApiError(422, "bad_phone", "请填写正确的手机号码或带区号的固定电话。/ not a phone number")
    try:
        tid = await run_in_threadpool(services.workbench.leave_callback, session_id, phone)
    except TicketNotFound:
        raise ApiError(404, "no_ticket", "这个会话没有进行中的人工服务。/ no open ticket in this conversation") from None
    return {"ok": True, "message": say("handoff.callback_saved", phone=mask_pii(phone), id=tid)}


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
               responses={401: {"description": "no session token"},
                          403: {"description": "not this conversation's token (or the conversation is gone)"}})
async def erase(session_id: str = Depends(require_session_token), services: Services = Depends(get_services)
                ) -> EraseResponse:
    """«删除我的记录» from a client (web, widget, kiosk, mini-program): erase the conversation, its messages,
    dialogue state, feedback, turn keys and Rasa tracker; its tickets stay as anonymous stubs (matter, times,
    rating). The ``X-Session-Token`` header must be the conversation's token: an erased conversation's token
    opens nothing any more (403, like a wrong one)."""
    counts = await run_in_threadpool(erase_session, services.db, session_id)
    return EraseResponse(session_id=session_id, deleted=counts)
