"""Ticket events for the live queue, across replicas.

What happened is a row of ``ticket_events`` (written in the same transaction as the change). This module only
*wakes* the open queues so they read the new rows at once:

* in this process: every subscriber's ``asyncio.Event`` is set (thread-safe) when :meth:`TicketEvents.notify` is
  called after the commit;
* other replicas: with ``JXE_REDIS_URL`` set, a Redis pub/sub message on :data:`CHANNEL`; on PostgreSQL without
  Redis, ``NOTIFY jxe_ticket_events`` and a ``LISTEN`` connection per process; on SQLite without Redis (one
  machine, usually one process) the listener polls ``max(ticket_events.id)`` every ``staff_event_poll_s``.

A subscriber wakes at least every few seconds anyway and re-reads the table, so a lost notification only delays
an update, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import threading
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select as sa_select

from assistant.db.session import Database
from assistant.db.staff import TicketEvent
from assistant.logging import get_logger, log_event
from assistant.settings import Settings

log = get_logger(__name__)

#: The Redis pub/sub channel and the PostgreSQL NOTIFY channel.
CHANNEL = "jxe_ticket_events"


class _Waiter:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.event = asyncio.Event()

    def wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.event.set)
        except RuntimeError:  # the loop is closed
            pass


class TicketEvents:
    """Wakes the live queues of every replica when a ticket changes.

    Args:
        settings: ``redis_url`` and ``staff_event_poll_s``.
        db: the app database (the events table; PostgreSQL's NOTIFY/LISTEN).
    """

    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db
        dialect = db.engine.url.get_backend_name()
        self.backend = "redis" if settings.redis_url else ("postgres" if dialect == "postgresql" else "poll")
        self._waiters: set[_Waiter] = set()
        self._lock = threading.Lock()
        self._task: asyncio.Task | None = None
        self._task_loop: asyncio.AbstractEventLoop | None = None
        self._redis: Any = None
        self._stop = threading.Event()

    # --- publishing (any thread) --------------------------------------------------------------------------------

    def notify(self) -> None:
        """Something was committed to ``ticket_events``: wake this process's queues and tell the other replicas."""
        self._wake_local()
        try:
            if self.backend == "redis":
                if self._redis is None:
                    import redis

                    self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2)
                self._redis.publish(CHANNEL, "1")
            elif self.backend == "postgres":
                from sqlalchemy import text

                with self.db.engine.connect() as conn:
                    conn.execute(text("SELECT pg_notify(:c, '1')"), {"c": CHANNEL})
                    conn.commit()
        except Exception as exc:  # noqa: BLE001 - the other replicas still see the row on their next look
            log_event(log, "staff.events.notify_failed", level=30, backend=self.backend, error=type(exc).__name__)

    def _wake_local(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for w in waiters:
            w.wake()

    # --- reading -------------------------------------------------------------------------------------------------

    def last_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        with self.db.session() as s:
            return int(s.scalar(sa_select(func.max(TicketEvent.id))) or 0)

    def after(self, event_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """Events newer than ``event_id``, oldest first: ``{"id", "ticket_id", "kind", "level", "place", "at"}``."""
        with self.db.session() as s:
            rows = s.scalars(sa_select(TicketEvent).where(TicketEvent.id > event_id)
                             .order_by(TicketEvent.id).limit(limit)).all()
            return [{"id": e.id, "ticket_id": e.ticket_id, "kind": e.kind, "level": e.level, "place": e.place,
                     "at": e.at.isoformat() if e.at else ""} for e in rows]

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator["_Subscription"]:
        """A subscription of the current event loop: ``await sub.wait(timeout)`` returns when woken or after
        ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        w = _Waiter(loop)
        with self._lock:
            self._waiters.add(w)
        self._ensure_listener(loop)
        try:
            yield _Subscription(w)
        finally:
            with self._lock:
                self._waiters.discard(w)

    # --- listening for the other replicas ----------------------------------------------------------------------

    def _ensure_listener(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is not None and not self._task.done() and self._task_loop is loop:
            return
        self._stop.clear()
        runner = {"redis": self._listen_redis, "postgres": self._listen_postgres, "poll": self._listen_poll}
        self._task = loop.create_task(runner[self.backend]())
        self._task_loop = loop

    async def _listen_poll(self) -> None:
        last = await asyncio.to_thread(self.last_id)
        while not self._stop.is_set():
            await asyncio.sleep(self.settings.staff_event_poll_s)
            if not self._waiters:
                continue
            try:
                newest = await asyncio.to_thread(self.last_id)
            except Exception:  # noqa: BLE001 - a database hiccup: try again next tick
                continue
            if newest > last:
                last = newest
                self._wake_local()

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        while not self._stop.is_set():
            client = aioredis.Redis.from_url(self.settings.redis_url)
            try:
                async with client.pubsub() as ps:
                    await ps.subscribe(CHANNEL)
                    while not self._stop.is_set():
                        msg = await ps.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if msg is not None:
                            self._wake_local()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis went away: retry, subscribers still poll the table
                log_event(log, "staff.events.redis_lost", level=30, error=type(exc).__name__)
                await asyncio.sleep(2.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _listen_pg_blocking(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                if select.select([conn], [], [], 1.0) == ([], [], []):
                    continue
                conn.poll()
                if conn.notifies:
                    conn.notifies.clear()
                    self._wake_local()
        finally:
            with contextlib.suppress(Exception):
                raw.invalidate()

    async def _listen_postgres(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self._listen_pg_blocking)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect
                log_event(log, "staff.events.listen_lost", level=30, error=type(exc).__name__)
                await asyncio.sleep(2.0)

    async def aclose(self) -> None:
        """Stop the listener (app shutdown)."""
        self._stop.set()
        self._wake_local()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, timeout=3)
        if self._redis is not None:
            with contextlib.suppress(Exception):
                self._redis.close()
            self._redis = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called (open streams end)."""
        return self._stop.is_set()


class _Subscription:
    def __init__(self, waiter: _Waiter):
        self._w = waiter

    async def wait(self, timeout: float) -> bool:
        """Wait until woken (``True``) or ``timeout`` seconds passed (``False``)."""
        try:
            await asyncio.wait_for(self._w.event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._w.event.clear()
