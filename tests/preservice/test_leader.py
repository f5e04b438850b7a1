"""Two processes never both send reminders: only the leader's scheduler runs (PostgreSQL advisory lock, or a lock
file beside a SQLite database); when the leader goes, another process takes over."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from assistant.settings import REPO_ROOT
from tests.leaders import kill_leader

_OTHER_PROCESS = textwrap.dedent("""
    import sys, time
    from assistant.db.session import Database
    from assistant.db.leader import Leadership
    lead = Leadership.of(Database(sys.argv[1]), "reminders")
    print("leader" if lead.acquire() else "follower", flush=True)
    if sys.argv[2] == "hold":
        time.sleep(30)
""")


def _other(db_url: str, mode: str = "ask") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _OTHER_PROCESS, db_url, mode], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, text=True)


def test_only_the_leader_sends_and_another_process_takes_over(make_settings, kb, db_url, clock):
    from assistant.container import build_services
    from assistant.preservice.runtime import set_clock

    services = build_services(make_settings(database_url=db_url), kb=kb, rasa=None)
    services.db.upgrade()
    try:
        holder = _other(db_url, "hold")
        assert holder.stdout.readline().strip() == "leader"
        pre = set_clock(services, clock)
        lt = pre.catalogue.get("tobacco_retail")
        pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="510106107799", holder="测试便利店",
                              expiry_date=clock().date().replace(day=8), session_id="lead-1", channel="web")
        report = asyncio.run(pre.scheduler.run_once())
        assert report.leader is False and report.sent == 0  # the other process leads: this one sends nothing
        kill_leader(holder, db_url, "reminders")
        report = asyncio.run(pre.scheduler.run_once())
        assert report.leader is True and report.sent == 1    # the leader died: this process took over
        other = _other(db_url)
        assert other.stdout.readline().strip() == "follower"  # …and now the other one must wait
        other.wait()
        asyncio.run(pre.scheduler.stop())
        other = _other(db_url)
        assert other.stdout.readline().strip() == "leader"
        other.wait()
    finally:
        services.db.dispose()
