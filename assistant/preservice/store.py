"""Licences, bookings and new firms in the app database (tables in ``assistant/db/preservice.py``).

Synchronous (SQLAlchemy sessions); async callers use a worker thread. Personal data is written only into the
rows that need it and every log event masks it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assistant.db.base import utcnow
from assistant.db.preservice import Booking, Licence, NewFirm, Reminder
from assistant.db.session import Database
from assistant.logging import get_logger, log_event
from assistant.preservice.numbers import new_booking_number, normalize_booking_number
from assistant.privacy import mask_pii

log = get_logger(__name__)

BOOKING_STATUSES = ("booked", "confirmed", "done", "cancelled")
HALF_DAYS = ("上午", "下午")


class DuplicateLicence(ValueError):
    """That licence (type + number) is already registered and active."""

    def __init__(self, licence_id: int):
        super().__init__(licence_id)
        self.licence_id = licence_id


class NotFound(LookupError):
    """No such row."""


class ReminderView(BaseModel):
    """A reminder as the staff API shows it."""

    offset_days: int
    due_date: date
    status: str
    channel: str
    sent_at: datetime | None = None
    detail: str = ""


class LicenceView(BaseModel):
    """A registered licence (contact masked)."""

    id: int
    session_id: str | None
    licence_type: str
    licence_name: str
    number: str
    holder: str
    expiry_date: date
    channel: str
    contact: str | None = None
    source: str
    status: str
    reminders: list[ReminderView] = []


class BookingView(BaseModel):
    """A home-visit booking. ``phone``/``address`` are masked unless the view is built for staff."""

    number: str
    session_id: str | None
    channel: str
    person_name: str
    person_note: str = ""
    phone: str
    address: str
    street: str
    matter_code: str | None
    matter_name: str
    visit_date: date
    half_day: str
    status: str
    staff_note: str = ""
    created_at: datetime
    updated_at: datetime


class FirmView(BaseModel):
    """A newly registered firm in a street's queue."""

    id: int
    name: str
    credit_code: str
    address: str
    industry: str
    registration_date: date
    street: str
    queue_status: str
    welcome_status: str
    staff_note: str = ""
    created_at: datetime


def _licence_view(lic: Licence, reminders: list[Reminder] | None = None) -> LicenceView:
    return LicenceView(
        id=lic.id, session_id=lic.session_id, licence_type=lic.licence_type, licence_name=lic.licence_name,
        number=lic.number, holder=lic.holder, expiry_date=lic.expiry_date, channel=lic.channel,
        contact=mask_pii(lic.contact) if lic.contact else None, source=lic.source, status=lic.status,
        reminders=[ReminderView(offset_days=r.offset_days, due_date=r.due_date, status=r.status, channel=r.channel,
                                sent_at=r.sent_at, detail=r.detail) for r in (reminders or [])])


def booking_view(b: Booking, unmasked: bool = False) -> BookingView:
    """A booking as a view.

    Args:
        b: the row.
        unmasked: give the phone and address in full (staff who will visit need them).
    """
    return BookingView(
        number=b.number, session_id=b.session_id, channel=b.channel, person_name=b.person_name,
        person_note=b.person_note, phone=b.phone if unmasked else mask_pii(b.phone),
        address=b.address if unmasked else mask_pii(b.address), street=b.street, matter_code=b.matter_code,
        matter_name=b.matter_name, visit_date=b.visit_date, half_day=b.half_day, status=b.status,
        staff_note=b.staff_note, created_at=b.created_at, updated_at=b.updated_at)


def _firm_view(f: NewFirm) -> FirmView:
    return FirmView(id=f.id, name=f.name, credit_code=f.credit_code, address=f.address, industry=f.industry,
                    registration_date=f.registration_date, street=f.street, queue_status=f.queue_status,
                    welcome_status=f.welcome_status, staff_note=f.staff_note, created_at=f.created_at)


class LicenceStore:
    """Registered licences.

    Args:
        db: the app database.
    """

    def __init__(self, db: Database):
        self.db = db

    def register(self, *, licence_type: str, licence_name: str, number: str, holder: str, expiry_date: date,
                 session_id: str | None = None, channel: str = "web", contact: str | None = None,
                 source: str = "chat") -> LicenceView:
        """Register a licence for reminders (a cancelled one with the same type and number is re-activated).

        Args:
            licence_type: the type key.
            licence_name: the type's display name.
            number: the normalised licence number.
            holder: 持证人 / 单位名称.
            expiry_date: 有效期至.
            session_id: the conversation that registered it (reminders go to its inbox).
            channel: ``web`` / ``wechat`` / ``none``.
            contact: a phone or openid when needed.
            source: ``chat`` / ``upload``.

        Raises:
            DuplicateLicence: an active licence with that type and number exists.
        """
        with self.db.session() as s:
            existing = s.scalars(select(Licence).where(Licence.licence_type == licence_type,
                                                       Licence.number == number)).first()
            if existing is not None and existing.status == "active":
                raise DuplicateLicence(existing.id)
            if existing is not None:
                lic = existing
                lic.status, lic.updated_at = "active", utcnow()
            else:
                lic = Licence(licence_type=licence_type, number=number)
                s.add(lic)
            lic.licence_name, lic.holder, lic.expiry_date = licence_name, holder, expiry_date
            lic.session_id, lic.channel, lic.contact, lic.source = session_id, channel, contact, source
            try:
                s.flush()
            except IntegrityError:  # a concurrent registration of the same licence
                raise DuplicateLicence(0) from None
            view = _licence_view(lic)
        log_event(log, "preservice.licence.registered", licence=view.id, type=licence_type, source=source,
                  session=session_id, expiry=expiry_date.isoformat(), channel=channel)
        return view

    def list_for_session(self, session_id: str, include_cancelled: bool = False) -> list[LicenceView]:
        """A conversation's licences with their reminders, soonest expiry first."""
        with self.db.session() as s:
            q = select(Licence).where(Licence.session_id == session_id)
            if not include_cancelled:
                q = q.where(Licence.status == "active")
            rows = s.scalars(q.order_by(Licence.expiry_date, Licence.id)).all()
            out = []
            for lic in rows:
                rems = s.scalars(select(Reminder).where(Reminder.licence_id == lic.id,
                                                        Reminder.expiry_date == lic.expiry_date)
                                 .order_by(Reminder.offset_days.desc())).all()
                out.append(_licence_view(lic, list(rems)))
            return out

    def pending_reminders(self, limit: int = 500) -> list[dict[str, Any]]:
        """Reminders no channel could deliver (``pending``) or that keep failing, for staff to follow up by
        phone: the licence (contact in full: staff call it) and the reminder, soonest expiry first."""
        with self.db.session() as s:
            rows = s.execute(select(Reminder, Licence).join(Licence, Licence.id == Reminder.licence_id)
                             .where(Reminder.status.in_(("pending", "failed")), Licence.status == "active",
                                    Licence.expiry_date == Reminder.expiry_date)
                             .order_by(Licence.expiry_date, Reminder.id).limit(limit)).all()
            return [{"licence": _licence_view(lic).model_dump() | {"contact": lic.contact},
                     "reminder": ReminderView(offset_days=r.offset_days, due_date=r.due_date, status=r.status,
                                              channel=r.channel, sent_at=r.sent_at, detail=r.detail).model_dump()}
                    for r, lic in rows]

    def cancel(self, session_id: str, ref: str) -> LicenceView:
        """Stop reminders for one of a conversation's licences.

        Args:
            session_id: the conversation (only its own licences can be cancelled).
            ref: the licence number, or its position in the list (``"1"``).

        Raises:
            NotFound: no such active licence in this conversation.
        """
        from assistant.preservice.validation import normalize_licence_number

        with self.db.session() as s:
            rows = s.scalars(select(Licence).where(Licence.session_id == session_id, Licence.status == "active")
                             .order_by(Licence.expiry_date, Licence.id)).all()
            target = None
            ref = (ref or "").strip()
            if ref.isdigit() and 1 <= int(ref) <= len(rows) and len(ref) <= 2:
                target = rows[int(ref) - 1]
            else:
                num = normalize_licence_number(ref)
                target = next((r for r in rows if r.number == num), None)
            if target is None:
                raise NotFound(ref)
            target.status, target.updated_at = "cancelled", utcnow()
            s.flush()
            view = _licence_view(target)
        log_event(log, "preservice.licence.cancelled", licence=view.id, session=session_id)
        return view


class BookingStore:
    """Home-visit bookings.

    Args:
        db: the app database.
    """

    def __init__(self, db: Database):
        self.db = db

    def create(self, *, person_name: str, phone: str, address: str, street: str, matter_name: str,
               visit_date: date, half_day: str, matter_code: str | None = None,
               person_note: str = "", session_id: str | None = None, channel: str = "web") -> BookingView:
        """Book a home visit under a new unguessable number (:mod:`assistant.preservice.numbers`); the booking
        lands in ``street``'s queue.

        Args:
            person_name: who is visited.
            phone: a validated phone number.
            address: the address as given.
            street: the street (街道) serving the address.
            matter_name: what is to be done (养老保险待遇资格认证 …).
            visit_date: the preferred day.
            half_day: ``上午`` / ``下午``.
            matter_code: the matter's catalogue code, if known.
            person_note: why the person cannot come.
            session_id: the conversation that booked.
            channel: the citizen's channel.
        """
        if half_day not in HALF_DAYS:
            raise ValueError(f"half_day must be one of {HALF_DAYS}")
        for _ in range(5):
            try:
                with self.db.session() as s:
                    b = Booking(number=new_booking_number(), session_id=session_id, channel=channel,
                                person_name=person_name, person_note=person_note, phone=phone, address=address,
                                street=street, matter_code=matter_code, matter_name=matter_name,
                                visit_date=visit_date, half_day=half_day, status="booked", staff_note="")
                    s.add(b)
                    s.flush()
                    view = booking_view(b)
                break
            except IntegrityError:  # number collision: draw again
                continue
        else:  # pragma: no cover - 2**70 numbers
            raise RuntimeError("could not allocate a booking number")
        log_event(log, "preservice.booking.created", booking=view.number, street=street, session=session_id,
                  phone=mask_pii(phone), address=mask_pii(address))
        return view

    @staticmethod
    def _find(s, number: str, session_id: str | None, any_session: bool) -> Booking | None:
        normalized = normalize_booking_number(number)
        if normalized is None:
            return None
        q = select(Booking).where(Booking.number == normalized)
        if not any_session:  # a citizen: only the bookings of their own conversation exist for them
            if not session_id:
                return None
            q = q.where(Booking.session_id == session_id)
        return s.scalars(q).first()

    def get(self, number: str, unmasked: bool = False, *, session_id: str | None = None,
            any_session: bool = False) -> BookingView | None:
        """A booking by number (as written: case, spaces, dashes and O/0, I/L/1 do not matter), or ``None``.

        Args:
            number: the booking number.
            unmasked: give the phone and address in full (staff).
            session_id: the conversation asking; only its own bookings are found.
            any_session: find the booking whichever conversation made it (staff only).
        """
        with self.db.session() as s:
            b = self._find(s, number, session_id, any_session)
            return booking_view(b, unmasked) if b else None

    def update(self, number: str, *, status: str | None = None, visit_date: date | None = None,
               half_day: str | None = None, staff_note: str | None = None, unmasked: bool = False,
               session_id: str | None = None, any_session: bool = False) -> BookingView:
        """Change a booking (found as by :meth:`get`: in ``session_id``'s conversation, or ``any_session``).

        Raises:
            NotFound: no such booking (in that conversation).
            ValueError: an unknown status or half-day, or a change to a cancelled/done booking.
        """
        if status is not None and status not in BOOKING_STATUSES:
            raise ValueError(f"status must be one of {', '.join(BOOKING_STATUSES)}")
        if half_day is not None and half_day not in HALF_DAYS:
            raise ValueError("half_day must be 上午 or 下午")
        # compare-and-set on the status read: two staff changing one booking at once (one cancels, one marks it
        # done) are applied one after the other — the second sees the first's result — on SQLite and PostgreSQL
        for _ in range(5):
            with self.db.session() as s:
                b = self._find(s, number, session_id, any_session)
                if b is None:
                    raise NotFound(number)
                if b.status in {"cancelled", "done"} and (visit_date or half_day or (status and status != b.status)):
                    raise ValueError(f"the booking is {b.status}; it cannot be changed")
                changes: dict[str, Any] = {"updated_at": utcnow()}
                if status is not None:
                    changes["status"] = status
                if visit_date is not None:
                    changes["visit_date"] = visit_date
                if half_day is not None:
                    changes["half_day"] = half_day
                if staff_note is not None:
                    changes["staff_note"] = staff_note
                done = s.execute(update(Booking).where(Booking.id == b.id, Booking.status == b.status)
                                 .values(**changes).execution_options(synchronize_session=False))
                if done.rowcount != 1:
                    continue  # changed by someone else meanwhile: read it again
                s.expire(b)
                view = booking_view(b, unmasked)
            break
        else:  # pragma: no cover - five concurrent changes in a row
            raise RuntimeError("the booking kept changing; try again")
        log_event(log, "preservice.booking.updated", booking=view.number, status=view.status)
        return view

    def for_session(self, session_id: str) -> list[BookingView]:
        """A conversation's bookings, newest first."""
        with self.db.session() as s:
            rows = s.scalars(select(Booking).where(Booking.session_id == session_id)
                             .order_by(Booking.id.desc())).all()
            return [booking_view(b) for b in rows]

    def street_queue(self, street: str, include_closed: bool = False) -> list[BookingView]:
        """A street's bookings (open ones unless ``include_closed``), by visit day; phone/address in full."""
        with self.db.session() as s:
            q = select(Booking).where(Booking.street == street)
            if not include_closed:
                q = q.where(Booking.status.in_(("booked", "confirmed")))
            rows = s.scalars(q.order_by(Booking.visit_date, Booking.half_day, Booking.id)).all()
            return [booking_view(b, unmasked=True) for b in rows]


class FirmStore:
    """Newly registered firms queued for their street's specialist.

    Args:
        db: the app database.
    """

    def __init__(self, db: Database):
        self.db = db

    def existing_codes(self, codes: list[str]) -> set[str]:
        """Which of ``codes`` are already imported."""
        out: set[str] = set()
        with self.db.session() as s:
            for i in range(0, len(codes), 500):
                out |= set(s.scalars(select(NewFirm.credit_code).where(NewFirm.credit_code.in_(codes[i:i + 500]))))
        return out

    def add_many(self, firms: list[dict[str, Any]]) -> list[FirmView]:
        """Insert firms (dicts of :class:`NewFirm` columns); duplicates must have been filtered by the caller."""
        with self.db.session() as s:
            rows = [NewFirm(**f) for f in firms]
            s.add_all(rows)
            s.flush()
            return [_firm_view(r) for r in rows]

    def set_welcome(self, firm_id: int, status: str) -> None:
        """Record the welcome message's fate (``sent`` / ``pending`` / ``no_channel``)."""
        with self.db.session() as s:
            f = s.get(NewFirm, firm_id)
            if f is not None:
                f.welcome_status, f.updated_at = status, utcnow()

    def street_queue(self, street: str, include_closed: bool = False) -> list[FirmView]:
        """A street's new firms (open and contacted unless ``include_closed``), oldest first."""
        with self.db.session() as s:
            q = select(NewFirm).where(NewFirm.street == street)
            if not include_closed:
                q = q.where(NewFirm.queue_status != "done")
            return [_firm_view(f) for f in s.scalars(q.order_by(NewFirm.id)).all()]

    def update(self, firm_id: int, *, queue_status: str | None = None, staff_note: str | None = None) -> FirmView:
        """Change a firm's queue status / note.

        Raises:
            NotFound: no such firm.
            ValueError: an unknown status.
        """
        if queue_status is not None and queue_status not in {"open", "contacted", "done"}:
            raise ValueError("queue_status must be open, contacted or done")
        with self.db.session() as s:
            f = s.get(NewFirm, firm_id)
            if f is None:
                raise NotFound(firm_id)
            if queue_status is not None:
                f.queue_status = queue_status
            if staff_note is not None:
                f.staff_note = staff_note
            f.updated_at = utcnow()
            s.flush()
            return _firm_view(f)
