"""Killing the process that leads a background job, for the tests.

When a leader process dies, its lock goes with it, but not at the same instant: a lock file is released by the
kernel as the process exits, while PostgreSQL ends the dead client's backend (and its session advisory lock) a
moment after it notices the closed connection. A test that kills the leader and at once expects another process
to take over is racing the database. ``kill_leader`` kills the process and then waits until its lock is really
gone; the wait is a hang guard only (a lock that outlives it fails the test).
"""

from __future__ import annotations

import subprocess
import time

from sqlalchemy import text

from assistant.db.leader import Leadership
from assistant.db.session import Database

__all__ = ["kill_leader"]

#: Longest wait for a dead leader's PostgreSQL backend to drop its lock (catches a hang, never a slow machine).
HANG_GUARD_S = 60.0


def kill_leader(proc: subprocess.Popen, db_url: str, job: str) -> None:
    """SIGKILL ``proc`` (a process leading ``job`` on ``db_url``) and wait until its leadership lock is free."""
    proc.kill()
    proc.wait()
    if not db_url.startswith("postgresql"):
        return  # the lock file is released when the process exits
    db = Database(db_url)
    try:
        key = Leadership(db, job).key
        deadline = time.monotonic() + HANG_GUARD_S
        with db.engine.connect() as conn:
            while conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                                    "AND granted"), {"k": key}).scalar():
                assert time.monotonic() < deadline, f"the dead leader's lock on {job!r} was never released"
                time.sleep(0.05)
                conn.rollback()
    finally:
        db.dispose()
