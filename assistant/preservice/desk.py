"""The pre-service desk (预服务工作台) of a street's staff: its home-visit bookings, licence reminders due, new firms
pushed to it (吹哨报到) — and the check that escalates a push nobody acknowledged in time to the district.

Who sees what: a district helper sees every street (and the firms no street matched); a street helper only their
street; a community helper the street their community belongs to. Lists show phones and addresses masked; the
visiting helper opens one booking's contact on purpose (:meth:`Desk.contact`, audited by the caller).

Licences carry no address: a licence belongs to a street when its holder is a new firm pushed to that street
(same name); every other licence is the district's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update

from assistant.db.base import utcnow
from assistant.db.leader import Leadership
from assistant.db.preservice import Booking, Licence, NewFirm, Reminder
from assistant.db.session import Database
from assistant.logging import get_logger, log_event
from assistant.periodic import cancel, repeat
from assistant.preservice.numbers import normalize_booking_number
from assistant.preservice.store import NotFound
from assistant.preservice.streets import StreetDirectory
from assistant.privacy import mask_pii

log = get_logger(__name__)

#: Bookings still to be visited.
OPEN_BOOKINGS = ("booked", "confirmed")


class OutOfScope(PermissionError):
    """The row belongs to another street than the helper's."""


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def scope_of(level: str, place: str | None, streets: StreetDirectory) -> str | None:
    """The street a helper may work on (``None``: every street, the district).

    Args:
        level: ``district`` / ``street`` / ``community``.
        place: the helper's street or community.
        streets: 金牛区's streets.

    Raises:
        OutOfScope: a street or community helper whose place is not a known street / community.
    """
    if level == "district":
        return None
    st = streets.get(place or "")
    if st is None and level == "community":
        st = next((s for s in streets.streets if (place or "") in s.communities), None)
    if st is None:
        raise OutOfScope(f"unknown place {place!r}")
    return st.name


@dataclass
class Desk:
    """Queries and actions of the desk.

    Args:
        db: the app database.
        ack_hours: hours a street has to acknowledge a new firm before it is escalated.
    """

    db: Database
    ack_hours: float = 24.0

    # ---- bookings ------------------------------------------------------------------------------------------------
    def bookings(self, street: str | None, include_closed: bool = False) -> list[dict[str, Any]]:
        """A street's (or every) home-visit bookings by visit day; phone and address masked."""
        with self.db.session() as s:
            q = select(Booking)
            if street is not None:
                q = q.where(Booking.street == street)
            if not include_closed:
                q = q.where(Booking.status.in_(OPEN_BOOKINGS))
            rows = s.scalars(q.order_by(Booking.visit_date, Booking.half_day, Booking.id).limit(500)).all()
            return [self._booking(b) for b in rows]

    @staticmethod
    def _booking(b: Booking, full: bool = False) -> dict[str, Any]:
        return {"number": b.number, "person_name": b.person_name if full else _mask_name(b.person_name),
                "person_note": b.person_note, "phone": b.phone if full else mask_pii(b.phone),
                "address": b.address if full else mask_pii(b.address), "street": b.street,
                "matter_code": b.matter_code, "matter_name": b.matter_name, "visit_date": b.visit_date.isoformat(),
                "half_day": b.half_day, "status": b.status, "staff_note": b.staff_note,
                "created_at": _aware(b.created_at).isoformat()}

    def booking_street(self, number: str) -> str:
        """The street of booking ``number``.

        Raises:
            NotFound: no such booking.
        """
        with self.db.session() as s:
            st = s.scalar(select(Booking.street).where(Booking.number == normalize_booking_number(number)))
        if st is None:
            raise NotFound(number)
        return st

    def check_booking(self, number: str, street: str | None) -> None:
        """Raise :class:`NotFound` when there is no booking ``number``, :class:`OutOfScope` when it is not in
        ``street`` (``None``: any street)."""
        actual = self.booking_street(number)
        if street is not None and actual != street:
            raise OutOfScope(number)

    def contact(self, number: str) -> dict[str, Any]:
        """One booking with the name, phone and address in full (the visiting helper needs them)."""
        with self.db.session() as s:
            b = s.scalars(select(Booking).where(Booking.number == normalize_booking_number(number))).first()
            if b is None:
                raise NotFound(number)
            return self._booking(b, full=True)

    # ---- licences ------------------------------------------------------------------------------------------------
    def licences_due(self, street: str | None, today: date, within_days: int = 60) -> list[dict[str, Any]]:
        """Active licences expiring within ``within_days`` (soonest first), with their reminders' state; those
        whose reminder no channel could deliver are marked ``to_phone`` (staff call the holder)."""
        with self.db.session() as s:
            firm_street = select(NewFirm.street).where(NewFirm.name == Licence.holder).limit(1).scalar_subquery()
            q = (select(Licence, firm_street.label("street"))
                 .where(Licence.status == "active", Licence.expiry_date >= today,
                        Licence.expiry_date <= today + timedelta(days=within_days)))
            if street is not None:
                q = q.where(firm_street == street)
            rows = s.execute(q.order_by(Licence.expiry_date, Licence.id).limit(500)).all()
            ids = [lic.id for lic, _ in rows]
            rems: dict[int, list[Reminder]] = {}
            if ids:
                for r in s.scalars(select(Reminder).where(Reminder.licence_id.in_(ids)).order_by(Reminder.id)):
                    rems.setdefault(r.licence_id, []).append(r)
            out = []
            for lic, st in rows:
                mine = [r for r in rems.get(lic.id, []) if r.expiry_date == lic.expiry_date]
                out.append({
                    "id": lic.id, "licence_name": lic.licence_name, "number": lic.number, "holder": lic.holder,
                    "expiry_date": lic.expiry_date.isoformat(), "days_left": (lic.expiry_date - today).days,
                    "channel": lic.channel, "contact": mask_pii(lic.contact) if lic.contact else None,
                    "street": st or "", "reminders": [{"offset_days": r.offset_days, "status": r.status,
                                                       "sent_at": _aware(r.sent_at).isoformat() if r.sent_at else None}
                                                      for r in mine],
                    "to_phone": any(r.status in ("pending", "failed") for r in mine)})
            return out

    # ---- new firms -----------------------------------------------------------------------------------------------
    def deadline(self, created_at: datetime) -> datetime:
        """When a push made at ``created_at`` must be acknowledged."""
        return _aware(created_at) + timedelta(hours=self.ack_hours)

    def firms(self, street: str | None, now: datetime, include_closed: bool = False) -> list[dict[str, Any]]:
        """New firms pushed to a street (district: all, the unmatched and escalated ones first), oldest first."""
        with self.db.session() as s:
            q = select(NewFirm)
            if street is not None:
                q = q.where(NewFirm.street == street)
            if not include_closed:
                q = q.where(NewFirm.queue_status != "done")
            rows = s.scalars(q.order_by(NewFirm.escalated_at.is_(None), NewFirm.id).limit(500)).all()
            return [self._firm(f, now) for f in rows]

    def _firm(self, f: NewFirm, now: datetime) -> dict[str, Any]:
        due = self.deadline(f.created_at)
        return {"id": f.id, "name": f.name, "credit_code": f.credit_code, "address": mask_pii(f.address),
                "industry": f.industry, "registration_date": f.registration_date.isoformat(), "street": f.street,
                "queue_status": f.queue_status, "welcome_status": f.welcome_status, "staff_note": f.staff_note,
                "pushed_at": _aware(f.created_at).isoformat(), "ack_deadline": due.isoformat(),
                "acknowledged_at": _aware(f.acknowledged_at).isoformat() if f.acknowledged_at else None,
                "acknowledged_by": f.acknowledged_by,
                "escalated_at": _aware(f.escalated_at).isoformat() if f.escalated_at else None,
                "overdue": f.acknowledged_at is None and now >= due}

    def firm_street(self, firm_id: int) -> str:
        """The street of firm ``firm_id`` (``""``: none matched).

        Raises:
            NotFound: no such firm.
        """
        with self.db.session() as s:
            f = s.get(NewFirm, firm_id)
            if f is None:
                raise NotFound(firm_id)
            return f.street

    def acknowledge(self, firm_id: int, username: str, street: str | None, now: datetime) -> dict[str, Any]:
        """Acknowledge a pushed firm (吹哨报到: 报到). Idempotent: the first acknowledgement is kept.

        Raises:
            NotFound: no such firm.
            OutOfScope: the firm is another street's.
        """
        with self.db.session() as s:
            f = s.get(NewFirm, firm_id)
            if f is None:
                raise NotFound(firm_id)
            if street is not None and f.street != street:
                raise OutOfScope(firm_id)
            if f.acknowledged_at is None:
                f.acknowledged_at, f.acknowledged_by = now, username
                if f.queue_status == "open":
                    f.queue_status = "contacted"
                f.updated_at = utcnow()
            s.flush()
            view = self._firm(f, now)
        log_event(log, "preservice.firm.acknowledged", firm=firm_id, staff=username)
        return view

    def escalate_overdue(self, now: datetime) -> list[int]:
        """Hand every push not acknowledged within :attr:`ack_hours` to the district (sets ``escalated_at``
        once). Run by the leader only (:class:`EscalationCheck`). Returns the escalated firm ids."""
        cutoff = now - timedelta(hours=self.ack_hours)
        with self.db.session() as s:
            ids = list(s.scalars(select(NewFirm.id).where(
                NewFirm.acknowledged_at.is_(None), NewFirm.escalated_at.is_(None), NewFirm.street != "",
                NewFirm.queue_status == "open", NewFirm.created_at <= cutoff)))
            if ids:
                s.execute(update(NewFirm).where(NewFirm.id.in_(ids), NewFirm.escalated_at.is_(None))
                          .values(escalated_at=now, updated_at=now))
        for i in ids:
            log_event(log, "preservice.firm.escalated", firm=i)
        return ids


def _mask_name(name: str) -> str:
    """张三丰 → 张**: enough to greet, not to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""




class EscalationCheck:
    """The scheduled escalation check: every ``interval_s`` seconds, only in the process that leads the job
    ``firm-escalation`` (one process among the replicas; :class:`assistant.db.leader.Leadership`).

    Args:
        desk: the desk.
        clock: ``() -> aware datetime``.
        interval_s: seconds between checks.
    """

    def __init__(self, desk: Desk, clock: Callable[[], datetime], interval_s: float = 600.0):
        self.desk = desk
        self.clock = clock
        self.interval_s = interval_s
        self.leadership = Leadership.of(desk.db, "firm-escalation")
        self._task: asyncio.Task | None = None

    def run_once(self) -> dict[str, Any]:
        """One check (blocking). Returns ``{"leader": bool, "escalated": [ids]}``; a non-leader escalates nothing."""
        if not self.leadership.acquire():
            return {"leader": False, "escalated": []}
        return {"leader": True, "escalated": self.desk.escalate_overdue(self.clock())}

    def start(self) -> None:
        """Run the check in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(
                repeat(lambda: asyncio.to_thread(self.run_once), self.interval_s, log,
                       "preservice.firm.escalation_failed"), name="firm-escalation")

    async def stop(self) -> None:
        """Stop the loop and let another process lead."""
        await cancel(self._task)
        self._task = None
        await asyncio.to_thread(self.leadership.release)
