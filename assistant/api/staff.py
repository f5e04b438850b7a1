"""The older staff API for automation: list/read handoff tickets, reply into the citizen's chat, close.

Kept for scripts that hold the service credential (``Authorization: Bearer <JXE_STAFF_TOKEN>``); a helper's
login works too. The workbench (``assistant/api/workbench.py``, ``/api/v1/tickets``) is the full API; both
deliver replies the same way (:func:`~assistant.api.workbench.deliver_reply`) and audit every read and change.
Transcripts are masked (ID/phone numbers, addresses).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_staff
from assistant.api.workbench import audit, deliver_reply
from assistant.container import Services
from assistant.db.conversations import StaffMessage, TicketNotFound, TicketView
from assistant.logging import get_logger
from assistant.staff.identity import StaffUser

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
def get_ticket(ticket_id: int, user: StaffUser = Depends(require_staff),
               services: Services = Depends(get_services)) -> TicketView:
    """One ticket with its masked transcript (audited ``ticket.view``)."""
    t = services.handoffs.get(ticket_id)
    if t is None:
        raise _not_found(ticket_id)
    audit(services, user, "ticket.view", ticket_id)
    return t


@router.post("/{ticket_id}/reply", response_model=ReplyResponse)
async def reply(ticket_id: int, body: ReplyRequest, user: StaffUser = Depends(require_staff),
                services: Services = Depends(get_services)) -> ReplyResponse:
    """Deliver a staff message into the citizen's conversation (and Rasa's tracker when Rasa is up)."""
    msg, ticket, updated = await deliver_reply(services, ticket_id, body.text, body.staff_name)
    await run_in_threadpool(audit, services, user, "ticket.reply", ticket_id, chars=len(body.text))
    return ReplyResponse(message=msg, ticket=ticket, rasa_tracker_updated=updated)


@router.post("/{ticket_id}/close", response_model=TicketView)
def close(ticket_id: int, user: StaffUser = Depends(require_staff),
          services: Services = Depends(get_services)) -> TicketView:
    """Close a ticket (idempotent)."""
    try:
        t = services.handoffs.close(ticket_id)
    except TicketNotFound:
        raise _not_found(ticket_id) from None
    audit(services, user, "ticket.close", ticket_id)
    return t
