"""WeChat mini-program (小程序): the JSON API for its front end under ``/api/v1/mp/`` and the customer-service
message push at ``/wechat/miniprogram``.

JSON API (documented in the OpenAPI, tag ``miniprogram``):

* ``POST /api/v1/mp/session`` — ``{"code"}`` from ``wx.login`` → the citizen's OpenID (``sns/jscode2session``)
  → ``{"session_id", "session_token"}``. The session id is random and bound to the OpenID; the session token is
  new on every login (the previous one stops working). The front end keeps both (``wx.setStorageSync``); outside
  production ``{"openid"}`` is accepted directly (developer tools, tests).
* ``POST /api/v1/mp/chat`` — ``{"session_id", "session_token", "text"}`` → the same ``ChatResponse`` as
  ``/api/v1/chat``.
* ``GET /api/v1/mp/matters/{code}`` — matter detail (card, checklist, follow-up buttons).
* ``GET /api/v1/mp/matters/{code}/checklist`` — the checklist part.
* ``GET /api/v1/mp/sessions/{session_id}/handoff`` — the open human-helper ticket and staff messages (header
  ``X-Session-Token``).

Without the session token the conversation's endpoints answer 401, with a wrong one 403
(:mod:`assistant.api.citizen`): log in again.

Message push (``/wechat/miniprogram``): same signature/encryption rules as the official account, XML or JSON.
A mini-program cannot answer with passive text, so the reply is ``success`` and the answer goes out through the
customer-service API; ``transfer_customer_service`` is answered when the citizen asks for a human and
``settings.wechat_miniprogram_transfer`` is on.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.citizen import (check_session, hash_token, new_session_token, presented_token,
                                   require_session_token)
from assistant.api.deps import ApiError, get_services
from assistant.api.limits import wechat_client_ref
from assistant.channels.wechat.api import WeChatAPIError
from assistant.channels.wechat.mp import get_runtime, read_body
from assistant.container import Services
from assistant.db.conversations import StaffMessage
from assistant.logging import get_logger, log_event
from assistant.chat import MAX_ACCEPTED_CHARS, ChatResponse
from assistant.dialogue.matter import card_buttons
from assistant.parts import checklist_part, matter_card_part

log = get_logger(__name__)

SESSION_PATTERN = r"^mp-[A-Za-z0-9_-]{8,64}$"

push_router = APIRouter(tags=["wechat"])
router = APIRouter(prefix="/api/v1/mp", tags=["miniprogram"])


# --------------------------------------------------------------------------------------------------------
# models


class SessionRequest(BaseModel):
    """Open (or resume) the conversation of a mini-program user."""

    model_config = ConfigDict(extra="ignore")
    code: str | None = Field(default=None, max_length=128, description="the code from wx.login()")
    openid: str | None = Field(default=None, max_length=128,
                               description="the OpenID itself — accepted only outside production")


class SessionResponse(BaseModel):
    """The conversation id the mini-program keeps for this user."""

    session_id: str
    session_token: str = Field(description="send it with every request for this conversation (body "
                                           "session_token or header X-Session-Token); a new login replaces it")
    new: bool = Field(description="true when this OpenID had no conversation before")


class MpChatRequest(BaseModel):
    """A message typed in the mini-program."""

    model_config = ConfigDict(extra="ignore")
    session_id: str = Field(pattern=SESSION_PATTERN, description="from POST /api/v1/mp/session")
    text: str = Field(max_length=MAX_ACCEPTED_CHARS, description="what the citizen typed")
    session_token: str | None = Field(default=None, max_length=128,
                                      description="from POST /api/v1/mp/session (or the X-Session-Token header)")


class MatterDetail(BaseModel):
    """A matter as the mini-program shows it: the same parts the chat sends."""

    matter_card: dict[str, Any]
    checklist: dict[str, Any]
    buttons: dict[str, Any]
    conditions: list[str] = Field(default_factory=list)
    faqs: list[dict[str, str]] = Field(default_factory=list)


class HandoffStatus(BaseModel):
    """The conversation's human-helper ticket and the staff messages after ``after``."""

    session_id: str
    handoff: dict[str, Any] | None = None
    messages: list[StaffMessage] = Field(default_factory=list)
    last_id: int = 0


# --------------------------------------------------------------------------------------------------------
# JSON API


def _session_openid(request: Request, session_id: str) -> str:
    found = get_runtime(request).openid_for_session(session_id)
    if found is None or found[1] != "miniprogram":
        raise ApiError(404, "unknown_session", "会话不存在，请重新进入小程序。/ unknown session")
    return found[0]


@router.post("/session", response_model=SessionResponse, summary="Session by OpenID")
async def open_session(body: SessionRequest, request: Request,
                       services: Services = Depends(get_services)) -> SessionResponse:
    """Exchange a ``wx.login`` code (or, outside production, an OpenID) for the user's session id."""
    rt = get_runtime(request)
    if body.code:
        try:
            openid = await rt.api.code_to_openid(body.code)
        except WeChatAPIError as exc:
            log_event(log, "mp.session.code_rejected", errcode=exc.errcode)
            raise ApiError(400 if exc.errcode > 0 else 502, "bad_code",
                           f"登录凭证无效，请重新打开小程序。/ wx.login code rejected ({exc.errcode})") from None
    elif body.openid:
        if services.settings.environment == "production":
            raise ApiError(400, "code_required", "生产环境必须使用 wx.login 的 code / use the wx.login code")
        openid = body.openid
    else:
        raise ApiError(400, "code_required", "缺少 code / the wx.login code is missing")
    existed = await run_in_threadpool(rt.openid_known, openid)
    user = await run_in_threadpool(rt.user, openid, "miniprogram")
    if user["channel"] != "miniprogram":
        raise ApiError(409, "openid_other_channel", "该 OpenID 属于公众号 / this OpenID belongs to the official account")
    token = new_session_token()  # the login proved the OpenID: a fresh credential for its conversation
    await run_in_threadpool(services.conversations.set_token_hash, user["session_id"], "miniprogram",
                            hash_token(token))
    return SessionResponse(session_id=user["session_id"], session_token=token, new=not existed)


@router.post("/chat", response_model=ChatResponse, summary="One chat turn (same reply structure as /api/v1/chat)")
async def mp_chat(body: MpChatRequest, request: Request, services: Services = Depends(get_services)) -> ChatResponse:
    """Send the citizen's message to 金小二 and return the reply parts."""
    if services.limiter is not None:
        await services.limiter.check_chat(request, body.session_id)
    if not body.text.strip():
        raise ApiError(400, "empty_text", "消息内容为空，请输入您想办理的事情。/ the message text is empty")
    await check_session(services, body.session_id, presented_token(request.headers, body.session_token))
    openid = await run_in_threadpool(_session_openid, request, body.session_id)
    return await services.assistant.chat(body.session_id, body.text, channel="miniprogram",
                                         metadata={"wechat_openid": openid, "wechat_channel": "miniprogram",
                                                   "client_ref": wechat_client_ref(openid)})


def _matter(services: Services, code: str) -> Any:
    if services.kb is None:
        raise ApiError(503, "kb_loading", "知识库正在加载，请稍后再试。/ the knowledge base is still loading")
    m = services.kb.get(code)
    if m is None:
        raise ApiError(404, "unknown_matter", f"没有编码为 {code} 的事项。/ unknown matter {code}")
    return m


@router.get("/matters/{code}", response_model=MatterDetail, summary="Matter detail")
def matter_detail(code: str, services: Services = Depends(get_services)) -> MatterDetail:
    """The matter card, checklist and follow-up buttons of one matter."""
    m = _matter(services, code)
    return MatterDetail(matter_card=matter_card_part(m), checklist=checklist_part(m), buttons=card_buttons(m),
                        conditions=list(getattr(m, "conditions", []) or []),
                        faqs=[{"question": f.question, "answer": f.answer} for f in getattr(m, "faqs", []) or []])


@router.get("/matters/{code}/checklist", summary="Checklist (材料清单) of a matter")
def matter_checklist(code: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    """The ``checklist`` reply part of one matter."""
    return checklist_part(_matter(services, code))


@router.get("/sessions/{session_id}/handoff", response_model=HandoffStatus, summary="Handoff status")
async def handoff_status(request: Request, session_id: str = Depends(require_session_token),
                         after: int = Query(0, ge=0), services: Services = Depends(get_services)) -> HandoffStatus:
    """The open human-helper ticket of the conversation (``null`` when none) and staff messages after ``after``
    (header ``X-Session-Token``)."""
    await run_in_threadpool(_session_openid, request, session_id)
    ticket = await run_in_threadpool(services.handoffs.open_for_session, session_id)
    msgs = await run_in_threadpool(services.conversations.staff_messages_after, session_id, after)
    return HandoffStatus(session_id=session_id, handoff=ticket.part() if ticket else None, messages=msgs,
                         last_id=max([after] + [m.id for m in msgs]))


# --------------------------------------------------------------------------------------------------------
# message push


@push_router.get("/wechat/miniprogram", response_class=PlainTextResponse,
                 summary="Mini-program message-push URL check")
async def mp_verify(request: Request) -> PlainTextResponse:
    """Echo ``echostr`` when the signature matches."""
    rt = get_runtime(request)
    q = dict(request.query_params)
    rt.verify_query(q)
    if not q.get("echostr"):
        raise ApiError(400, "missing_echostr", "缺少 echostr / echostr missing")
    log_event(log, "wechat.server.verified", channel="miniprogram")
    return PlainTextResponse(q["echostr"])


@push_router.post("/wechat/miniprogram", summary="Mini-program customer-service messages (XML or JSON)")
async def mp_receive(request: Request) -> Response:
    """``success`` (answer by customer-service API) or ``transfer_customer_service``."""
    started = time.monotonic()
    rt = get_runtime(request)
    body = await read_body(request)
    inb = rt.open_envelope("miniprogram", dict(request.query_params), body)
    transfer = bool(getattr(rt.settings, "wechat_miniprogram_transfer", False))
    budget = rt.settings.wechat_reply_budget_s - (time.monotonic() - started)
    kind, _answer = await rt.handle(inb, budget, passive_ok=False, want_transfer=transfer)
    if kind == "transfer":
        return rt.reply_body(inb, {"MsgType": "transfer_customer_service"})
    return PlainTextResponse("success")
