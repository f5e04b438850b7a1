"""Staff endpoints (金帮办专员): list/read handoff tickets, reply into the citizen's chat, close.

All require ``Authorization: Bearer <JXE_STAFF_TOKEN>``; without a configured token they answer 403.
Transcripts are masked (ID/phone numbers, addresses).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_staff
from assistant.container import Services
from assistant.db.conversations import StaffMessage, TicketClosed, TicketNotFound, TicketView
from assistant.logging import get_logger, log_event
from assistant.privacy import mask_pii

log = get_logger(__name__)
router = APIRouter(prefix="/api/v1/handoffs", tags=["staff"], dependencies=[Depends(require_staff)])


class TicketList(BaseModel):
    """A page of tickets."""

    tickets: list[TicketView]
    total: int


class ReplyRequest(BaseModel):
    """A staff member's message for the citizen."""

    text: str = Field(min_length=1, max_length=2000, description="the message the citizen will see")
    staff_name: str = Field(default="金帮办专员", min_length=1, max_length=64)

    @field_validator("text", "staff_name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be blank")
        return v


class ReplyResponse(BaseModel):
    """The delivered message and the ticket after it."""

    message: StaffMessage
    ticket: TicketView
    rasa_tracker_updated: bool


def _not_found(ticket_id: int) -> ApiError:
    return ApiError(404, "not_found", f"没有编号为 {ticket_id} 的工单。/ no ticket {ticket_id}")


@router.get("", response_model=TicketList)
def list_tickets(status: Literal["open", "answered", "closed"] | None = None,
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                 services: Services = Depends(get_services)) -> TicketList:
    """Tickets, newest first (optionally only one status)."""
    return TicketList(tickets=services.handoffs.list(status=status, limit=limit, offset=offset),
                      total=services.handoffs.count(status))


@router.get("/{ticket_id}", response_model=TicketView)
def get_ticket(ticket_id: int, services: Services = Depends(get_services)) -> TicketView:
    """One ticket with its masked transcript."""
    t = services.handoffs.get(ticket_id)
    if t is None:
        raise _not_found(ticket_id)
    return t


@router.post("/{ticket_id}/reply", response_model=ReplyResponse)
async def reply(ticket_id: int, body: ReplyRequest, services: Services = Depends(get_services)) -> ReplyResponse:
    """Deliver a staff message into the citizen's conversation (and Rasa's tracker when Rasa is up)."""
    try:
        msg = await run_in_threadpool(services.handoffs.reply, ticket_id, body.text, body.staff_name)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    except TicketClosed:
        raise ApiError(409, "ticket_closed", f"工单 {ticket_id} 已关闭，不能再回复。/ ticket is closed") from None
    ticket = await run_in_threadpool(services.handoffs.get, ticket_id)
    updated = services.rasa is not None and await services.rasa.append_bot_event(
        ticket.session_id, mask_pii(body.text), {"staff_name": body.staff_name, "source": "staff"})
    log_event(log, "handoff.tracker.appended" if updated else "handoff.tracker.append_failed", ticket=ticket_id)
    # the web page polls /messages; a channel that pushes (WeChat's customer-service API) gets it from the outbox
    services.outbox.schedule(ticket.channel, ticket.session_id,
                             [{"type": "staff", "text": msg.text, "staff_name": msg.staff_name}])
    return ReplyResponse(message=msg, ticket=ticket, rasa_tracker_updated=updated)


@router.post("/{ticket_id}/close", response_model=TicketView)
def close(ticket_id: int, services: Services = Depends(get_services)) -> TicketView:
    """Close a ticket (idempotent)."""
    try:
        return services.handoffs.close(ticket_id)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
