"""Benchmark: the dashboard's figures (``GET /api/v1/stats``) over a busy quarter.

``run(settings)`` writes 100,000 citizen turns (two per conversation, four channels, 90 days), 5,000 handoff
tickets, 5,000 👍/👎, 2,000 home-visit bookings and 1,000 new firms into a migrated database, then times
``assistant.staff.stats.compute`` for 7, 30 and 90 days (best of 3) — on SQLite, and on PostgreSQL in a
throw-away schema when ``JXE_TEST_POSTGRES_URL`` is set.

Run alone: ``.venv/bin/python -m bench.dashboard``.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from assistant.settings import Settings

TURNS = 100_000
NOW = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
CHANNELS = ("web", "widget", "kiosk", "wechat_mp")
STREETS = ("西安路街道", "抚琴街道", "西华街道", "人民北路街道", "荷花池街道")


def _seed(db, codes: list[str]) -> None:
    from assistant.db.chat import Conversation, HandoffTicket, Message
    from assistant.db.feedback import Feedback
    from assistant.db.preservice import Booking, NewFirm

    rnd = random.Random(7)
    convs, msgs = [], []
    for i in range(TURNS // 2):
        sid = f"bench-{i}"
        at = NOW - timedelta(seconds=rnd.randrange(90 * 86400))
        convs.append({"session_id": sid, "channel": CHANNELS[i % 4], "created_at": at, "updated_at": at})
        for k in range(2):
            r = rnd.random()
            outcome = "fallback" if r < 0.12 else "matter" if r < 0.8 else "clarify" if r < 0.9 else "other"
            msgs.append({"session_id": sid, "role": "user", "text": f"问题{rnd.randrange(3000)}",
                         "intent": "nlu_fallback" if outcome == "fallback" else "ask_matter", "outcome": outcome,
                         "matter_code": rnd.choice(codes) if outcome == "matter" else None,
                         "created_at": at + timedelta(seconds=30 * k)})
    tickets = []
    for i in range(5000):
        at = NOW - timedelta(seconds=rnd.randrange(90 * 86400))
        tickets.append({"session_id": f"bench-{i * 7}", "channel": "web", "level": "区政务大厅", "status": "closed",
                        "reason": "", "transcript": [], "labels": [], "created_at": at, "updated_at": at,
                        "claimed_at": at + timedelta(seconds=rnd.randrange(30, 600)),
                        "first_reply_at": at + timedelta(seconds=rnd.randrange(60, 900)),
                        "closed_at": at + timedelta(seconds=rnd.randrange(900, 3600)),
                        "rating": rnd.choice((None, 3, 4, 5))})
    feedback = [{"session_id": f"bench-{i}", "message_ref": "", "rating": rnd.choice(("up", "up", "down")),
                 "channel": "widget", "answer_text": "", "comment": "",
                 "created_at": NOW - timedelta(seconds=rnd.randrange(90 * 86400))} for i in range(5000)]
    bookings = [{"number": f"SMB{i:09d}", "channel": "web", "person_name": "某", "person_note": "", "phone": "",
                 "address": "", "street": STREETS[i % 5], "matter_name": "认证", "visit_date": date(2026, 12, 3),
                 "half_day": "上午", "status": rnd.choice(("booked", "confirmed", "done")), "staff_note": "",
                 "created_at": NOW - timedelta(seconds=rnd.randrange(90 * 86400))} for i in range(2000)]
    firms = []
    for i in range(1000):
        at = NOW - timedelta(seconds=rnd.randrange(90 * 86400))
        firms.append({"name": f"企业{i}", "credit_code": f"BENCH{i:013d}", "address": "", "industry": "",
                      "registration_date": date(2026, 11, 1), "street": STREETS[i % 5], "queue_status": "open",
                      "welcome_status": "no_channel", "staff_note": "", "created_at": at,
                      "acknowledged_at": at + timedelta(hours=rnd.randrange(1, 30)) if rnd.random() < 0.8 else None})
    with db.engine.begin() as conn:
        conn.execute(Conversation.__table__.insert(), convs)
        for i in range(0, len(msgs), 20_000):
            conn.execute(Message.__table__.insert(), msgs[i:i + 20_000])
        conn.execute(HandoffTicket.__table__.insert(), tickets)
        conn.execute(Feedback.__table__.insert(), feedback)
        conn.execute(Booking.__table__.insert(), bookings)
        conn.execute(NewFirm.__table__.insert(), firms)


def _time(db, codes: list[str]) -> list[str]:
    from assistant.staff.stats import compute

    t0 = time.perf_counter()
    _seed(db, codes)
    out = [f"seeded in {time.perf_counter() - t0:.1f} s"]
    today = date(2026, 12, 1)
    for days in (7, 30, 90):
        best = min(_once(compute, db, days, today) for _ in range(3))
        figures = compute(db, days, today)
        out.append(f"days={days}: {best * 1000:.0f} ms ({figures['turns']:,} turns, {figures['sessions']:,} "
                   f"conversations, fallback rate {figures['fallback_rate']:.3f})")
    return out


def _once(compute, db, days: int, today: date) -> float:
    t0 = time.perf_counter()
    compute(db, days, today)
    return time.perf_counter() - t0


def run(settings: Settings | None = None) -> str:
    """Run the dashboard benchmark; returns markdown."""
    import sqlalchemy as sa

    from assistant.container import load_kb
    from assistant.db.session import Database, make_engine

    base = settings or Settings(environment="test")
    kb = load_kb(base)
    codes = [m.code for m in kb.matters[:300]]
    lines = ["## Dashboard figures (`GET /api/v1/stats`)", "",
             f"{TURNS:,} turns in {TURNS // 2:,} conversations over 90 days, 5,000 tickets, 5,000 👍/👎, 2,000 "
             "bookings, 1,000 new firms; time of one `stats.compute` (best of 3):", ""]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'dash.db'}")
        try:
            db.upgrade()
            lines += [f"- SQLite: {x}" for x in _time(db, codes)]
        finally:
            db.dispose()
    pg = os.environ.get("JXE_TEST_POSTGRES_URL")
    if pg:
        schema = f"jxe_bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in pg else "?"
        db = Database(f"{pg}{sep}options={quote(f'-csearch_path={schema}')}")
        try:
            db.upgrade()
            lines += [f"- PostgreSQL: {x}" for x in _time(db, codes)]
        finally:
            db.dispose()
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    else:
        lines.append("- PostgreSQL: not run (JXE_TEST_POSTGRES_URL unset)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
