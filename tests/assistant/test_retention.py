"""The personal-data lifecycle in the database (issue 11 part 4): the retention purge (``jinxiaoer db purge``, the
scheduled leader-only run) and the erasure of one conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text, update

from assistant.db.chat import Conversation, DialogueStateRow, HandoffTicket, Message, TurnKey
from assistant.db.conversations import ConversationStore, HandoffStore
from assistant.db.feedback import Feedback
from assistant.db.preservice import Booking, Licence
from assistant.db.retention import ERASED_SESSION, RetentionJob, erase_session, purge
from assistant.db.session import Database
from assistant.db.wechat import WeChatDelivery, WeChatInbound, WeChatUser
from assistant.settings import REPO_ROOT, get_settings
from tests.leaders import kill_leader

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=3)


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    _migrate(db)
    yield db
    db.dispose()


def _migrate(db: Database) -> None:
    db.upgrade()
    with db.engine.begin() as conn:  # Rasa's SQL tracker-store table, as Rasa creates it in the app's database
        conn.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                          " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                          " action_name VARCHAR(255), data TEXT)"))


def _conversation(db: Database, sid: str, at: datetime, *, openid: str | None = None) -> None:
    conv = ConversationStore(db)
    conv.record_turn(sid, "web", "我电话13812345678", [{"type": "text", "text": "好的"}], "ask_matter", None)
    conv.claim_turn(sid, "m1")
    conv.finish_turn(sid, "m1", {"session_id": sid, "replies": []})
    with db.session() as s:
        s.add(DialogueStateRow(session_id=sid, state={"matter_code": "X"}))
        s.add(Feedback(session_id=sid, rating="up", answer_text="好的"))
        if openid:
            s.add(WeChatUser(openid=openid, session_id=sid))
            s.add(WeChatInbound(dedup_key=f"{openid}:1", openid=openid, status="answered", reply_chunks=["好的"]))
            s.add(WeChatDelivery(dedup_key=f"{openid}:1", openid=openid, content="好的"))
    HandoffStore(db, conv).create(sid, "web", None, None, "区政务大厅", None, "request_human")
    with db.session() as s:
        # one UPDATE per table with every timestamp (a second UPDATE would refresh ``updated_at``)
        for model, cols in ((Conversation, ("updated_at", "created_at")), (Message, ("created_at",)),
                            (TurnKey, ("created_at",)), (DialogueStateRow, ("updated_at",)),
                            (Feedback, ("created_at",))):
            s.execute(update(model).where(model.session_id == sid).values({c: at for c in cols}))
        s.execute(update(HandoffTicket).where(HandoffTicket.session_id == sid).values(
            status="closed", rating=4, created_at=at, updated_at=at))
        if openid:
            for model, cols in ((WeChatUser, ("updated_at",)), (WeChatInbound, ("updated_at",)),
                                (WeChatDelivery, ("created_at",))):
                s.execute(update(model).where(model.openid == openid).values({c: at for c in cols}))
        n = s.execute(text("SELECT count(*) FROM events")).scalar()
        for i, ev in enumerate(("session_started", "user", "slot")):
            s.execute(text("INSERT INTO events (id, sender_id, type_name, timestamp, data) "
                           "VALUES (:i, :s, :t, :ts, :d)"),
                      {"i": n + i + 1, "s": sid, "t": ev, "ts": at.timestamp(),
                       "d": json.dumps({"event": ev, "value": "13812345678"})})


def _count(db: Database, model, sid: str) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.session_id == sid))


def _events(db: Database, sid: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sid}).scalar()


def test_purge_deletes_what_is_past_retention_and_keeps_what_is_needed(database):
    _conversation(database, "old-1", OLD, openid="o-old")
    _conversation(database, "new-1", RECENT, openid="o-new")
    with database.session() as s:
        s.add(Booking(number="B-FUTURE", session_id="old-1", person_name="张三", phone="13812345678",
                      address="蜀汉路1号", street="营门口街道", matter_name="认证", visit_date=NOW.date() + timedelta(days=5),
                      half_day="上午", created_at=OLD, updated_at=OLD))
        s.add(Booking(number="B-PAST", session_id="old-1", person_name="李四", phone="13812345679",
                      address="蜀汉路2号", street="营门口街道", matter_name="认证", visit_date=date(2026, 1, 5),
                      half_day="上午", status="done", created_at=OLD, updated_at=OLD))
        s.add(Licence(session_id="old-1", licence_type="food", licence_name="食品经营许可证", number="JY1",
                      holder="王五", expiry_date=date(2027, 5, 1), status="active", created_at=OLD, updated_at=OLD))
        s.add(Licence(session_id="old-1", licence_type="food", licence_name="食品经营许可证", number="JY2",
                      holder="王五", expiry_date=date(2026, 3, 1), status="cancelled", created_at=OLD,
                      updated_at=OLD))

    counts = purge(database, 180, now=NOW)

    for model in (Conversation, Message, TurnKey, DialogueStateRow, Feedback):
        assert _count(database, model, "old-1") == 0, model.__tablename__
        assert _count(database, model, "new-1") > 0, model.__tablename__
    assert _events(database, "old-1") == 0 and _events(database, "new-1") == 3
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(WeChatInbound).where(WeChatInbound.openid == "o-old")) == 0
        assert s.scalar(select(func.count()).select_from(WeChatDelivery).where(WeChatDelivery.openid == "o-old")) == 0
        assert s.get(WeChatUser, "o-old") is None and s.get(WeChatUser, "o-new") is not None
        assert {b.number for b in s.scalars(select(Booking))} == {"B-FUTURE"}  # a future visit is kept
        assert {lic.number for lic in s.scalars(select(Licence))} == {"JY1"}  # active reminders are kept
        stub = s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == ERASED_SESSION)).one()
        assert stub.transcript == [] and stub.rating == 4 and stub.level == "区政务大厅"
        assert "1381234" not in json.dumps(stub.transcript) + str(stub.summary) + str(stub.reason)
        assert s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == "new-1")).one().transcript
    assert counts["conversations"] == 1 and counts["messages"] == 2 and counts["events"] == 3
    assert counts["ps_bookings"] == 1 and counts["ps_licences"] == 1 and counts["handoff_tickets"] == 1
    assert counts["wechat_inbound"] == 1 and counts["wechat_deliveries"] == 1 and counts["wechat_users"] == 1
    # a second run finds nothing more
    assert set(purge(database, 180, now=NOW).values()) == {0}


def test_purge_refuses_a_period_below_one_day(database):
    with pytest.raises(ValueError):
        purge(database, 0)


def test_erase_session_removes_the_conversation_and_keeps_an_anonymous_ticket_stub(database):
    _conversation(database, "me", RECENT, openid="o-me")
    _conversation(database, "other", RECENT)
    with database.session() as s:
        s.add(Booking(number="B1", session_id="me", person_name="张三", phone="13812345678", address="蜀汉路1号",
                      street="营门口街道", matter_name="认证", visit_date=NOW.date() + timedelta(days=5),
                      half_day="上午"))
    counts = erase_session(database, "me")
    for model in (Conversation, Message, TurnKey, DialogueStateRow, Feedback):
        assert _count(database, model, "me") == 0
        assert _count(database, model, "other") > 0
    assert _events(database, "me") == 0 and _events(database, "other") == 3
    assert _count(database, HandoffTicket, "me") == 0
    with database.session() as s:
        stubs = list(s.scalars(select(HandoffTicket).where(HandoffTicket.session_id == ERASED_SESSION)))
        assert len(stubs) == 1 and stubs[0].transcript == [] and stubs[0].rating == 4
        assert s.scalars(select(Booking)).one().session_id is None  # the visit still happens, detached
        assert s.scalar(select(func.count()).select_from(WeChatDelivery).where(WeChatDelivery.openid == "o-me")) == 0
    assert counts["messages"] == 2 and counts["events"] == 3 and counts["handoff_tickets"] == 1


_HOLDER = textwrap.dedent("""
    import sys, time
    from assistant.db.session import Database
    from assistant.db.leader import Leadership
    print("leader" if Leadership.of(Database(sys.argv[1]), "retention").acquire() else "follower", flush=True)
    time.sleep(60)
""")


def test_the_scheduled_purge_runs_on_the_leader_only(db_url):
    db = Database(db_url)
    _migrate(db)
    job = RetentionJob(db, 180, clock=lambda: NOW)
    try:
        _conversation(db, "old", OLD)
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER, db_url], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert holder.stdout.readline().strip() == "leader"
            assert asyncio.run(job.run_once()) is None  # another process leads: this one purges nothing
            assert _count(db, Conversation, "old") == 1
        finally:
            kill_leader(holder, db_url, "retention")
        counts = asyncio.run(job.run_once())  # the leader is gone: this process takes over
        assert counts is not None and counts["conversations"] == 1
        assert _count(db, Conversation, "old") == 0
    finally:
        asyncio.run(job.stop())
        db.dispose()


def test_retention_zero_turns_the_scheduled_purge_off(database):
    _conversation(database, "old", OLD)
    assert asyncio.run(RetentionJob(database, 0, clock=lambda: NOW).run_once()) is None
    assert _count(database, Conversation, "old") == 1


def test_cli_db_purge_reports_counts_per_table(db_url, monkeypatch, capsys):
    from assistant.cli import main

    db = Database(db_url)
    db.upgrade()
    _old_by_wall_clock = datetime.now(timezone.utc) - timedelta(days=40)
    with db.session() as s:
        s.add(Conversation(session_id="cli-old", channel="web", created_at=_old_by_wall_clock,
                           updated_at=_old_by_wall_clock))
        s.add(Conversation(session_id="cli-new", channel="web"))
    db.dispose()
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("JXE_SETTINGS_FILE", "/nonexistent.yml")
    get_settings.cache_clear()  # the CLI reads the process-wide settings
    assert main(["db", "purge", "--older-than", "30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["older_than_days"] == 30 and out["deleted"]["conversations"] == 1
    db = Database(db_url)
    try:
        assert _count(db, Conversation, "cli-new") == 1 and _count(db, Conversation, "cli-old") == 0
    finally:
        db.dispose()
    assert main(["db", "purge", "--older-than", "0"]) == 2
    get_settings.cache_clear()
