"""The personal-data lifecycle in the database: the retention purge and the erasure of one conversation.

* :func:`purge` deletes what is older than the retention period (``settings.retention_days``; ``jinxiaoer db
  purge --older-than DAYS``; :class:`RetentionJob` runs it daily on the leader process): conversations and their
  messages, dialogue states, turn keys, feedback, Rasa's tracker events (when Rasa keeps them in the app's
  database, the usual set-up), WeChat inbound rows, deliveries and user bindings. Closed human-helper tickets
  become anonymous stubs (matter, level, times, rating: no text, no session). What is still needed is kept:
  bookings whose visit is not long past, licences with active reminders (and their reminders), the staff audit
  log.
* :func:`erase_session` erases one conversation at the citizen's request («删除我的记录», ``DELETE
  /api/v1/chat/{session_id}``): its conversation, messages, dialogue state, feedback, turn keys, Rasa tracker and
  WeChat rows; its tickets become anonymous stubs; its bookings and licences are detached from the session.

Both return the number of rows per table, so the caller can report what was done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, inspect, select, text, update

from assistant.db.chat import Conversation, DialogueStateRow, HandoffTicket, Message, TurnKey
from assistant.db.feedback import Feedback
from assistant.db.leader import Leadership
from assistant.db.preservice import Booking, Licence
from assistant.db.wechat import WeChatDelivery, WeChatInbound, WeChatUser
from assistant.logging import get_logger, log_event
from assistant.periodic import cancel, repeat

log = get_logger(__name__)

__all__ = ["purge", "erase_session", "RetentionJob", "ERASED_SESSION", "PURGE_INTERVAL_S"]

#: What an anonymised ticket's ``session_id`` becomes.
ERASED_SESSION = "erased"
#: Seconds between two scheduled purges.
PURGE_INTERVAL_S = 24 * 3600.0
#: Rasa's SQL tracker-store table (``endpoints.yml`` ``tracker_store``: the app's own database).
RASA_EVENTS_TABLE = "events"


def _has_table(conn: Any, name: str) -> bool:
    return inspect(conn).has_table(name)


def _anonymise(s: Any, where: Any) -> int:
    """Strip every text of the tickets ``where`` selects: matter, level, place, times, status and rating stay."""
    res = s.execute(update(HandoffTicket).where(where).values(
        session_id=ERASED_SESSION, transcript=[], summary=None, staff_name=None, labels=[], reason="",
        claimed_by=None).execution_options(synchronize_session=False))
    return res.rowcount or 0


def purge(db: Any, older_than_days: int, *, now: datetime | None = None) -> dict[str, int]:
    """Delete personal data older than ``older_than_days`` days.

    Args:
        db: the app database (``assistant.db.session.Database``).
        older_than_days: the retention period in days (≥ 1).
        now: the current time (tests move it); the real time when omitted.

    Returns:
        Rows deleted (anonymised, for ``handoff_tickets``) per table; a table that does not exist is absent.

    Raises:
        ValueError: ``older_than_days`` is less than 1.
    """
    if older_than_days < 1:
        raise ValueError("the retention period must be at least 1 day")
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=older_than_days)
    # SQLite stores naive UTC; comparing with a naive value works on both backends
    cut = cutoff.replace(tzinfo=None) if db.engine.url.get_backend_name() == "sqlite" else cutoff
    counts: dict[str, int] = {}
    with db.session() as s:
        old = select(Conversation.session_id).where(Conversation.updated_at < cut)
        for name, stmt in (
            ("messages", delete(Message).where((Message.created_at < cut) | Message.session_id.in_(old))),
            ("turn_keys", delete(TurnKey).where((TurnKey.created_at < cut) | TurnKey.session_id.in_(old))),
            ("feedback", delete(Feedback).where(Feedback.created_at < cut)),
            ("dialogue_states", delete(DialogueStateRow).where(DialogueStateRow.updated_at < cut)),
            ("conversations", delete(Conversation).where(Conversation.updated_at < cut)),
            ("wechat_inbound", delete(WeChatInbound).where(WeChatInbound.updated_at < cut)),
            ("wechat_deliveries", delete(WeChatDelivery).where(WeChatDelivery.created_at < cut)),
            ("wechat_users", delete(WeChatUser).where(WeChatUser.updated_at < cut)),
            # a visit long past (the booking row holds a name, phone and address); future visits stay
            ("ps_bookings", delete(Booking).where(Booking.visit_date < cutoff.date(), Booking.updated_at < cut)),
            # licences nobody is reminded about any more (their reminders go with them); active ones stay
            ("ps_licences", delete(Licence).where(Licence.status != "active", Licence.updated_at < cut)),
        ):
            counts[name] = s.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0
        counts["handoff_tickets"] = _anonymise(
            s, (HandoffTicket.status == "closed") & (HandoffTicket.updated_at < cut)
            & (HandoffTicket.session_id != ERASED_SESSION))
        conn = s.connection()
        if _has_table(conn, RASA_EVENTS_TABLE):
            counts["events"] = conn.execute(text(f"DELETE FROM {RASA_EVENTS_TABLE} WHERE timestamp < :t"),
                                            {"t": cutoff.timestamp()}).rowcount or 0
    log_event(log, "retention.purged", days=older_than_days, **counts)
    return counts


def erase_session(db: Any, session_id: str) -> dict[str, int]:
    """Erase one conversation: everything the app and Rasa keep of it.

    Args:
        db: the app database.
        session_id: the conversation to erase.

    Returns:
        Rows deleted per table (``handoff_tickets``: anonymised; ``ps_bookings``/``ps_licences``: detached from
        the session — a booked visit still happens, staff still reach the citizen by the phone given).
    """
    counts: dict[str, int] = {}
    with db.session() as s:
        openids = list(s.scalars(select(WeChatUser.openid).where(WeChatUser.session_id == session_id)))
        for name, stmt in (
            ("messages", delete(Message).where(Message.session_id == session_id)),
            ("turn_keys", delete(TurnKey).where(TurnKey.session_id == session_id)),
            ("feedback", delete(Feedback).where(Feedback.session_id == session_id)),
            ("dialogue_states", delete(DialogueStateRow).where(DialogueStateRow.session_id == session_id)),
            ("conversations", delete(Conversation).where(Conversation.session_id == session_id)),
            ("wechat_deliveries", delete(WeChatDelivery).where(WeChatDelivery.openid.in_(openids))),
            # the message being answered now stays until it is answered (its retry must not run a second turn)
            ("wechat_inbound", delete(WeChatInbound).where(WeChatInbound.openid.in_(openids),
                                                          WeChatInbound.status != "processing")),
            ("ps_bookings", update(Booking).where(Booking.session_id == session_id).values(session_id=None)),
            ("ps_licences", update(Licence).where(Licence.session_id == session_id).values(session_id=None)),
        ):
            counts[name] = s.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0
        counts["handoff_tickets"] = _anonymise(s, HandoffTicket.session_id == session_id)
        conn = s.connection()
        if _has_table(conn, RASA_EVENTS_TABLE):
            counts["events"] = conn.execute(text(f"DELETE FROM {RASA_EVENTS_TABLE} WHERE sender_id = :sid"),
                                            {"sid": session_id}).rowcount or 0
    log_event(log, "retention.session_erased", session=session_id, **counts)
    return counts


class RetentionJob:
    """The scheduled purge: every :data:`PURGE_INTERVAL_S` seconds on the leader process only.

    Args:
        db: the app database.
        days: the retention period (``settings.retention_days``; 0 turns the scheduled purge off).
        clock: ``() -> aware datetime`` (tests); the real time when omitted.
    """

    def __init__(self, db: Any, days: int, clock: Callable[[], datetime] | None = None):
        self.db = db
        self.days = days
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.leadership = Leadership.of(db, "retention")
        self._task: asyncio.Task | None = None

    async def run_once(self) -> dict[str, int] | None:
        """Purge now if this process leads (``None`` when it does not, or the purge is off)."""
        if self.days < 1:
            return None
        if not await asyncio.to_thread(self.leadership.acquire):
            return None
        return await asyncio.to_thread(purge, self.db, self.days, now=self.clock())

    def start(self, interval_s: float = PURGE_INTERVAL_S) -> None:
        """Purge now and then every ``interval_s`` seconds in the background."""
        if self.days >= 1 and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(repeat(self.run_once, interval_s, log, "retention.purge_failed"),
                                             name="retention-purge")

    async def stop(self) -> None:
        """Stop the background loop and let another process lead."""
        await cancel(self._task)
        self._task = None
        await asyncio.to_thread(self.leadership.release)
