"""Migrations and the handoff/conversation stores, on SQLite and (JXE_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from assistant.db.session import Database, upgrade
from assistant.db.conversations import ConversationStore, HandoffStore, TicketClosed, TicketNotFound


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


def test_migrations_reach_every_head_and_are_idempotent(db_url):
    upgrade(db_url)
    upgrade(db_url)  # a second run is a no-op
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            versions = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        assert {"conversations", "messages", "handoff_tickets", "alembic_version"} <= tables
        from alembic.script import ScriptDirectory

        from assistant.db.session import alembic_config

        heads = set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
        assert versions == heads
        bases = ScriptDirectory.from_config(alembic_config(db_url)).get_bases()
        assert bases == ["0001"]
    finally:
        db.dispose()


def test_ticket_lifecycle(database):
    conv = ConversationStore(database)
    store = HandoffStore(database, conv)
    conv.record_turn("s-1", "web", "我电话13812345678，想办营业执照",
                     [{"type": "text", "text": "您要办理的应该是个体工商户设立登记"}], "ask_matter",
                     {"code": "JN-SC-001", "name": "个体工商户设立登记"})
    t = store.create("s-1", "web", "JN-SC-001", "个体工商户设立登记", "街道便民服务中心", None, "request_human")
    assert t.status == "open" and t.level == "街道便民服务中心"
    assert t.matter == {"code": "JN-SC-001", "name": "个体工商户设立登记"}
    joined = " ".join(line.text for line in t.transcript)
    assert "13812345678" not in joined and "138****5678" in joined  # masked for staff
    assert [line.role for line in t.transcript] == ["user", "bot"]

    # asking again while the ticket is open returns the same ticket
    again = store.create("s-1", "web", None, None, "区政务大厅", ["再问一下"], "request_human")
    assert again.id == t.id
    assert store.count() == 1 and store.count("open") == 1

    msg = store.reply(t.id, "您好，我是王老师，请带身份证原件到窗口。", "王老师")
    assert msg.staff_name == "王老师" and msg.ticket_id == t.id
    got = store.get(t.id)
    assert got.status == "answered" and got.staff_name == "王老师"
    assert got.transcript[-1].role == "staff"

    assert got.created_at.tzinfo is not None and msg.at.tzinfo is not None  # UTC-aware on every database
    delivered = conv.staff_messages_after("s-1", 0)
    assert [m.text for m in delivered] == ["您好，我是王老师，请带身份证原件到窗口。"]
    assert conv.staff_messages_after("s-1", delivered[-1].id) == []

    closed = store.close(t.id)
    assert closed.status == "closed" and closed.closed_at is not None
    assert store.close(t.id).status == "closed"  # idempotent
    with pytest.raises(TicketClosed):
        store.reply(t.id, "还在吗", "王老师")
    assert store.open_for_session("s-1") is None
    assert [x.id for x in store.list(status="closed")] == [t.id]
    assert store.list(status="open") == []

    # after closing, a new request opens a new ticket; an unknown level falls back to the district hall
    t2 = store.create("s-1", "web", level="火星", reason="two_failed_turns")
    assert t2.id != t.id and t2.level == "区政务大厅"
    assert [x.id for x in store.list()] == [t2.id, t.id]


def test_missing_tickets(database):
    store = HandoffStore(database)
    assert store.get(999) is None
    with pytest.raises(TicketNotFound):
        store.reply(999, "x", "y")
    with pytest.raises(TicketNotFound):
        store.close(999)


def test_reply_to_ticket_of_a_conversation_never_stored(database):
    """A channel may open a ticket before any turn was stored; the reply still reaches the session."""
    store = HandoffStore(database)
    t = store.create("wx-openid-1", "wechat", transcript=[{"role": "user", "text": "身份证510106199003071234"}])
    assert "510106199003071234" not in t.transcript[0].text
    store.reply(t.id, "请稍等", "李老师")
    assert [m.text for m in store.conversations.staff_messages_after("wx-openid-1")] == ["请稍等"]


def test_conversation_matter_and_failures(database):
    conv = ConversationStore(database)
    assert conv.current_matter("s-2") is None and not conv.exists("s-2")
    conv.record_turn("s-2", "web", "今天天气咋样", [{"type": "text", "text": "抱歉"}], "out_of_scope", None)
    assert conv.exists("s-2") and conv.recent_failures("s-2", 2) == 1
    conv.record_turn("s-2", "web", "营业执照", [], "ask_matter", {"code": "C1", "name": "营业执照"})
    assert conv.recent_failures("s-2", 1) == 0
    assert conv.current_matter("s-2") == {"code": "C1", "name": "营业执照"}
    conv.record_turn("s-2", "web", "要带啥", [], "ask_materials", None)
    assert conv.current_matter("s-2") == {"code": "C1", "name": "营业执照"}  # kept
