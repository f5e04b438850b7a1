"""«删除我的记录» (issue 11 part 4): a citizen erases their conversation after a yes/no question — typed words or the
payload, on the real Rasa server and on the degraded path alike — and ``DELETE /api/v1/chat/{session_id}``."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from assistant.dialogue.replies import say
from tests.live_stack import all_text, parts


def _sid() -> str:
    return f"erase-{uuid.uuid4().hex[:10]}"


def _payloads(reply: dict) -> list[str]:
    return [b["payload"] for p in parts(reply, "buttons") for b in p["buttons"]]


def _rows(db, sid: str) -> dict[str, int]:
    out = {}
    with db.engine.connect() as conn:
        for table in ("conversations", "messages", "dialogue_states", "turn_keys", "feedback"):
            out[table] = conn.execute(text(f"SELECT count(*) FROM {table} WHERE session_id = :s"), {"s": sid}).scalar()
        out["tickets"] = conn.execute(text("SELECT count(*) FROM handoff_tickets WHERE session_id = :s"),
                                      {"s": sid}).scalar()
    return out


def _rasa_events(url: str, sid: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sid}).scalar()
    finally:
        engine.dispose()


def _erase_dialogue(post, db, sid: str, *, confirm: str = "/erase_confirm") -> dict:
    first = post({"session_id": sid, "text": "我电话是13812345678，想问居住证咋个办", "message_id": "m-1"})
    assert first["replies"]
    post({"session_id": sid, "text": "这个要带啥材料"})
    assert _rows(db, sid)["messages"] >= 4
    ask = post({"session_id": sid, "text": "删除我的记录"})
    assert ask["intent"] == "erase_my_data" and not ask["erased"]
    assert say("erase.ask") in all_text(ask)
    assert _payloads(ask) == ["/erase_confirm", "/erase_cancel"]
    assert _rows(db, sid)["conversations"] == 1  # nothing is erased before the citizen says yes
    done = post({"session_id": sid, "text": confirm, "message_id": "m-erase"})
    return done


# --- the degraded path (Rasa down) -------------------------------------------------------------------------------

@pytest.fixture
def post(nlu_app_client):
    def _post(body: dict) -> dict:
        r = nlu_app_client.post("/api/v1/chat", json=body)
        assert r.status_code == 200, r.text
        return r.json()
    return _post


@pytest.fixture
def db(nlu_app_client):
    return nlu_app_client.app.state.services.db


def test_degraded_path_erases_after_yes(post, db):
    sid = _sid()
    done = _erase_dialogue(post, db, sid)
    assert done["erased"] and done["degraded"] and say("erase.done") in all_text(done)
    assert done["message_id"] is None
    assert _rows(db, sid) == {"conversations": 0, "messages": 0, "dialogue_states": 0, "turn_keys": 0,
                              "feedback": 0, "tickets": 0}
    # the conversation starts afresh afterwards
    again = post({"session_id": sid, "text": "你好"})
    assert not again["erased"] and _rows(db, sid)["messages"] == 2


def test_a_typed_yes_right_after_the_question_erases_too(post, db):
    sid = _sid()
    done = _erase_dialogue(post, db, sid, confirm="对的")
    assert done["intent"] == "erase_confirm" and done["erased"]
    assert _rows(db, sid)["conversations"] == 0


def test_no_keeps_everything(post, db):
    sid = _sid()
    kept = _erase_dialogue(post, db, sid, confirm="/erase_cancel")
    assert not kept["erased"] and say("erase.kept") in all_text(kept)
    assert _rows(db, sid)["conversations"] == 1 and _rows(db, sid)["messages"] >= 8


def test_a_confirmation_out_of_the_blue_only_asks(post, db):
    sid = _sid()
    post({"session_id": sid, "text": "居住证咋个办"})
    r = post({"session_id": sid, "text": "/erase_confirm"})
    assert not r["erased"] and say("erase.ask") in all_text(r)
    assert _rows(db, sid)["conversations"] == 1


def test_delete_api_erases_a_conversation_and_leaves_an_anonymous_ticket(nlu_app_client, post, db):
    sid = _sid()
    post({"session_id": sid, "text": "我电话13812345678，转人工"})
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM handoff_tickets WHERE session_id = :s"), {"s": sid}).scalar()
    r = nlu_app_client.delete(f"/api/v1/chat/{sid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["erased"] and body["deleted"]["conversations"] == 1 and body["deleted"]["messages"] >= 2
    assert body["deleted"]["handoff_tickets"] == 1
    assert _rows(db, sid) == {"conversations": 0, "messages": 0, "dialogue_states": 0, "turn_keys": 0,
                              "feedback": 0, "tickets": 0}
    with db.engine.connect() as conn:
        stub = conn.execute(text("SELECT transcript, reason, summary FROM handoff_tickets WHERE session_id = 'erased'"
                                 )).fetchall()
    assert stub and all("1381234" not in str(row) for row in stub)
    # the conversation is gone: its token opens nothing any more (the same answer as a wrong token)
    gone = nlu_app_client.get(f"/api/v1/chat/{sid}/messages")
    assert gone.status_code == 403 and gone.json()["error"] == "session_token_invalid"
    again = nlu_app_client.delete(f"/api/v1/chat/{sid}")
    assert again.status_code == 403 and again.json()["error"] == "session_token_invalid"
    # nobody erases a conversation without its token
    anonymous = nlu_app_client.delete("/api/v1/chat/" + "x" * 200)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "session_token_required"


# --- the Rasa path ------------------------------------------------------------------------------------------------

@pytest.mark.rasa
def test_rasa_path_erases_the_conversation_and_the_tracker(live):
    from assistant.db.session import Database

    def _post(body: dict) -> dict:
        r = live.http.post("/api/v1/chat", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    db = Database(live.settings.database_url)
    try:
        sid = _sid()
        done = _erase_dialogue(_post, db, sid)
        assert done["erased"] and not done["degraded"] and say("erase.done") in all_text(done)
        assert _rows(db, sid) == {"conversations": 0, "messages": 0, "dialogue_states": 0, "turn_keys": 0,
                                  "feedback": 0, "tickets": 0}
        assert _rasa_events(live.settings.database_url, sid) == 0  # Rasa's tracker is gone too
        again = _post({"session_id": sid, "text": "你好"})
        assert not again["degraded"] and not again["erased"]
        assert _rasa_events(live.settings.database_url, sid) > 0
    finally:
        db.dispose()
