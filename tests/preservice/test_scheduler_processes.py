"""The reminder scheduler across processes, on SQLite and PostgreSQL (``db_url``).

- Two processes that both believe they lead (what a split brain would give) run at the same instant over one
  database: every reminder still reaches its inbox exactly once — the unique (licence, expiry, offset) row and
  the inbox message share one transaction, so the database alone keeps "never twice".
- A PostgreSQL leader whose database session is cut (a restarted PostgreSQL, a killed backend) no longer holds
  the advisory lock: it must notice, and not go on sending beside the new leader.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text

from assistant.db.preservice import Reminder
from assistant.settings import REPO_ROOT

_SCHEDULER_PROCESS = textwrap.dedent("""
    import asyncio, json, sys
    from datetime import datetime
    from assistant.container import build_services
    from assistant.preservice.runtime import build_preservice
    from assistant.settings import Settings

    url, now, data_dir = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
    services = build_services(Settings(environment="test", database_url=url, data_dir=data_dir, rasa_manage=False,
                                       staff_token=None), kb=None, rasa=None)
    pre = build_preservice(services, lambda: now)
    pre.scheduler.leadership.acquire = lambda: True  # both processes lead: only the database can keep it once
    print("ready", flush=True)
    sys.stdin.readline()                            # the test starts both at the same moment
    report = asyncio.run(pre.scheduler.run_once())
    print(json.dumps(report.as_dict(), default=str), flush=True)
""")

N = 6
EXPIRY = date(2027, 1, 1)  # the clock says 2026-12-01: 31 days before → the 60-day reminder is due (30 not yet)


def _scheduler_process(db_url: str, now: str, data_dir: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _SCHEDULER_PROCESS, db_url, now, data_dir], cwd=REPO_ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_two_leading_processes_at_once_deliver_each_reminder_once(db_services, db_pre, db_url, clock, tmp_path):
    lt = db_pre.catalogue.get("food_business")
    for i in range(N):
        db_pre.licences.register(licence_type=lt.key, licence_name=lt.name, number=f"JY151010600009{i:02d}",
                                 holder="蓉城小面馆", expiry_date=EXPIRY, session_id=f"two-proc-{i}", channel="web")
    procs = [_scheduler_process(db_url, clock().isoformat(), str(tmp_path / f"p{k}")) for k in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:                                  # go
            p.stdin.write("\n")
            p.stdin.flush()
        reports = [json.loads(p.stdout.readline()) for p in procs]
        for p in procs:
            assert p.wait(timeout=120) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert sum(r["sent"] for r in reports) == N, reports
    for i in range(N):
        inbox = db_services.conversations.staff_messages_after(f"two-proc-{i}", 0)
        assert len(inbox) == 1 and "还剩 31 天" in inbox[0].text
    with db_services.db.session() as s:
        rows = s.execute(select(Reminder.offset_days, Reminder.status, func.count())
                         .group_by(Reminder.offset_days, Reminder.status)).all()
    assert sorted(rows) == [(60, "sent", N)]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # an advisory lock lives in a PostgreSQL session
def test_a_postgres_leader_whose_session_was_cut_stops_leading(db_services, db_pre, clock):
    import asyncio

    from assistant.db.leader import Leadership

    lead = db_pre.scheduler.leadership
    assert lead.acquire() is True
    backend = lead._conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with db_services.db.engine.connect() as admin:  # the leader's database session is cut
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend}).scalar() is True
        # the backend ends (and its advisory lock goes) asynchronously: wait for it to be gone (a hang guard only)
        deadline = time.monotonic() + 60
        while admin.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": backend}).scalar():
            assert time.monotonic() < deadline, "the terminated backend never ended"
            time.sleep(0.05)
            admin.rollback()  # pg_stat_activity is a snapshot per transaction: look again in a new one
    # another process (a fresh Leadership object over the same database stands for it) takes the free lock
    other = Leadership(db_services.db, "reminders")
    try:
        assert other.acquire() is True
        assert lead.acquire() is False and lead.held is False   # the old leader noticed: it no longer leads
        lt = db_pre.catalogue.get("tobacco_retail")
        db_pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="510106107711",
                                 holder="测试便利店", expiry_date=EXPIRY, session_id="cut-1", channel="web")
        report = asyncio.run(db_pre.scheduler.run_once())
        assert report.leader is False and report.sent == 0
        other.release()
        assert lead.acquire() is True                              # and leads again once the lock is free
    finally:
        other.release()
