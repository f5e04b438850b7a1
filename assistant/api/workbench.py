"""The 金帮办 live queue: the ``/staff`` page and its API.

* ``GET /api/v1/tickets`` — the queue (the helper's level and place first, waiting time, late flag);
  ``GET /api/v1/tickets/stream`` — Server-Sent Events: one ``ticket`` event per change, from every replica
  (:mod:`assistant.staff.events`); the open page also counts as the helper being online.
* ``GET /api/v1/tickets/{id}`` — masked transcript, matter card, material pre-check, notes, call-backs (audited
  ``ticket.view``); ``POST …/claim``, ``…/reply``, ``…/transfer``, ``…/notes``, ``…/close``, ``PUT …/labels``,
  ``POST …/callbacks/{cid}/reveal`` — each audited.
* ``GET /api/v1/canned`` (everyone), ``POST/PUT/DELETE /api/v1/canned…`` (admins): canned replies.
* ``POST /api/v1/staff/heartbeat``, ``GET /api/v1/staff/online``, ``GET /api/v1/staff/places``.

Every route needs :func:`~assistant.api.deps.require_staff` (cookie + CSRF, login Bearer token or the service
credential). The older ``/api/v1/handoffs`` API (``assistant/api/staff.py``) shares :func:`deliver_reply`.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_admin, require_staff, staff_page
from assistant.container import Services
from assistant.db.audit import record
from assistant.db.conversations import StaffMessage, TicketView
from assistant.dialogue.replies import say
from assistant.logging import get_logger, log_event
from assistant.privacy import mask_pii
from assistant.staff import routing
from assistant.staff.identity import LEVELS, StaffUser
from assistant.staff.workbench import QueueItem, TicketClosed, TicketConflict, TicketNotFound

log = get_logger(__name__)
router = APIRouter(tags=["staff workbench"])
api = APIRouter(tags=["staff workbench"], dependencies=[Depends(require_staff)])

#: A stream ends after this long (the browser reconnects at once); keeps replicas' connections fresh.
STREAM_MAX_S = 300.0
#: The stream sends a keep-alive comment (and refreshes the helper's presence) this often.
STREAM_PING_S = 15.0


def _not_found(ticket_id: Any) -> ApiError:
    return ApiError(404, "not_found", f"没有编号为 {ticket_id} 的工单。/ no ticket {ticket_id}")


def _closed(ticket_id: Any) -> ApiError:
    return ApiError(409, "ticket_closed", f"工单 {ticket_id} 已关闭。/ ticket {ticket_id} is closed")


class _Body(BaseModel):
    """A request body whose text fields must not be blank (they are stripped)."""

    @field_validator("text", "summary", "title", mode="after", check_fields=False)
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be blank")
        return v


async def deliver_reply(services: Services, ticket_id: int, text: str, staff_name: str) -> tuple[StaffMessage,
                                                                                               TicketView, bool]:
    """Deliver a helper's message to the citizen: into the conversation (web, widget, kiosk, mini-program read
    it from there), into Rasa's tracker when Rasa is up, and through the outbox to channels that push (WeChat's
    customer-service API).

    Returns:
        ``(message, ticket, rasa_tracker_updated)``.

    Raises:
        ApiError: 404 unknown ticket, 409 closed ticket.
    """
    try:
        msg = await run_in_threadpool(services.handoffs.reply, ticket_id, text, staff_name)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    except TicketClosed:
        raise ApiError(409, "ticket_closed", f"工单 {ticket_id} 已关闭，不能再回复。/ ticket is closed") from None
    ticket = await run_in_threadpool(services.handoffs.get, ticket_id)
    updated = services.rasa is not None and await services.rasa.append_bot_event(
        ticket.session_id, mask_pii(text), {"staff_name": staff_name, "source": "staff"})
    log_event(log, "handoff.tracker.appended" if updated else "handoff.tracker.append_failed", ticket=ticket_id)
    services.outbox.schedule(ticket.channel, ticket.session_id,
                             [{"type": "staff", "text": msg.text, "staff_name": msg.staff_name}])
    return msg, ticket, bool(updated)


def audit(services: Services, user: StaffUser, action: str, ticket_id: int, **detail: Any) -> None:
    """One audit entry for a ticket action (``ticket.view``, ``ticket.reply`` …)."""
    record(services.db, user.username, action, f"ticket:{ticket_id}", detail or None)


# --- the page ------------------------------------------------------------------------------------------------------

@router.get("/staff", include_in_schema=False)
def queue_page(request: Request) -> Response:
    """The live queue (anonymous visitors go to /staff/login)."""
    return staff_page(request, "index.html")


# --- models --------------------------------------------------------------------------------------------------------

class QueueResponse(BaseModel):
    """The queue."""

    tickets: list[QueueItem]
    warn_after_s: int
    online: list[dict[str, Any]]
    user: dict[str, Any]


class ClaimRequest(BaseModel):
    force: bool = Field(default=False, description="take the ticket over from another helper")


class ReplyRequest(_Body):
    text: str = Field(min_length=1, max_length=2000)
    staff_name: str | None = Field(default=None, max_length=64, description="the name the citizen sees")


class TransferRequest(BaseModel):
    level: Literal["district", "street", "community"]
    place: str | None = Field(default=None, max_length=64)


class NoteRequest(_Body):
    text: str = Field(min_length=1, max_length=2000)


class LabelsRequest(BaseModel):
    labels: list[str] = Field(default_factory=list, max_length=10)


class CloseRequest(_Body):
    summary: str = Field(min_length=1, max_length=2000, description="what was done (the dashboard reads it)")


class CannedRequest(_Body):
    title: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


# --- the queue -----------------------------------------------------------------------------------------------------

@api.get("/api/v1/tickets", response_model=QueueResponse)
def list_queue(request: Request, closed: bool = Query(False, description="also today's closed tickets"),
               user: StaffUser = Depends(require_staff), services: Services = Depends(get_services)) -> QueueResponse:
    """The queue of the helper: not-closed tickets, their level and place first, then the oldest waiting."""
    return QueueResponse(tickets=services.workbench.queue(user, include_closed=closed),
                         warn_after_s=services.settings.staff_wait_warn_s, online=services.workbench.online(),
                         user={"username": user.username, "level": user.level, "place": user.place,
                               "role": user.role})


def _sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@api.get("/api/v1/tickets/stream")
async def stream(request: Request, user: StaffUser = Depends(require_staff),
                 services: Services = Depends(get_services)) -> StreamingResponse:
    """Server-Sent Events: ``hello`` (the newest event id), then ``ticket`` ``{id, ticket_id, kind, level, place,
    at}`` for every change of any ticket, on any replica. ``Last-Event-ID`` resumes after a reconnect."""
    events, wb = services.ticket_events, services.workbench
    resume = request.headers.get("last-event-id", "")
    last = int(resume) if resume.isdigit() else await run_in_threadpool(events.last_id)
    counts = user.username != "service"

    async def gen():
        nonlocal last
        started = beat = time.monotonic()
        if counts:
            await run_in_threadpool(wb.heartbeat, user)
        yield "retry: 1000\n\n" + _sse("hello", {"last_id": last})
        async with events.subscribe() as sub:
            while not events.closed and time.monotonic() - started < STREAM_MAX_S:
                woke = await sub.wait(STREAM_PING_S)
                new = await run_in_threadpool(events.after, last)
                for e in new:
                    last = e["id"]
                    yield _sse("ticket", e, e["id"])
                if not new and not woke:
                    yield ": ping\n\n"
                if counts and time.monotonic() - beat >= STREAM_PING_S:
                    beat = time.monotonic()
                    await run_in_threadpool(wb.heartbeat, user)

    return StreamingResponse(gen(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@api.get("/api/v1/tickets/{ticket_id}")
def get_ticket(ticket_id: int, user: StaffUser = Depends(require_staff),
               services: Services = Depends(get_services)) -> dict[str, Any]:
    """One ticket: masked transcript, matter card, material pre-check, notes, call-backs (numbers masked)."""
    try:
        out = services.workbench.detail(ticket_id, services.kb)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    audit(services, user, "ticket.view", ticket_id)
    return out


@api.post("/api/v1/tickets/{ticket_id}/claim", response_model=TicketView)
def claim(ticket_id: int, body: ClaimRequest | None = None, user: StaffUser = Depends(require_staff),
          services: Services = Depends(get_services)) -> TicketView:
    """Assign the ticket to me (409 ``claimed`` when another helper has it, unless ``force``)."""
    try:
        t = services.workbench.claim(user, ticket_id, force=bool(body and body.force))
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    except TicketClosed:
        raise _closed(ticket_id) from None
    except TicketConflict as exc:
        raise ApiError(409, "claimed", f"工单已由 {exc.claimed_by} 接手。/ ticket is claimed by {exc.claimed_by}") \
            from None
    audit(services, user, "ticket.claim", ticket_id, force=bool(body and body.force))
    return t


@api.post("/api/v1/tickets/{ticket_id}/reply")
async def reply(ticket_id: int, body: ReplyRequest, user: StaffUser = Depends(require_staff),
                services: Services = Depends(get_services)) -> dict[str, Any]:
    """Send a message to the citizen (claims the ticket when nobody has it)."""
    try:
        await run_in_threadpool(services.workbench.claim, user, ticket_id, False)
    except TicketConflict:
        pass  # another helper holds it; replying together is allowed, the reply says who
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    except TicketClosed:
        raise _closed(ticket_id) from None
    msg, ticket, updated = await deliver_reply(services, ticket_id, body.text, body.staff_name or "金帮办专员")
    await run_in_threadpool(audit, services, user, "ticket.reply", ticket_id, chars=len(body.text))
    return {"message": msg.model_dump(mode="json"), "ticket": ticket.model_dump(mode="json"),
            "rasa_tracker_updated": updated}


@api.post("/api/v1/tickets/{ticket_id}/transfer", response_model=TicketView)
def transfer(ticket_id: int, body: TransferRequest, user: StaffUser = Depends(require_staff),
             services: Services = Depends(get_services)) -> TicketView:
    """Move the ticket up or down a level, or to another street/community; it becomes unclaimed there."""
    place = (body.place or "").strip() or None
    if place and body.level != "district" and routing.street_of(place) is None:
        raise ApiError(422, "unknown_place", f"金牛区没有「{place}」这个街道或社区。/ unknown street or community")
    try:
        t = services.workbench.transfer(user, ticket_id, body.level, place)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    except TicketClosed:
        raise _closed(ticket_id) from None
    audit(services, user, "ticket.transfer", ticket_id, level=body.level, place=place)
    return t


@api.post("/api/v1/tickets/{ticket_id}/notes")
def add_note(ticket_id: int, body: NoteRequest, user: StaffUser = Depends(require_staff),
             services: Services = Depends(get_services)) -> dict[str, Any]:
    """An internal note (the citizen never sees it)."""
    try:
        note = services.workbench.add_note(user, ticket_id, body.text)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    audit(services, user, "ticket.note", ticket_id)
    return note


@api.put("/api/v1/tickets/{ticket_id}/labels", response_model=TicketView)
def set_labels(ticket_id: int, body: LabelsRequest, user: StaffUser = Depends(require_staff),
               services: Services = Depends(get_services)) -> TicketView:
    """Replace the ticket's labels."""
    try:
        t = services.workbench.set_labels(ticket_id, body.labels)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    audit(services, user, "ticket.labels", ticket_id, labels=t.labels)
    return t


@api.post("/api/v1/tickets/{ticket_id}/close", response_model=TicketView)
async def close(ticket_id: int, body: CloseRequest, user: StaffUser = Depends(require_staff),
          services: Services = Depends(get_services)) -> TicketView:
    """Close with a summary; the citizen is then asked to rate the help (1–5)."""
    try:
        t = await run_in_threadpool(services.workbench.close, ticket_id, body.summary)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    await run_in_threadpool(audit, services, user, "ticket.close", ticket_id)
    # channels that push (WeChat) get the request to rate as a message; the web chat and widget show buttons
    services.outbox.schedule(t.channel, t.session_id, [{"type": "text", "text": say("handoff.rate_ask")}])
    return t


@api.post("/api/v1/tickets/{ticket_id}/callbacks/{callback_id}/reveal")
def reveal_callback(ticket_id: int, callback_id: int, done: bool = Query(False),
                    user: StaffUser = Depends(require_staff),
                    services: Services = Depends(get_services)) -> dict[str, Any]:
    """The full call-back number, to dial it (audited ``callback.reveal``); ``?done=true`` marks it done."""
    try:
        phone = services.workbench.reveal_callback(ticket_id, callback_id, user.username if done else None)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    audit(services, user, "callback.reveal", ticket_id, callback=callback_id, done=done)
    return {"phone": phone}


# --- presence, places, canned replies ---------------------------------------------------------------------------

@api.post("/api/v1/staff/heartbeat")
def heartbeat(user: StaffUser = Depends(require_staff), services: Services = Depends(get_services)) -> dict:
    """I am here (an open /staff page calls this; the live stream does it too)."""
    if user.username != "service":
        services.workbench.heartbeat(user)
    return {"ok": True}


@api.get("/api/v1/staff/online")
def online(services: Services = Depends(get_services)) -> dict[str, Any]:
    """Helpers online now, and whether it is office hours."""
    return {"online": services.workbench.online(),
            "in_office_hours": routing.in_office_hours(services.settings),
            "office_hours": routing.office_hours_text(services.settings)}


@api.get("/api/v1/staff/places")
def places() -> dict[str, Any]:
    """Levels, and every street with its communities (for transfers)."""
    return {"levels": [{"code": c, "name": routing.LEVEL_NAMES[c]} for c in LEVELS], "streets": routing.places()}


@api.get("/api/v1/canned")
def list_canned(services: Services = Depends(get_services)) -> dict[str, Any]:
    """The canned replies."""
    return {"canned": services.workbench.canned()}


@api.post("/api/v1/canned")
def create_canned(body: CannedRequest, user: StaffUser = Depends(require_admin),
                  services: Services = Depends(get_services)) -> dict[str, Any]:
    """Add a canned reply (admins)."""
    return services.workbench.save_canned(user, body.title, body.text)


@api.put("/api/v1/canned/{canned_id}")
def update_canned(canned_id: int, body: CannedRequest, user: StaffUser = Depends(require_admin),
                  services: Services = Depends(get_services)) -> dict[str, Any]:
    """Change a canned reply (admins)."""
    try:
        return services.workbench.save_canned(user, body.title, body.text, canned_id)
    except TicketNotFound:
        raise ApiError(404, "not_found", f"没有编号为 {canned_id} 的快捷回复。/ no canned reply {canned_id}") from None


@api.delete("/api/v1/canned/{canned_id}")
def delete_canned(canned_id: int, user: StaffUser = Depends(require_admin),
                  services: Services = Depends(get_services)) -> dict[str, Any]:
    """Remove a canned reply (admins)."""
    services.workbench.delete_canned(canned_id)
    return {"ok": True}


router.include_router(api)
__all__ = ["router", "deliver_reply", "audit"]
