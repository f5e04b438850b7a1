"""Fault benchmark (``make bench``; alone: ``.venv/bin/python -m bench.fault``): the production topology under
load while its members are killed.

``jinxiaoer cluster up --app-replicas 2 --rasa-replicas 2`` on a fresh PostgreSQL database and a Redis server of
its own (so ``CLIENT KILL`` hits nobody else), HAProxy in front. 16 clients run the authored conversations for a
minute through the balancer (each message with a ``message_id``; one retry with the same id after a failure) while

* t = 15 s: one app replica gets SIGKILL,
* t = 25 s: one Rasa server gets SIGKILL,
* t = 35 s and 45 s: Redis drops every client connection (``CLIENT KILL TYPE normal``).

Then it checks, and writes as numbers: turns answered normally (not degraded, ≤ 1 retry) ≥ 99 %; no turn lost
(every message answered is stored once: one ``turn_keys`` row ``done`` and one user message each); every «转人工»
made exactly one ticket; the killed members are back (alive, healthy, restarted); the reminders that were due when
both replicas started (two schedulers racing, one of them killed and restarted) were each sent exactly once.

Why a benchmark and not a test: starting the topology (two NLU stacks, two Rasa servers) takes 1–5 minutes on
this shared 2-core machine on top of the minute of load, well past the 2–3 minutes a test in ``make test`` may
take; the pass/fail checks are written beside the numbers (a failed one in bold, with the turns that were not
answered normally).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from assistant.db.session import make_engine
from assistant.settings import REPO_ROOT, Settings
from bench._load import HUMAN, run_load, sequential

CLIENTS, DURATION_S, CLEAN_S = 16, 60.0, 20.0
FAULTS = ((15.0, "kill", "app-1"), (25.0, "kill", "rasa-1"), (35.0, "redis", ""), (45.0, "redis", ""))
LICENCES = 30
STAFF_TOKEN = "Fb7-Staff-" + uuid.uuid4().hex


def _free_base() -> int:
    """A port P with P … P+90 free."""
    for _ in range(200):
        base = 20000 + (uuid.uuid4().int % 400) * 100
        ok = True
        for p in (base, base + 1, base + 2, *range(base + 11, base + 15), *range(base + 51, base + 55)):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """A fresh database, a private Redis and a cluster run dir; ``up()`` / ``down()`` the cluster."""

    def __init__(self, app_replicas: int = 2, rasa_replicas: int = 2):
        self.tmp = Path(tempfile.mkdtemp(prefix="jxe-bench-fault-"))
        admin = os.environ.get("JXE_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
        self.dbname = f"jxe_fault_{uuid.uuid4().hex[:8]}"
        self.admin = make_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.dbname}"'))
        self.db_url = make_url(admin).set(database=self.dbname).render_as_string(hide_password=False)
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed (scripts/test.sh installs it)")
        self.redis_port = _free_port()
        self.redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        self.port = _free_base()
        self.app_replicas, self.rasa_replicas = app_replicas, rasa_replicas
        self.run_dir = self.tmp / "cluster"
        self.env = {**os.environ, "DATABASE_URL": self.db_url, "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                    "JXE_DATA_DIR": str(self.tmp / "var"), "JXE_STAFF_TOKEN": STAFF_TOKEN,
                    # limits on (counted in Redis, so CLIENT KILL hits the apps too) but far above the load
                    "JXE_RATE_LIMIT_IP_PER_MIN": "1000000", "JXE_RATE_LIMIT_SESSION_PER_MIN": "10000",
                    # every load client comes from 127.0.0.1: the daily caps per address would stop its tickets
                    "JXE_CAP_TICKETS_PER_IP_DAY": "1000000", "JXE_CAP_BOOKINGS_PER_IP_DAY": "1000000",
                    "JXE_LOG_LEVEL": "WARNING", "RASA_TELEMETRY_ENABLED": "false"}
        for k in ("JXE_DATABASE_URL", "JXE_REDIS_URL", "JXE_SETTINGS_FILE"):
            self.env.pop(k, None)
        self.engine = make_engine(self.db_url)
        self.jx = str(REPO_ROOT / ".venv" / "bin" / "jinxiaoer")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        return subprocess.run([self.jx, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout)

    def up(self) -> float:
        t0 = time.perf_counter()
        r = self.cli("cluster", "up", "--app-replicas", str(self.app_replicas), "--rasa-replicas",
                     str(self.rasa_replicas), "--port", str(self.port), "--run-dir", str(self.run_dir),
                     "--timeout", "1500")
        if r.returncode != 0:
            raise RuntimeError(f"cluster up failed ({r.returncode}): {r.stderr[-2000:]}")
        return time.perf_counter() - t0

    def status(self, probe: bool = True) -> dict:
        from assistant.commands.cluster import status

        return status(self.run_dir, probe=probe)

    def redis_kill_clients(self) -> int:
        import redis

        r = redis.Redis(port=self.redis_port)
        try:
            return int(r.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
        finally:
            r.close()

    def down(self) -> None:
        try:
            self.cli("cluster", "down", "--run-dir", str(self.run_dir), timeout=120)
        finally:
            self.redis.terminate()
            self.engine.dispose()
            try:
                with self.admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
            finally:
                self.admin.dispose()
                shutil.rmtree(self.tmp, ignore_errors=True)


def _seed_licences(stack: Stack) -> None:
    """Licences whose 7-day reminder is due today: both replicas' schedulers race for them at start."""
    r = stack.cli("db", "upgrade", timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"db upgrade failed: {r.stderr[-1500:]}")
    expiry = dt.date.today() + dt.timedelta(days=5)
    with stack.engine.begin() as c:
        for i in range(LICENCES):
            c.execute(text("INSERT INTO conversations (session_id, channel, created_at, updated_at) "
                           "VALUES (:s, 'web', now(), now())"), {"s": f"lic-{i}"})
            c.execute(text(
                "INSERT INTO ps_licences (session_id, licence_type, licence_name, number, holder, expiry_date, "
                "channel, source, status, created_at, updated_at) VALUES (:s, 'food_business', '食品经营许可证', "
                ":n, '测试小店', :e, 'web', 'chat', 'active', now(), now())"),
                {"s": f"lic-{i}", "n": f"JY1510106{i:07d}", "e": expiry})


def run(settings: Settings) -> str:
    """Run the fault scenario; returns the markdown section (raises when a check fails, after writing it)."""
    load_avg = os.getloadavg()
    stack = Stack()
    lines: list[str] = []
    try:
        _seed_licences(stack)
        up_s = stack.up()
        before = {m["name"]: m for m in stack.status()["members"]}
        sequential(stack.url, rounds=1, prefix="warm")
        clean = run_load(stack.url, CLIENTS, CLEAN_S, prefix="clean", timeout_s=60)  # no faults: capacity
        fault_log: list[str] = []

        def faults() -> None:
            t0 = time.perf_counter()
            for at, kind, target in FAULTS:
                time.sleep(max(0.0, at - (time.perf_counter() - t0)))
                if kind == "kill":
                    pid = next(m["pid"] for m in stack.status(probe=False)["members"] if m["name"] == target)
                    os.kill(pid, signal.SIGKILL)
                    fault_log.append(f"t={at:.0f} s SIGKILL {target} (pid {pid})")
                else:
                    n = stack.redis_kill_clients()
                    fault_log.append(f"t={at:.0f} s Redis CLIENT KILL: {n} connections dropped")

        th = threading.Thread(target=faults, daemon=True)
        th.start()
        load = run_load(stack.url, CLIENTS, DURATION_S, prefix="fault", timeout_s=60)
        th.join()

        # the killed members come back
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            after = stack.status()["members"]
            if all(m["alive"] and m["healthy"] for m in after):
                break
            time.sleep(2)
        back_s = None
        after = {m["name"]: m for m in stack.status()["members"]}
        killed = [t for _, k, t in FAULTS if k == "kill"]
        members_back = all(after[n]["alive"] and after[n]["healthy"] and after[n]["restarts"] >= 1 for n in killed)
        others_kept = all(after[n]["restarts"] == 0 for n in after if n not in killed)

        # the database's view of the run
        with stack.engine.connect() as c:
            keys = {(s, m): st for s, m, st in c.execute(text(
                "SELECT session_id, message_id, status FROM turn_keys WHERE session_id LIKE 'fault-%'"))}
            user_msgs = Counter(s for (s,) in c.execute(text(
                "SELECT session_id FROM messages WHERE role = 'user' AND session_id LIKE 'fault-%'")))
            tickets = Counter(s for (s,) in c.execute(text(
                "SELECT session_id FROM handoff_tickets WHERE session_id LIKE 'fault-%'")))
            reminders = Counter(s for (s,) in c.execute(text(
                "SELECT session_id FROM messages WHERE role = 'staff' AND session_id LIKE 'lic-%'")))
            rem_rows = c.execute(text("SELECT status, count(*) FROM ps_reminders GROUP BY status")).all()

        turns = load.turns
        answered = [t for t in turns if t.outcome != "failed"]
        normal = [t for t in turns if t.outcome == "ok"]
        sent_per_session = Counter(t.session for t in answered)
        lost = [t for t in answered if keys.get((t.session, t.message_id)) != "done"]
        dup_or_lost_sessions = [s for s, n in sent_per_session.items() if user_msgs.get(s, 0) != n]
        human_sessions = {t.session for t in answered if t.text == HUMAN}
        bad_tickets = {s: tickets.get(s, 0) for s in human_sessions if tickets.get(s, 0) != 1}
        extra_tickets = {s: n for s, n in tickets.items() if s not in human_sessions}
        reminders_ok = (len(reminders) == LICENCES and all(n == 1 for n in reminders.values()))
        share = len(normal) / len(turns) if turns else 0.0
        checks = {
            "≥ 99 % of turns answered normally (≤ 1 retry)": share >= 0.99,
            "no turn lost or run twice": not lost and not dup_or_lost_sessions,
            "every «转人工» exactly one ticket": not bad_tickets and not extra_tickets,
            "killed members back (alive, healthy, restarted)": members_back,
            "other members never restarted": others_kept,
            "each due reminder sent exactly once (two schedulers)": reminders_ok,
        }
        errors = Counter(t.error.split("→")[0] for t in turns if t.error)
        lines += [
            "## Faults: the cluster under load while members die (`bench/fault.py`)",
            "",
            f"`jinxiaoer cluster up --app-replicas 2 --rasa-replicas 2` on PostgreSQL + a private Redis, HAProxy in "
            f"front (up in {up_s:.0f} s). {CLIENTS} clients × {DURATION_S:.0f} s through the balancer, authored "
            f"conversations, a `message_id` on every message and one retry with it after a failure. "
            f"Load average at start: {', '.join(f'{x:.1f}' for x in load_avg)}.",
            "",
            "Faults: " + "; ".join(fault_log) + ".",
            "",
            "| measure | value |",
            "|---|---|",
            f"| before the faults: {CLIENTS} clients × {CLEAN_S:.0f} s, normal turns/s, p50 / p95 | "
            f"{clean.throughput():.1f} turns/s, {clean.p50():.0f} / {clean.pct(0.95):.0f} ms "
            f"({len(clean.turns) - len(clean.ok())} not normal) |",
            f"| turns under faults | {len(turns)} ({len(normal)} normal, {sum(t.outcome == 'degraded' for t in turns)} degraded, "
            f"{sum(t.outcome == 'failed' for t in turns)} failed) |",
            f"| answered normally | {share * 100:.2f} % |",
            f"| retried once (same message_id) | {sum(t.retried for t in turns)} "
            f"({sum(t.retried and t.outcome == 'ok' for t in turns)} then answered normally) |",
            f"| first-try errors | {dict(errors) or 'none'} |",
            f"| throughput under faults (normal turns/s) | {load.throughput():.1f} |",
            f"| turn p50 / p95 / max (normal) | {load.p50():.0f} / {load.pct(0.95):.0f} / {load.pct(1.0):.0f} ms |",
            f"| turns not stored as done / sessions with lost or doubled messages | {len(lost)} / "
            f"{len(dup_or_lost_sessions)} |",
            f"| «转人工» sessions / with ≠ 1 ticket | {len(human_sessions)} / {len(bad_tickets) + len(extra_tickets)} |",
            f"| restarts after the run | "
            f"{', '.join(n + ' ' + str(m['restarts']) for n, m in after.items())} |",
            f"| reminders due at start / inbox messages / sessions with ≠ 1 | {LICENCES} / {sum(reminders.values())} / "
            f"{sum(1 for n in reminders.values() if n != 1) + LICENCES - len(reminders)} "
            f"(ps_reminders: {dict((s, n) for s, n in rem_rows)}) |",
            "",
            "| check | result |",
            "|---|---|",
            *[f"| {k} | {'pass' if v else '**FAIL**'} |" for k, v in checks.items()],
            "",
        ]
        del before, back_s
        failed = [k for k, v in checks.items() if not v]
        if failed:
            lines.append(f"Failed checks: {failed}; turns that failed: "
                         f"{[(round(t.t, 1), t.text, t.error) for t in turns if t.outcome != 'ok'][:20]}")
        return "\n".join(lines)
    finally:
        stack.down()


if __name__ == "__main__":
    print(run(Settings()))
