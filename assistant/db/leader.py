"""One leader among the app's processes for work that must run once (the reminder scheduler).

On PostgreSQL the leader holds a session advisory lock on a connection of its own: when the process dies, the
connection closes and the lock is free for another replica. A leader checks that its session is still alive each
time it asks (a restarted PostgreSQL or a killed backend takes the lock away without telling the process). On a SQLite file, a lock file beside the database does
the same for processes on one machine. An in-memory database has one process: it always leads.
"""

from __future__ import annotations

import fcntl
import threading
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import text

from assistant.logging import get_logger, log_event

log = get_logger(__name__)


_SHARED: dict[tuple[str, str], "Leadership"] = {}
_SHARED_LOCK = threading.Lock()


class Leadership:
    """Leadership for the job ``name`` over the app's database. Use :meth:`of`: every object of one process for
    the same database and job shares one leadership (a process leads or not as a whole).

    Args:
        db: the app database (``assistant.db.session.Database``).
        name: the job (its advisory-lock key is derived from it).
    """

    @classmethod
    def of(cls, db: Any, name: str) -> "Leadership":
        """The process's leadership of ``name`` over ``db``'s database."""
        key = (db.engine.url.render_as_string(hide_password=False), name)
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls(db, name)
            return _SHARED[key]

    def __init__(self, db: Any, name: str):
        self.db = db
        self.name = name
        # the URL is part of the key: deployments in other schemas of one database do not share a leader
        url = db.engine.url.render_as_string(hide_password=True)
        self.key = zlib.crc32(f"jinxiaoer:{name}:{url}".encode())
        self._conn: Any = None
        self._file: Any = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this process leads now."""
        return self._conn is not None or self._file is not None or self._always

    @property
    def _always(self) -> bool:
        url = self.db.engine.url
        return url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:")

    def acquire(self) -> bool:
        """Become the leader if nobody is (non-blocking; idempotent). Returns whether this process leads."""
        with self._lock:
            if self._conn is not None and not self._session_alive():
                # the session that held the advisory lock is gone (PostgreSQL restarted, backend killed): so is
                # the lock, and another process may lead by now — ask again like a newcomer
                self._drop_conn()
                log_event(log, "leader.lost", job=self.name)
            if self.held:
                return True
            url = self.db.engine.url
            if url.get_backend_name() == "postgresql":
                conn = self.db.engine.connect()
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
                conn.commit()
                if got:
                    self._conn = conn
                else:
                    conn.close()
            else:
                path = Path(str(url.database)).expanduser().with_suffix(f".{self.name}.lock")
                fh = open(path, "a+")
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._file = fh
                except OSError:
                    fh.close()
            if self.held:
                log_event(log, "leader.acquired", job=self.name)
            return self.held

    def _session_alive(self) -> bool:
        """Whether the leader's own PostgreSQL session still exists (it holds the advisory lock while it does)."""
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - any failure means the session (and the lock) is gone
            return False

    def _drop_conn(self) -> None:
        try:
            self._conn.invalidate()
            self._conn.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
        self._conn = None

    def release(self) -> None:
        """Stop leading (the next process that asks leads)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self._conn.commit()
                    self._conn.close()
                    self._conn = None
                except Exception:  # noqa: BLE001 - the session is gone, and the lock with it
                    self._drop_conn()
                log_event(log, "leader.released", job=self.name)
            if self._file is not None:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
                self._file = None
                log_event(log, "leader.released", job=self.name)
