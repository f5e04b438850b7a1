"""Staff API of the pre-service feature (Bearer ``JXE_STAFF_TOKEN``, like the other staff endpoints).

- ``GET  /api/v1/reminders?session_id=…`` — a conversation's licences, their sent and scheduled reminders;
- ``GET  /api/v1/reminders/pending`` — reminders staff must follow up (no channel could deliver them);
- ``POST /api/v1/reminders/run`` — run the reminder scheduler now (normally hourly);
- ``GET  /api/v1/bookings/{number}`` / ``PATCH`` — a home-visit booking (status, day, half-day, note);
- ``GET  /api/v1/street-queue/{street}`` — a street's open bookings and new firms;
- ``PATCH /api/v1/new-firms/{id}`` — a new firm's queue status / note;
- ``POST /api/v1/uploads/licences`` and ``/api/v1/uploads/new-firms`` — CSV/xlsx imports with a per-row report.
  The staff token is checked before a byte of the upload is read (the routes parse the multipart body themselves,
  after the router's dependency; a ``File()`` parameter would make FastAPI read and spool the body first).

The router's lifespan starts the reminder scheduler when the app starts (a catch-up run first) and stops it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ApiError, get_services, require_staff
from assistant.container import Services
from assistant.db import audit
from assistant.logging import get_logger, log_event
from assistant.preservice.desk import Desk, OutOfScope, scope_of
from assistant.preservice.runtime import get_preservice
from assistant.preservice.store import BookingView, FirmView, LicenceView, NotFound, ReminderView
from assistant.preservice.uploads import import_firms, import_licences
from assistant.preservice.validation import InvalidValue, parse_half_day
from assistant.staff.identity import StaffUser
from assistant.tables import UploadError

log = get_logger(__name__)


@asynccontextmanager
async def lifespan(app: Any):
    """Start the reminder scheduler (catch-up run once the KB is loaded), stop it on shutdown."""
    services = app.state.services
    pre = None
    try:
        pre = get_preservice(services)
        if services.preservice_scheduler:
            def ready() -> bool:
                pre.sync_kb()
                return services.status.get("db") == "ready" and services.kb is not None
            pre.scheduler.start(ready=ready)
    except Exception:  # the rest of the app must still start
        log.exception("preservice.scheduler.start_failed")
    try:
        yield
    finally:
        if pre is not None:
            await pre.scheduler.stop()


router = APIRouter(tags=["preservice"], dependencies=[Depends(require_staff)], lifespan=lifespan)

SESSION_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"


def _street_scope(user: StaffUser, services: Services) -> str | None:
    """The street a helper may see (``None``: every street); see :func:`assistant.preservice.desk.scope_of`."""
    try:
        return scope_of(user.level, user.place, get_preservice(services).streets)
    except OutOfScope:
        raise ApiError(403, "no_street", "您的账号没有对应的街道。/ your account is not attached to a known street") \
            from None


def _other_street() -> ApiError:
    return ApiError(403, "other_street", "这是其他街道的事项，您无权查看或处理。/ this belongs to another street")


async def _audit(services: Services, user: StaffUser, action: str, target: str, detail: dict | None = None) -> None:
    await run_in_threadpool(audit.record, services.db, user.username, action, target, detail)


class LicenceWithSchedule(LicenceView):
    """A licence with its reminders: recorded ones and those still scheduled."""

    scheduled: list[ReminderView] = []


class RemindersResponse(BaseModel):
    session_id: str
    offsets_days: list[int]
    licences: list[LicenceWithSchedule]


@router.get("/api/v1/reminders", response_model=RemindersResponse)
async def reminders(session_id: str = Query(..., pattern=SESSION_PATTERN),
                    services: Services = Depends(get_services)) -> RemindersResponse:
    """The conversation's licences with the reminders already recorded and the ones still to come."""
    pre = get_preservice(services)
    today = pre.today()
    lics = await run_in_threadpool(pre.licences.list_for_session, session_id)
    out = []
    for lic in lics:
        done = {r.offset_days for r in lic.reminders}
        sched = [ReminderView(offset_days=o, due_date=lic.expiry_date - timedelta(days=o), status="scheduled",
                              channel=lic.channel)
                 for o in pre.scheduler.offsets if o not in done and lic.expiry_date - timedelta(days=o) > today]
        out.append(LicenceWithSchedule(**lic.model_dump(), scheduled=sched))
    return RemindersResponse(session_id=session_id, offsets_days=pre.scheduler.offsets, licences=out)


@router.get("/api/v1/reminders/pending")
async def pending_reminders(user: StaffUser = Depends(require_staff),
                            services: Services = Depends(get_services)) -> dict[str, Any]:
    """Reminders waiting for staff (no channel could deliver them, or they keep failing), with the contact in
    full — the district's phone follow-up list (district staff only; audited)."""
    if user.level != "district":
        raise ApiError(403, "district_only", "电话跟进名单由区级工作人员处理。/ district staff only")
    items = await run_in_threadpool(get_preservice(services).licences.pending_reminders)
    await _audit(services, user, "reminders.pending.view", "reminders", {"count": len(items)})
    return {"count": len(items), "items": items}


@router.post("/api/v1/reminders/run")
async def run_reminders(services: Services = Depends(get_services)) -> dict[str, Any]:
    """Run the scheduler now; returns the counts of this run."""
    report = await get_preservice(services).scheduler.run_once()
    return report.as_dict()


def _booking_404(number: str) -> ApiError:
    return ApiError(404, "booking_not_found", f"没有预约号为 {number} 的上门服务预约。/ no booking {number}")


@router.get("/api/v1/bookings/{number}", response_model=BookingView)
async def get_booking(number: str, user: StaffUser = Depends(require_staff),
                      services: Services = Depends(get_services)) -> BookingView:
    """A booking with the phone and address in full (staff who visit need them); only its street's staff and the
    district; audited."""
    b = await run_in_threadpool(get_preservice(services).bookings.get, number, True, any_session=True)
    if b is None:
        raise _booking_404(number)
    scope = _street_scope(user, services)
    if scope is not None and b.street != scope:
        raise _other_street()
    await _audit(services, user, "booking.view", f"booking:{b.number}")
    return b


class BookingPatch(BaseModel):
    """Changes to a booking (every field optional)."""

    status: Literal["booked", "confirmed", "done", "cancelled"] | None = None
    visit_date: date | None = None
    half_day: Literal["上午", "下午"] | None = None
    #: Or a phrase: ``下周二下午``.
    when: str | None = Field(default=None, max_length=40)
    staff_note: str | None = Field(default=None, max_length=2000)


@router.patch("/api/v1/bookings/{number}", response_model=BookingView)
async def patch_booking(number: str, body: BookingPatch, user: StaffUser = Depends(require_staff),
                        services: Services = Depends(get_services)) -> BookingView:
    """Confirm, reschedule, complete or cancel a booking (its street's staff and the district; audited)."""
    pre = get_preservice(services)
    current = await run_in_threadpool(pre.bookings.get, number, any_session=True)
    if current is None:
        raise _booking_404(number)
    scope = _street_scope(user, services)
    if scope is not None and current.street != scope:
        raise _other_street()
    visit_date, half_day = body.visit_date, body.half_day
    if body.when:
        try:
            visit_date, half_day = parse_half_day(body.when, pre.today())
        except InvalidValue as exc:
            raise ApiError(422, "invalid_when", f"{exc} / invalid 'when'") from None
    elif visit_date is not None and visit_date <= pre.today():
        raise ApiError(422, "invalid_visit_date", "上门日期必须在今天之后。/ visit_date must be in the future")
    try:
        view = await run_in_threadpool(lambda: pre.bookings.update(
            number, status=body.status, visit_date=visit_date, half_day=half_day, staff_note=body.staff_note,
            unmasked=True, any_session=True))
    except NotFound:
        raise _booking_404(number) from None
    except ValueError as exc:
        raise ApiError(409, "booking_locked", f"这个预约不能再修改：{exc} / {exc}") from None
    log_event(log, "preservice.booking.patched", booking=view.number, status=view.status)
    await _audit(services, user, "booking.update", f"booking:{view.number}",
                 {k: str(v) for k, v in body.model_dump(exclude_none=True).items() if k != "staff_note"})
    return view


class StreetQueue(BaseModel):
    street: str
    service_centre: str
    bookings: list[BookingView]
    firms: list[FirmView]


@router.get("/api/v1/street-queue/{street}", response_model=StreetQueue)
async def street_queue(street: str, include_closed: bool = False, user: StaffUser = Depends(require_staff),
                       services: Services = Depends(get_services)) -> StreetQueue:
    """A street's open home-visit bookings and new firms (``营门口`` or ``营门口街道``); only that street's staff
    and the district; audited."""
    pre = get_preservice(services)
    st = pre.streets.get(street)
    if st is None:
        raise ApiError(404, "unknown_street", f"金牛区没有「{street}」这个街道。可选：{'、'.join(pre.streets.names)}"
                                              f" / unknown street")
    scope = _street_scope(user, services)
    if scope is not None and st.name != scope:
        raise _other_street()
    await _audit(services, user, "street_queue.view", f"street:{st.name}")
    bookings = await run_in_threadpool(pre.bookings.street_queue, st.name, include_closed)
    firms = await run_in_threadpool(pre.firms.street_queue, st.name, include_closed)
    return StreetQueue(street=st.name, service_centre=st.service_centre, bookings=bookings, firms=firms)


class FirmPatch(BaseModel):
    queue_status: Literal["open", "contacted", "done"] | None = None
    staff_note: str | None = Field(default=None, max_length=2000)


@router.patch("/api/v1/new-firms/{firm_id}", response_model=FirmView)
async def patch_firm(firm_id: int, body: FirmPatch, user: StaffUser = Depends(require_staff),
                     services: Services = Depends(get_services)) -> FirmView:
    """Mark a new firm contacted / done, or add a note (its street's staff and the district; audited)."""
    pre = get_preservice(services)
    try:
        street = await run_in_threadpool(Desk(services.db).firm_street, firm_id)
        scope = _street_scope(user, services)
        if scope is not None and street != scope:
            raise _other_street()
        view = await run_in_threadpool(lambda: pre.firms.update(firm_id, queue_status=body.queue_status,
                                                                staff_note=body.staff_note))
    except NotFound:
        raise ApiError(404, "firm_not_found", f"没有编号为 {firm_id} 的新设企业。/ no firm {firm_id}") from None
    await _audit(services, user, "firm.update", f"firm:{firm_id}", {"queue_status": body.queue_status})
    return view


#: The OpenAPI description of an upload body (the routes read it themselves, see the module docstring).
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "a .csv or .xlsx file"}}}}}}}


async def _read_upload(request: Request) -> tuple[str, bytes]:
    """The uploaded file (form field ``file``) as ``(filename, bytes)``, read only now — after the staff token
    was checked by the router's dependency."""
    from assistant.tables import MAX_BYTES

    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:  # noqa: BLE001 - not multipart, or a broken one (starlette's MultiPartException …)
        raise ApiError(400, "bad_upload", "请用 multipart/form-data 上传一个文件（字段名 file）。"
                                          "/ upload one file as multipart/form-data field 'file'") from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ApiError(422, "invalid_request", "缺少字段 file。/ field 'file' is required")
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApiError(413, "file_too_large", f"文件太大（上限 {MAX_BYTES // 1024 // 1024} MB）。/ file too large")
    return file.filename or "", data


@router.post("/api/v1/uploads/licences", openapi_extra=_UPLOAD_BODY)
async def upload_licences(request: Request, session_id: str | None = Query(None, pattern=SESSION_PATTERN),
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """Import licences from a CSV/xlsx (columns 证照类型, 证照编号, 持证人, 有效期至; optional 提醒渠道, 联系电话,
    会话). Good rows are kept; the answer lists failed and duplicate rows with reasons."""
    pre = get_preservice(services)
    filename, data = await _read_upload(request)
    try:
        report = await run_in_threadpool(import_licences, filename, data, pre, pre.today(), session_id)
    except UploadError as exc:
        raise ApiError(400, "bad_upload", str(exc)) from None
    return report.as_dict()


@router.post("/api/v1/uploads/new-firms", openapi_extra=_UPLOAD_BODY)
async def upload_firms(request: Request, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Import newly registered firms from a CSV/xlsx (企业名称, 统一社会信用代码, 住所, 行业, 成立日期; optional
    会话): each is matched to its street and queued there; failed/duplicate rows are reported."""
    pre = get_preservice(services)
    filename, data = await _read_upload(request)
    try:
        report = await import_firms(filename, data, pre, pre.today())
    except UploadError as exc:
        raise ApiError(400, "bad_upload", str(exc)) from None
    return report.as_dict()
