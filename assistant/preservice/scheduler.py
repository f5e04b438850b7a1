"""Licence-expiry reminders (许可延续 · 无感审批提示).

For every active licence and every configured offset (``settings.reminder_offsets_days``, default 60/30/7 days
before expiry) one reminder is sent — through the channel the licence holder chose — with the renewal matter's
checklist and online link.

Guarantees:

- **never twice**: a reminder is a row keyed by (licence, expiry date, offset) — unique in the database — that is
  inserted *before* (or, for the web inbox, in the same transaction as) the send;
- **none missed**: :meth:`ReminderScheduler.run_once` looks at every offset that has come due, not just today's,
  so the first run after downtime catches up; when several offsets of one licence are overdue only the most
  recent is sent and the others are recorded as ``skipped`` (nobody wants three reminders at once);
- **each send recorded**: status ``sent`` / ``pending`` / ``failed`` / ``skipped`` with the time and channel;
  a ``claimed`` row left by a crash mid-send and ``failed``/``pending`` rows are retried on later runs
  (at most :data:`MAX_ATTEMPTS` times).

The clock is injectable (``clock() -> aware datetime``) so tests can move time and restart in the middle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.db.base import utcnow
from assistant.db.leader import Leadership
from assistant.db.preservice import Licence, Reminder
from assistant.logging import get_logger, log_event
from assistant.metrics import SCHEDULER_RUNS
from assistant.periodic import cancel, repeat
from assistant.preservice.delivery import Channel, DeliveryResult, NoChannel, WebInbox
from assistant.preservice.renewals import RenewalCatalogue
from assistant.preservice.validation import today_local

log = get_logger(__name__)

#: Sends of one reminder before it is left for staff.
MAX_ATTEMPTS = 5
#: Licences whose web-inbox reminders share one transaction.
WEB_BATCH = 200
#: Seconds between two scheduler runs while the app is up.
DEFAULT_INTERVAL_S = 3600.0

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, UTC."""
    return datetime.now(timezone.utc)


@dataclass
class RunReport:
    """What one run did (counts of reminders by outcome)."""

    today: date
    sent: int = 0
    pending: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    #: Whether this process was the leader (only the leader sends).
    leader: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "sent": self.sent, "pending": self.pending, "failed": self.failed,
                "skipped": self.skipped, "retried": self.retried, "leader": self.leader}


def reminder_parts(lic: Licence, offset_days: int, today: date, catalogue: RenewalCatalogue) -> list[dict[str, Any]]:
    """The reminder message: a text with the licence, days left and how to renew, then the renewal checklist.

    Args:
        lic: the licence row.
        offset_days: which reminder (days before expiry it was due).
        today: the local date of the send (days left are counted from it).
        catalogue: the renewal catalogue (for the renewal matter).
    """
    lt = catalogue.get(lic.licence_type)
    matter = catalogue.matter(lt) if lt else None
    left = (lic.expiry_date - today).days
    lines = [f"【证照到期提醒】您登记的「{lic.licence_name}」（编号 {lic.number}，持证：{lic.holder}）"
             f"将于 {lic.expiry_date.year}年{lic.expiry_date.month}月{lic.expiry_date.day}日到期，还剩 {left} 天。"]
    if matter is not None:
        lines.append(f"请尽早办理「{matter.name}」，以免证照过期影响经营。")
        if lt and lt.apply_before_days:
            lines.append(f"按规定应在有效期届满{lt.apply_before_days}日前提出申请。")
        if matter.online_link:
            lines.append(f"网上办理：{matter.online_link}")
        place = matter.places[0] if matter.places else None
        if place is not None:
            lines.append(f"线下办理：{place.name}{('，' + place.address) if place.address else ''}")
    else:
        lines.append("请尽早到金牛区政务服务大厅办理延续手续。")
    lines.append("已经办好了？回复「取消提醒」可以停止这张证照的提醒。")
    parts: list[dict[str, Any]] = [{"type": "text", "text": "\n".join(lines)}]
    if matter is not None and matter.materials:
        parts.append({"type": "checklist", "matter": {"code": matter.code, "name": matter.name},
                      "items": [{"name": x.name, "form": x.form, "copies": x.copies, "requirement": x.requirement,
                                 "note": x.note} for x in matter.materials]})
    return parts


class ReminderScheduler:
    """Sends due reminders.

    Args:
        db: the app database (``assistant.db.session.Database``).
        catalogue: the renewal catalogue.
        offsets: days before expiry to remind at (``settings.reminder_offsets_days``).
        channels: channel name (``web``, ``wechat``, ``none``) → :class:`Channel`; ``web`` defaults to the inbox.
        clock: ``() -> aware datetime``; the real time when omitted.
    """

    def __init__(self, db: Any, catalogue: RenewalCatalogue, offsets: list[int],
                 channels: dict[str, Channel] | None = None, clock: Clock | None = None):
        if not offsets or any(o < 0 for o in offsets):
            raise ValueError("reminder offsets must be non-negative days, at least one")
        self.db = db
        self.catalogue = catalogue
        self.offsets = sorted(set(int(o) for o in offsets), reverse=True)
        self.channels: dict[str, Channel] = {"web": WebInbox(db), "none": NoChannel()}
        self.channels.update(channels or {})
        self.clock = clock or system_clock
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        #: Only the leader among the app's processes sends (two replicas never both send a reminder).
        self.leadership = Leadership.of(db, "reminders")

    # ---- one run ------------------------------------------------------------------------------------------------
    async def run_once(self) -> RunReport:
        """Send every reminder that is due and not yet sent (catch-up included), retry unfinished ones. A process
        that is not the leader sends nothing (``report.leader`` is ``False``)."""
        async with self._lock:
            today = today_local(self.clock())
            report = RunReport(today=today)
            if not await asyncio.to_thread(self.leadership.acquire):
                report.leader = False
                SCHEDULER_RUNS.labels("not_leader").inc()
                log_event(log, "preservice.reminders.not_leader")
                return report
            SCHEDULER_RUNS.labels("leader").inc()
            await self._retry_unfinished(today, report)
            due = await asyncio.to_thread(self._due, today)
            web = [d for d in due if d[3] == "web" and d[4]]
            other = [d for d in due if not (d[3] == "web" and d[4])]
            # web-inbox sends are database writes: done in batches, in a worker thread (the event loop stays free)
            for i in range(0, len(web), WEB_BATCH):
                await asyncio.to_thread(self._send_web_batch, web[i:i + WEB_BATCH], today, report)
            for lic_id, expiry, due_offsets, _, _ in other:
                newest = min(due_offsets)
                await self._send(lic_id, expiry, newest, today, report,
                                 skipped=[o for o in due_offsets if o != newest])
            log_event(log, "preservice.reminders.run", **report.as_dict())
            return report

    def _due(self, today: date) -> list[tuple[int, date, list[int], str, str | None]]:
        """(licence id, expiry, due offsets without a reminder row, channel, session id) for active licences not
        yet expired."""
        horizon = today + timedelta(days=max(self.offsets))
        out = []
        with self.db.session() as s:
            lics = s.execute(select(Licence.id, Licence.expiry_date, Licence.channel, Licence.session_id).where(
                Licence.status == "active", Licence.expiry_date >= today,
                Licence.expiry_date <= horizon).order_by(Licence.id)).all()
            done: dict[tuple[int, date], set[int]] = {}
            ids = [row[0] for row in lics]
            for i in range(0, len(ids), 500):
                for lic_id, expiry, off in s.execute(select(Reminder.licence_id, Reminder.expiry_date,
                                                            Reminder.offset_days)
                                                     .where(Reminder.licence_id.in_(ids[i:i + 500]))):
                    done.setdefault((lic_id, expiry), set()).add(off)
            for lic_id, expiry, channel, session_id in lics:
                have = done.get((lic_id, expiry), set())
                # an offset is moot once a later (smaller) one has been recorded
                due = [o for o in self.offsets if expiry - timedelta(days=o) <= today and o not in have
                       and not any(h < o for h in have)]
                if due:
                    out.append((lic_id, expiry, due, channel, session_id))
        return out

    def _write_web(self, s: Any, lic: Licence, expiry: date, due_offsets: list[int], today: date) -> tuple[int, str]:
        newest = min(due_offsets)
        parts = reminder_parts(lic, newest, today, self.catalogue)
        s.add_all(self._skipped_rows(lic.id, expiry, [o for o in due_offsets if o != newest], newest))
        ref = self.channels["web"].write(s, lic.session_id, parts, "reminder")
        s.add(Reminder(licence_id=lic.id, offset_days=newest, expiry_date=expiry, due_date=expiry - timedelta(
            days=newest), status="sent", channel="web", detail="", message_ref=ref, attempts=1, sent_at=utcnow()))
        return newest, ref

    def _send_web_batch(self, batch: list[tuple], today: date, report: RunReport) -> None:
        """Web-inbox reminders of several licences in one transaction (inbox messages and records together:
        exactly once); when a concurrent run got to one of them first, the batch is redone one by one."""
        def one_tx(items: list[tuple]) -> list[tuple[int, int, str, int]]:
            done = []
            with self.db.session() as s:
                for lic_id, expiry, due_offsets, _, _ in items:
                    lic = s.get(Licence, lic_id)
                    off, ref = self._write_web(s, lic, expiry, due_offsets, today)
                    s.flush()
                    done.append((lic_id, off, ref, len(due_offsets) - 1))
            return done

        try:
            results = one_tx(batch)
        except IntegrityError:
            results = []
            for item in batch:
                try:
                    results += one_tx([item])
                except IntegrityError:
                    continue
        for lic_id, off, ref, n_skipped in results:
            report.sent += 1
            report.skipped += n_skipped
            log_event(log, "preservice.reminder.sent", licence=lic_id, offset=off, channel="web", message=ref)

    @staticmethod
    def _skipped_rows(lic_id: int, expiry: date, skipped: list[int], newest: int) -> list[Reminder]:
        return [Reminder(licence_id=lic_id, offset_days=off, expiry_date=expiry,
                         due_date=expiry - timedelta(days=off), status="skipped", channel="",
                         detail=f"overdue after downtime; the {newest}-day reminder was sent instead", attempts=0)
                for off in skipped]

    async def _send(self, lic_id: int, expiry: date, off: int, today: date, report: RunReport,
                    skipped: list[int] | None = None) -> None:
        """Send one licence's reminder at ``off``; the overdue older offsets are recorded as skipped with it."""
        skipped = skipped or []
        try:
            claimed = await asyncio.to_thread(self._claim, lic_id, expiry, off, today, skipped)
        except IntegrityError:
            return  # a concurrent run got there first
        rid, channel, session_id, contact, parts, ref = claimed
        report.skipped += len(skipped)
        if rid is None:
            report.sent += 1
            log_event(log, "preservice.reminder.sent", licence=lic_id, offset=off, channel="web", message=ref)
            return
        await self._deliver(rid, channel, session_id, contact, parts, report)

    def _claim(self, lic_id: int, expiry: date, off: int, today: date, skipped: list[int]) -> tuple:
        """Record the reminder (web inbox: written and recorded in one transaction, so exactly once; other
        channels: claimed first, sent after). Returns ``(reminder id or None, channel, session, contact, parts,
        inbox message ref)``."""
        due = expiry - timedelta(days=off)
        with self.db.session() as s:
            lic = s.get(Licence, lic_id)
            channel_name, session_id, contact = lic.channel, lic.session_id, lic.contact
            parts = reminder_parts(lic, off, today, self.catalogue)
            channel = self.channels.get(channel_name) or self.channels["none"]
            s.add_all(self._skipped_rows(lic_id, expiry, skipped, off))
            if isinstance(channel, WebInbox) and session_id:
                ref = channel.write(s, session_id, parts, "reminder")
                s.add(Reminder(licence_id=lic_id, offset_days=off, expiry_date=expiry, due_date=due,
                               status="sent", channel="web", detail="", message_ref=ref, attempts=1,
                               sent_at=utcnow()))
                return None, channel, session_id, contact, parts, ref
            row = Reminder(licence_id=lic_id, offset_days=off, expiry_date=expiry, due_date=due,
                           status="claimed", channel=channel.name, detail="", attempts=0)
            s.add(row)
            s.flush()
            return row.id, channel, session_id, contact, parts, None

    async def _deliver(self, rid: int, channel: Channel, session_id: str | None, contact: str | None,
                       parts: list[dict[str, Any]], report: RunReport) -> None:
        try:
            res = await channel.send(session_id, contact, parts, "reminder")
        except Exception as exc:  # a broken channel must not stop the run
            res = DeliveryResult("failed", None, type(exc).__name__)
        await asyncio.to_thread(self._record, rid, res)
        setattr(report, res.status, getattr(report, res.status) + 1)
        log_event(log, f"preservice.reminder.{res.status}", reminder=rid, channel=channel.name, detail=res.detail)

    def _record(self, rid: int, res: DeliveryResult) -> None:
        with self.db.session() as s:
            row = s.get(Reminder, rid)
            row.status, row.detail, row.message_ref = res.status, res.detail[:255], res.ref
            row.attempts = (row.attempts or 0) + 1
            if res.status == "sent":
                row.sent_at = utcnow()

    async def _retry_unfinished(self, today: date, report: RunReport) -> None:
        rows = await asyncio.to_thread(self._unfinished, today)
        await self._retry_rows(rows, today, report)

    def _unfinished(self, today: date) -> list[Any]:
        with self.db.session() as s:
            rows = s.execute(select(Reminder.id, Reminder.offset_days, Licence.id, Licence.channel,
                                    Licence.session_id, Licence.contact).join(Licence, Licence.id == Reminder.licence_id)
                             .where(Reminder.status.in_(("claimed", "failed", "pending")),
                                    Reminder.attempts < MAX_ATTEMPTS, Licence.status == "active",
                                    Licence.expiry_date == Reminder.expiry_date,
                                    Licence.expiry_date >= today)).all()
        return list(rows)

    async def _retry_rows(self, rows: list[Any], today: date, report: RunReport) -> None:
        for rid, off, lic_id, channel_name, session_id, contact in rows:
            channel = self.channels.get(channel_name) or self.channels["none"]
            if channel.name == "none" and rid:
                # nothing new can deliver it; staff see it as pending
                continue
            parts = await asyncio.to_thread(self._parts_for, lic_id, off, today)
            report.retried += 1
            if isinstance(channel, WebInbox) and session_id:
                if await asyncio.to_thread(self._resend_to_inbox, rid, channel, session_id, parts):
                    report.sent += 1
                continue
            await self._deliver(rid, channel, session_id, contact, parts, report)

    def _parts_for(self, lic_id: int, off: int, today: date) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return reminder_parts(s.get(Licence, lic_id), off, today, self.catalogue)

    def _resend_to_inbox(self, rid: int, channel: WebInbox, session_id: str, parts: list[dict[str, Any]]) -> bool:
        with self.db.session() as s:
            row = s.get(Reminder, rid)
            if row.status not in ("claimed", "failed", "pending"):
                return False
            row.message_ref = channel.write(s, session_id, parts, "reminder")
            row.status, row.sent_at, row.attempts = "sent", utcnow(), (row.attempts or 0) + 1
            return True

    # ---- background loop ----------------------------------------------------------------------------------------
    def start(self, interval_s: float = DEFAULT_INTERVAL_S, ready: Callable[[], bool] | None = None) -> None:
        """Run now (catch-up) and then every ``interval_s`` seconds in the background.

        Args:
            interval_s: seconds between runs.
            ready: ``() -> bool``; the first run waits (up to 10 minutes) until it is true (e.g. the KB loaded).
        """
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(interval_s, ready), name="preservice-reminders")

    async def _loop(self, interval_s: float, ready: Callable[[], bool] | None) -> None:
        waited = 0.0
        while ready is not None and not ready() and waited < 600:
            await asyncio.sleep(0.5)
            waited += 0.5
        await repeat(self.run_once, interval_s, log, "preservice.reminders.run_failed")

    async def stop(self) -> None:
        """Stop the background loop (a send in progress is left ``claimed`` and retried next start)."""
        await cancel(self._task)
        self._task = None
        await asyncio.to_thread(self.leadership.release)
