"""The hall-website widget: ``GET /widget.js`` (one ``<script>`` tag adds the chat bubble), a demo host page at
``/widget/demo``, the 👍/👎 feedback API ``POST /api/v1/feedback``, and the CORS policy for host pages.

Host pages embed::

    <script src="https://<app>/widget.js" data-api="https://<app>" data-title="金小二 · 金牛政务"></script>

The widget calls ``POST /api/v1/chat``, polls ``GET /api/v1/chat/{session}/messages`` for staff replies after
a handoff, and posts feedback here, each time with the conversation's session token (``X-Session-Token``; it
keeps the token next to the session id in the host page's ``localStorage``). Cross-origin calls are allowed only
from ``settings.cors_origins`` (:func:`install_cors`, called by ``create_app``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from assistant.api.citizen import TOKEN_HEADER, check_session, presented_token
from assistant.api.deps import get_services
from assistant.security import KIOSK_KEY_HEADER
from assistant.container import Services
from assistant.db.feedback import Feedback
from assistant.logging import get_logger, log_event
from assistant.privacy import mask_pii
from assistant.teach.collect import note_thumbs_down

log = get_logger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["widget"])


def install_cors(app: FastAPI, settings) -> None:
    """Allow the widget's cross-origin API calls from ``settings.cors_origins`` only.

    Args:
        app: the FastAPI app.
        settings: the app settings; with an empty ``cors_origins`` nothing is added (same origin only).
    """
    origins = [o.rstrip("/") for o in (settings.cors_origins or []) if o]
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Content-Type", "Authorization", TOKEN_HEADER, KIOSK_KEY_HEADER], max_age=600)


class FeedbackRequest(BaseModel):
    """A 👍/👎 on one answer."""

    model_config = ConfigDict(extra="ignore")
    session_id: str = Field(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$", description="the conversation id")
    message_ref: str = Field(min_length=1, max_length=64,
                             description="which answer: the bot message id from ChatResponse.message_id or a "
                                         "client turn number")
    rating: Literal["up", "down"]
    answer_text: str = Field(default="", max_length=4000, description="the rated answer's text (stored masked)")
    matter_code: str | None = Field(default=None, max_length=64)
    comment: str = Field(default="", max_length=1000)
    channel: Literal["widget", "web", "miniprogram", "kiosk"] = "widget"
    session_token: str | None = Field(default=None, max_length=128,
                                      description="the conversation's session token (or the X-Session-Token header)")


class FeedbackResponse(BaseModel):
    """The stored rating."""

    id: int
    rating: str


def _store(services: Services, body: FeedbackRequest) -> int:
    with services.db.session() as s:
        row = s.scalars(select(Feedback).where(Feedback.session_id == body.session_id,
                                               Feedback.message_ref == body.message_ref)).first()
        if row is None:  # one rating per answer; changing 👍 → 👎 updates it
            row = Feedback(session_id=body.session_id, message_ref=body.message_ref)
            s.add(row)
        row.rating, row.channel = body.rating, body.channel
        if body.answer_text or row.answer_text is None:
            row.answer_text = mask_pii(body.answer_text)
        row.matter_code = body.matter_code or row.matter_code
        if body.comment or row.comment is None:
            row.comment = mask_pii(body.comment)
        s.flush()
        return row.id


@router.post("/api/v1/feedback", response_model=FeedbackResponse, status_code=201)
async def feedback(body: FeedbackRequest, request: Request,
                   services: Services = Depends(get_services)) -> FeedbackResponse:
    """Store a rating of one answer (a second rating of the same answer replaces the first). The conversation's
    session token is required (401/403); over the client's daily cap of ratings: 429."""
    await check_session(services, body.session_id, presented_token(request.headers, body.session_token))
    if services.limiter is not None:
        await services.limiter.check_daily(request, "feedback")
    fid = await run_in_threadpool(_store, services, body)
    if body.rating == "down":  # the triage inbox: the question whose answer did not help
        await run_in_threadpool(note_thumbs_down, services, body.session_id, body.message_ref, body.channel,
                                body.matter_code)
    log_event(log, "feedback.recorded", session=body.session_id, rating=body.rating, channel=body.channel,
              matter=body.matter_code)
    return FeedbackResponse(id=fid, rating=body.rating)


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    """The widget script (one tag on the host page)."""
    return FileResponse(STATIC_DIR / "widget.js", media_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/widget/demo", include_in_schema=False)
def widget_demo() -> FileResponse:
    """A plain host page with the one widget tag (for operators to try the widget)."""
    return FileResponse(STATIC_DIR / "widget-demo.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})
