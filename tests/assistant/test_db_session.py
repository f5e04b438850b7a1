"""The database layer's cheap paths keep their guarantees: single-statement sessions and the state upsert store what
they should on SQLite and PostgreSQL, and a pooled PostgreSQL connection that died while idle is replaced before a
request uses it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from assistant.db import session as db_session
from assistant.db.chat import DialogueStateRow
from assistant.db.session import Database
from assistant.dialogue.state import DialogueState, StateStore


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()


def test_state_save_creates_then_replaces_one_row(database):
    states = StateStore(database)
    assert states.load("s1") == DialogueState()  # a new conversation has a fresh state
    states.save("s1", DialogueState(matter_code="A1", matter_name="甲"))
    states.save("s1", DialogueState(matter_code="B2", matter_name="乙", candidates=["X", "Y"]))
    got = states.load("s1")
    assert (got.matter_code, got.matter_name, got.candidates) == ("B2", "乙", ["X", "Y"])
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM dialogue_states")).scalar() == 1
        assert s.get(DialogueStateRow, "s1").updated_at is not None


def test_concurrent_first_saves_of_one_conversation_leave_one_row(database):
    states = StateStore(database)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def save(i: int) -> None:
        try:
            start.wait()
            states.save("same", DialogueState(matter_code=f"M{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert states.load("same").matter_code in {"M0", "M1", "M2", "M3"}
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM dialogue_states")).scalar() == 1


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # only a server closes connections
def test_an_idle_connection_the_server_closed_is_replaced_before_use(monkeypatch, db_url):
    monkeypatch.setattr(db_session, "PING_IDLE_S", 0.0)  # every returned connection counts as idle
    db = Database(db_url)
    try:
        db.upgrade()
        with db.engine.connect() as conn:  # the transaction pool's connection
            in_transactions = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        single = db.first(text("SELECT pg_backend_pid()"))[0]  # the single-statement pool's
        admin = Database(db_url)
        with admin.engine.connect() as conn:  # the server ends both (restart, idle timeout)
            for pid in (in_transactions, single):
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            conn.commit()
        admin.dispose()
        StateStore(db).save("after", DialogueState(matter_code="D4"))  # would fail on the dead connections
        assert StateStore(db).load("after").matter_code == "D4"
        with db.session() as s:
            assert s.get(DialogueStateRow, "after") is not None
            assert s.execute(text("SELECT pg_backend_pid()")).scalar() not in (in_transactions, single)
    finally:
        db.dispose()
