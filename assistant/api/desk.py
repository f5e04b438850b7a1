"""The pre-service desk (预服务工作台) of street staff: ``/staff/desk`` (page) and its API.

- ``GET  /api/v1/desk[?street=…&include_closed=true]`` — the helper's street: home-visit bookings, licences due,
  new firms (a district helper picks a street or sees all);
- ``POST /api/v1/desk/bookings/{number}/confirm`` · ``/reschedule`` ``{"visit_date","half_day"}`` or
  ``{"when": "下周二下午"}`` · ``/done`` — a booking's life;
- ``GET  /api/v1/desk/bookings/{number}/contact`` — name, phone and address in full, for the visit;
- ``POST /api/v1/desk/firms/{id}/acknowledge`` — 吹哨报到: the street acknowledges a new firm;
- ``POST /api/v1/desk/escalation/run`` (admin) — run the escalation check now (it also runs every
  ``JXE_FIRM_ESCALATION_INTERVAL_S`` in the leader process).

A street helper acting on another street's booking or firm gets 403; every view and change of citizen data is
written to the audit log.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_admin, require_staff, staff_page
from assistant.container import Services
from assistant.db import audit
from assistant.logging import get_logger
from assistant.preservice.desk import Desk, EscalationCheck, OutOfScope, scope_of
from assistant.preservice.numbers import normalize_booking_number
from assistant.preservice.runtime import get_preservice
from assistant.preservice.store import NotFound
from assistant.preservice.validation import InvalidValue, parse_half_day
from assistant.staff.identity import StaffUser

log = get_logger(__name__)


def get_desk(services: Services) -> Desk:
    """The app's desk (one per app, on ``services``)."""
    if services.desk is None:
        services.desk = Desk(services.db, services.settings.firm_ack_hours)
    return services.desk


def get_escalation(services: Services) -> EscalationCheck:
    """The app's escalation check (clock = the pre-service clock, so tests can move time)."""
    if services.escalation is None:
        pre = get_preservice(services)
        services.escalation = EscalationCheck(get_desk(services), lambda: pre.clock(),
                                              services.settings.firm_escalation_interval_s)
    return services.escalation


@asynccontextmanager
async def lifespan(app: Any):
    """Run the escalation check in the background (the leader process escalates; the others wait)."""
    services = app.state.services
    check = None
    try:
        if services.preservice_scheduler:
            check = get_escalation(services)
            check.start()
    except Exception:  # the rest of the app must still start
        log.exception("desk.escalation.start_failed")
    try:
        yield
    finally:
        if check is not None:
            await check.stop()


router = APIRouter(tags=["desk"], lifespan=lifespan)


def _scope(user: StaffUser, services: Services) -> str | None:
    try:
        return scope_of(user.level, user.place, get_preservice(services).streets)
    except OutOfScope:
        raise ApiError(403, "no_street", f"您的账号没有对应的街道（{user.place or '未设置'}）。"
                                         "/ your account is not attached to a known street") from None


def _forbidden() -> ApiError:
    return ApiError(403, "other_street", "这是其他街道的事项，您无权查看或处理。/ this belongs to another street")


@router.get("/staff/desk", include_in_schema=False)
async def desk_page(request: Request) -> Response:
    """The desk page."""
    return staff_page(request, "desk.html")


@router.get("/api/v1/desk")
async def desk_view(street: str | None = Query(None, max_length=32), include_closed: bool = False,
                    user: StaffUser = Depends(require_staff), services: Services = Depends(get_services)) -> dict:
    """The helper's desk: bookings (masked), licences due, new firms with their acknowledgement deadline."""
    pre = get_preservice(services)
    scope = _scope(user, services)
    if street:
        st = pre.streets.get(street)
        if st is None:
            raise ApiError(404, "unknown_street", f"金牛区没有「{street}」这个街道。/ unknown street")
        if scope is not None and st.name != scope:
            raise _forbidden()
        scope = st.name
    desk = get_desk(services)
    now = pre.clock()
    bookings = await run_in_threadpool(desk.bookings, scope, include_closed)
    licences = await run_in_threadpool(desk.licences_due, scope, pre.today())
    firms = await run_in_threadpool(desk.firms, scope, now, include_closed)
    await run_in_threadpool(audit.record, services.db, user.username, "desk.view", f"street:{scope or '*'}",
                            {"bookings": len(bookings), "licences": len(licences), "firms": len(firms)})
    return {"street": scope, "user": {"username": user.username, "level": user.level, "place": user.place},
            "streets": pre.streets.names if _scope(user, services) is None else [scope],
            "today": pre.today().isoformat(), "ack_hours": desk.ack_hours,
            "bookings": bookings, "licences": licences, "firms": firms}


def _booking_scope(number: str, user: StaffUser, services: Services) -> Desk:
    desk = get_desk(services)
    try:
        desk.check_booking(number, _scope(user, services))
    except NotFound:
        raise ApiError(404, "booking_not_found", f"没有预约号为 {number} 的上门服务预约。/ no booking {number}") from None
    except OutOfScope:
        raise _forbidden() from None
    return desk


async def _update_booking(number: str, action: str, user: StaffUser, services: Services, **changes: Any) -> dict:
    desk = await run_in_threadpool(_booking_scope, number, user, services)
    pre = get_preservice(services)
    try:
        await run_in_threadpool(lambda: pre.bookings.update(number, any_session=True, **changes))
    except ValueError as exc:
        raise ApiError(409, "booking_locked", f"这个预约不能再修改：{exc} / {exc}") from None
    await run_in_threadpool(audit.record, services.db, user.username, f"booking.{action}", f"booking:{normalize_booking_number(number) or number}",
                            {k: str(v) for k, v in changes.items() if k != "staff_note"})
    rows = await run_in_threadpool(desk.bookings, None, True)
    return next(b for b in rows if b["number"] == number.strip().upper())


class Note(BaseModel):
    staff_note: str | None = Field(default=None, max_length=2000)


@router.post("/api/v1/desk/bookings/{number}/confirm")
async def confirm_booking(number: str, body: Note | None = None, user: StaffUser = Depends(require_staff),
                          services: Services = Depends(get_services)) -> dict:
    """Confirm a booking (the visit will happen as booked)."""
    return await _update_booking(number, "confirm", user, services, status="confirmed",
                                 staff_note=body.staff_note if body else None)


@router.post("/api/v1/desk/bookings/{number}/done")
async def booking_done(number: str, body: Note | None = None, user: StaffUser = Depends(require_staff),
                       services: Services = Depends(get_services)) -> dict:
    """Mark a booking done (the visit took place)."""
    return await _update_booking(number, "done", user, services, status="done",
                                 staff_note=body.staff_note if body else None)


class Reschedule(BaseModel):
    visit_date: date | None = None
    half_day: Literal["上午", "下午"] | None = None
    #: Or a phrase: ``下周二下午``.
    when: str | None = Field(default=None, max_length=40)
    staff_note: str | None = Field(default=None, max_length=2000)


@router.post("/api/v1/desk/bookings/{number}/reschedule")
async def reschedule_booking(number: str, body: Reschedule, user: StaffUser = Depends(require_staff),
                             services: Services = Depends(get_services)) -> dict:
    """Move a booking to another day / half-day (a working day after today)."""
    pre = get_preservice(services)
    visit_date, half_day = body.visit_date, body.half_day
    if body.when:
        try:
            visit_date, half_day = parse_half_day(body.when, pre.today())
        except InvalidValue as exc:
            raise ApiError(422, "invalid_when", f"{exc} / invalid 'when'") from None
    if visit_date is None or half_day is None:
        raise ApiError(422, "invalid_visit", "请给出新的日期和上午/下午。/ visit_date and half_day (or when) are required")
    if visit_date <= pre.today():
        raise ApiError(422, "invalid_visit_date", "上门日期必须在今天之后。/ visit_date must be in the future")
    return await _update_booking(number, "reschedule", user, services, visit_date=visit_date, half_day=half_day,
                                 staff_note=body.staff_note)


@router.get("/api/v1/desk/bookings/{number}/contact")
async def booking_contact(number: str, user: StaffUser = Depends(require_staff),
                          services: Services = Depends(get_services)) -> dict:
    """The booking with name, phone and address in full — for the helper who visits; audited."""
    desk = await run_in_threadpool(_booking_scope, number, user, services)
    view = await run_in_threadpool(desk.contact, number)
    await run_in_threadpool(audit.record, services.db, user.username, "booking.contact", f"booking:{view['number']}",
                            None)
    return view


@router.post("/api/v1/desk/firms/{firm_id}/acknowledge")
async def acknowledge_firm(firm_id: int, user: StaffUser = Depends(require_staff),
                           services: Services = Depends(get_services)) -> dict:
    """吹哨报到: the street acknowledges a new firm pushed to it (before the deadline, or it is escalated)."""
    pre = get_preservice(services)
    desk = get_desk(services)
    try:
        view = await run_in_threadpool(desk.acknowledge, firm_id, user.username, _scope(user, services), pre.clock())
    except NotFound:
        raise ApiError(404, "firm_not_found", f"没有编号为 {firm_id} 的新设企业。/ no firm {firm_id}") from None
    except OutOfScope:
        raise _forbidden() from None
    await run_in_threadpool(audit.record, services.db, user.username, "firm.acknowledge", f"firm:{firm_id}", None)
    return view


@router.post("/api/v1/desk/escalation/run")
async def run_escalation(user: StaffUser = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    """Run the escalation check now (only the leader process escalates; ``leader`` says whether this one did)."""
    result = await run_in_threadpool(get_escalation(services).run_once)
    await run_in_threadpool(audit.record, services.db, user.username, "firm.escalation_run", "firms",
                            {"escalated": len(result["escalated"])})
    return result
