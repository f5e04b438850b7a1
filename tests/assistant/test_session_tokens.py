"""Citizen session credentials (issue 11): a conversation is read and continued only with the session token its
first turn returned — on SQLite and PostgreSQL. Each test names the finding it closes; on the code before the
tokens, every one of them fails (anyone who knew or guessed a ``session_id`` could do all of this)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from assistant.api.citizen import TOKEN_HEADER, hash_token, open_or_check
from assistant.app import create_app
from assistant.db.chat import Conversation
from tests.citizen import citizen_client

CHAT = "/api/v1/chat"


@pytest.fixture
def app(make_settings, kb, db_url):
    return create_app(make_settings(database_url=db_url, staff_token="test-staff-token"), kb=kb,
                      load_models=False, rasa=None)


def _error(r) -> str:
    return r.json()["error"]


def test_the_first_turn_returns_a_token_and_only_its_hash_is_stored(app):
    with TestClient(app) as c:
        first = c.post(CHAT, json={"session_id": "tok-1", "text": "你好", "message_id": "m-1"}).json()
        token = first["session_token"]
        assert isinstance(token, str) and len(token) >= 32  # 24 random bytes, URL-safe
        second = c.post(CHAT, json={"session_id": "tok-1", "text": "营业执照"}, headers={TOKEN_HEADER: token})
        assert second.status_code == 200 and second.json()["session_token"] is None  # only the first turn has one
        db = app.state.services.db
        with db.session() as s:
            assert s.get(Conversation, "tok-1").token_hash == hashlib.sha256(token.encode()).hexdigest()
        with db.engine.connect() as conn:  # the token itself is nowhere in the database
            for table in ("conversations", "messages", "turn_keys"):
                rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
                assert rows and token not in repr(rows), table


def test_a_later_turn_without_the_token_is_401_and_with_a_wrong_one_403(app):
    """Finding: anyone who knew a session id could continue that citizen's conversation."""
    with TestClient(app) as c:
        token = c.post(CHAT, json={"session_id": "tok-2", "text": "你好"}).json()["session_token"]
        missing = c.post(CHAT, json={"session_id": "tok-2", "text": "我的预约"})
        assert missing.status_code == 401 and _error(missing) == "session_token_required"
        assert "会话凭证" in missing.json()["message"] and "session_token" in missing.json()["message"]
        wrong = c.post(CHAT, json={"session_id": "tok-2", "text": "我的预约"}, headers={TOKEN_HEADER: token[:-2] + "xx"})
        assert wrong.status_code == 403 and _error(wrong) == "session_token_invalid"
        in_body = c.post(CHAT, json={"session_id": "tok-2", "text": "谢谢", "session_token": token})
        assert in_body.status_code == 200
        long = c.post(CHAT, json={"session_id": "tok-2", "text": "谢谢", "session_token": "x" * 129})
        assert long.status_code == 413 and _error(long) == "invalid_request"  # the app's "too long" answer


def test_another_sessions_transcript_cannot_be_read(app):
    """Finding: ``GET /api/v1/chat/{session_id}/messages`` answered anyone who knew or guessed the id."""
    with TestClient(app) as c:
        token = c.post(CHAT, json={"session_id": "tok-3", "text": "/request_human"}).json()["session_token"]
        ticket = app.state.services.handoffs.open_for_session("tok-3")
        app.state.services.handoffs.reply(ticket.id, "您好，我是金帮办专员，请留下电话。", "小王")
        url = f"{CHAT}/tok-3/messages"
        assert c.get(url).status_code == 401
        assert c.get(url, headers={TOKEN_HEADER: "guess"}).status_code == 403
        other = c.post(CHAT, json={"session_id": "tok-3b", "text": "你好"}).json()["session_token"]
        assert c.get(url, headers={TOKEN_HEADER: other}).status_code == 403  # another conversation's token
        own = c.get(url, headers={TOKEN_HEADER: token})
        assert own.status_code == 200 and [m["text"] for m in own.json()["messages"]] == ["您好，我是金帮办专员，请留下电话。"]
        # a session that does not exist looks exactly like a wrong token: the API tells no one which ids exist
        ghost = c.get(f"{CHAT}/never-started/messages", headers={TOKEN_HEADER: token})
        assert ghost.status_code == 403 and ghost.json() == c.get(url, headers={TOKEN_HEADER: "guess"}).json()


def test_feedback_needs_the_conversations_token(app):
    with citizen_client(app) as c:
        assert c.post(CHAT, json={"session_id": "tok-4", "text": "你好"}).status_code == 200
        rating = {"session_id": "tok-4", "message_ref": "1", "rating": "up"}
        assert c.post("/api/v1/feedback", json=rating).status_code == 201  # the client sends its token
        bare = TestClient(app)
        assert bare.post("/api/v1/feedback", json=rating).status_code == 401
        assert bare.post("/api/v1/feedback", json={**rating, "session_token": "x" * 32}).status_code == 403


def test_conversations_from_before_the_tokens_are_closed(make_settings, kb, db_url):
    """The migration path: a conversation stored before migration 0011 has no token hash; no client holds its
    token, so the citizen API refuses it (the pages then start a new conversation) and staff still see it."""
    from assistant.db.session import make_engine, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")  # the schema before the tokens
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO conversations (session_id, channel, created_at, updated_at) "
                                 "VALUES ('old-1', 'web', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    finally:
        engine.dispose()
    app = create_app(make_settings(database_url=db_url), kb=kb, load_models=False, rasa=None)
    with TestClient(app) as c:  # the lifespan migrates to every head (0011 adds the column, NULL for old rows)
        assert app.state.services.conversations.token_hash("old-1") == (True, None)
        r = c.post(CHAT, json={"session_id": "old-1", "text": "你好"})
        assert r.status_code == 401 and _error(r) == "session_token_required"
        assert c.post(CHAT, json={"session_id": "old-1", "text": "你好"},
                      headers={TOKEN_HEADER: "anything-at-all-1234567890"}).status_code == 403
        assert c.get(f"{CHAT}/old-1/messages").status_code == 401
        fresh = c.post(CHAT, json={"session_id": "old-1-new", "text": "你好"})  # what the page does next
        assert fresh.status_code == 200 and fresh.json()["session_token"]


def test_two_first_turns_at_once_give_one_token(app):
    with TestClient(app):
        services = app.state.services

        async def both():
            return await asyncio.gather(*(open_or_check(services, "tok-race", "web", None) for _ in range(4)),
                                        return_exceptions=True)

        results = asyncio.run(both())
        tokens = [r for r in results if isinstance(r, str)]
        assert len(tokens) == 1
        assert all(getattr(r, "status_code", None) == 401 for r in results if not isinstance(r, str))
        assert services.conversations.token_hash("tok-race") == (True, hash_token(tokens[0]))


def test_a_wechat_conversation_is_not_reachable_through_the_web_api(app):
    """Official-account conversations are bound to the OpenID (WeChat's signature proves the sender): they have no
    token, so knowing their session id gives nothing through ``/api/v1/chat``."""
    with TestClient(app) as c:
        app.state.services.conversations.record_turn("wx-abcdefgh12345678", "wechat_mp", "你好", [], "greet", None)
        assert c.post(CHAT, json={"session_id": "wx-abcdefgh12345678", "text": "我的预约"}).status_code == 401
        assert c.get(f"{CHAT}/wx-abcdefgh12345678/messages",
                     headers={TOKEN_HEADER: "x" * 32}).status_code == 403


def test_with_the_database_down_a_turn_is_answered_outside_the_conversation(make_settings, kb):
    """A turn is always answered, but never in a conversation whose token could not be checked."""
    import os

    app = create_app(make_settings(), kb=kb, load_models=False, rasa=None)
    with citizen_client(app, raise_server_exceptions=False) as c:
        assert c.post(CHAT, json={"session_id": "down-1", "text": "你好"}).status_code == 200
        db_file = app.state.services.db.engine.url.database
        app.state.services.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_file + suffix):
                os.replace(db_file + suffix, db_file + suffix + ".gone")
        r = c.post(CHAT, json={"session_id": "down-1", "text": "营业执照怎么办"})
        assert r.status_code == 200 and r.json()["replies"]
        assert r.json()["session_id"].startswith("unverified-") and r.json()["session_token"] is None


def test_a_retry_of_the_opening_message_whose_answer_was_lost_gets_a_new_token(app):
    """Finding (fault bench): a first turn cut off by a dying replica left a conversation nobody could continue —
    its retry with the same message_id had no token and got 401 on every later turn."""
    with TestClient(app) as c:
        first = c.post(CHAT, json={"session_id": "tok-r", "text": "你好", "message_id": "open-1"}).json()
        retry = c.post(CHAT, json={"session_id": "tok-r", "text": "你好", "message_id": "open-1"})
        assert retry.status_code == 200
        again = retry.json()
        assert again["session_token"] and again["session_token"] != first["session_token"]
        assert (again["message_id"], again["replies"]) == (first["message_id"], first["replies"])  # the stored answer
        lost = c.post(CHAT, json={"session_id": "tok-r", "text": "营业执照"}, headers={TOKEN_HEADER: first["session_token"]})
        assert lost.status_code == 403  # the token that never arrived stops working
        assert c.post(CHAT, json={"session_id": "tok-r", "text": "营业执照"},
                      headers={TOKEN_HEADER: again["session_token"]}).status_code == 200


def test_only_the_opening_message_id_soon_after_the_start_gets_a_token_again(app, monkeypatch):
    import assistant.api.citizen as citizen

    with TestClient(app) as c:
        token = c.post(CHAT, json={"session_id": "tok-o", "text": "你好", "message_id": "open-2"}).json()["session_token"]
        other = c.post(CHAT, json={"session_id": "tok-o", "text": "你好", "message_id": "later-1"})
        assert other.status_code == 401  # another message id proves nothing
        wrong = c.post(CHAT, json={"session_id": "tok-o", "text": "你好", "message_id": "open-2"},
                       headers={TOKEN_HEADER: "x" * 32})
        assert wrong.status_code == 403  # a wrong token is refused, not replaced
        monkeypatch.setattr(citizen, "REISSUE_WINDOW_S", -60)  # the start is now outside the window
        late = c.post(CHAT, json={"session_id": "tok-o", "text": "你好", "message_id": "open-2"})
        assert late.status_code == 401
        assert c.post(CHAT, json={"session_id": "tok-o", "text": "谢谢"}, headers={TOKEN_HEADER: token}).status_code == 200
