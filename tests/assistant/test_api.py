"""The HTTP API with Rasa down: bad input never gives a 500, staff auth, handoff → staff reply → citizen."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.logging import session_ref
from tests.citizen import citizen_client

CHAT = "/api/v1/chat"
STAFF = {"Authorization": "Bearer test-staff-token"}


def _chat(client, text, sid="t-1"):
    return client.post(CHAT, json={"session_id": sid, "text": text})


def _bilingual(message: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in message) and any(c.isascii() and c.isalpha() for c in message)


@pytest.mark.parametrize("body,status,error", [
    ({"session_id": "t-1", "text": ""}, 400, "empty_text"),
    ({"session_id": "t-1", "text": "   \n\t  "}, 400, "empty_text"),
    ({"session_id": "t-1", "text": "\x00\x01\x1b\x7f"}, 400, "empty_text"),
    ({"session_id": "t-1", "text": "\u3000\u3000"}, 400, "empty_text"),
    ({"session_id": "t-1", "text": "办" * 30_000}, 413, "invalid_request"),
    ({"session_id": "t-1"}, 422, "invalid_request"),
    ({"text": "营业执照"}, 422, "invalid_request"),
    ({"session_id": "t-1", "text": 123}, 422, "invalid_request"),
    ({"session_id": "t-1", "text": None}, 422, "invalid_request"),
    ({"session_id": "t-1", "text": ["a"]}, 422, "invalid_request"),
    ({"session_id": 5, "text": "营业执照"}, 422, "invalid_request"),
    ({"session_id": "", "text": "营业执照"}, 422, "invalid_request"),
    ({"session_id": "a b/../c", "text": "营业执照"}, 422, "invalid_request"),
    ({"session_id": "x" * 200, "text": "营业执照"}, 422, "invalid_request"),
    ([{"session_id": "t-1", "text": "营业执照"}], 422, "invalid_request"),
    ("营业执照", 422, "invalid_request"),
])
def test_bad_bodies_get_a_clear_4xx(app_client, body, status, error):
    r = app_client.post(CHAT, json=body)
    assert r.status_code == status, r.text
    data = r.json()
    assert data["error"] == error
    assert _bilingual(data["message"]), data["message"]
    # the conversation stays usable
    assert _chat(app_client, "你好").status_code == 200


@pytest.mark.parametrize("raw,status,code", [
    (b'{"session_id": "t-1", "text": ', 400, "invalid_json"),
    (b"not json at all", 400, "invalid_json"),
    (b"\xff\xfe\x00garbage", 400, "invalid_json"),
    (b"", 422, "invalid_request"),          # no body at all: a missing field, not broken JSON
])
def test_malformed_json_is_refused_with_a_clear_error(app_client, raw, status, code):
    r = app_client.post(CHAT, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == status and r.json()["error"] == code, r.text
    assert _bilingual(r.json()["message"])


def test_missing_body_and_wrong_method(app_client):
    r = app_client.post(CHAT)
    assert r.status_code == 422 and _bilingual(r.json()["message"])
    r = app_client.get(CHAT)
    assert r.status_code == 405 and r.json()["error"] == "http_error"
    r = app_client.get("/no/such/page")
    assert r.status_code == 404 and "message" in r.json()


def test_odd_but_valid_texts_get_a_clear_answer(app_client):
    app = app_client.app
    emoji = _chat(app_client, "😀", "odd-1").json()
    assert emoji["replies"][0]["type"] == "text" and "文字" in emoji["replies"][0]["text"]
    english = _chat(app_client, "How do I register a small shop?", "odd-2").json()
    assert "中文" in english["replies"][0]["text"] and "Chinese" in english["replies"][0]["text"]

    long = _chat(app_client, "我想问一下营业执照" + "怎么办" * 3330, "odd-3")
    assert long.status_code == 200
    notices = [p["text"] for p in long.json()["replies"] if p["type"] == "notice"]
    assert any("500" in n for n in notices), notices

    ctrl = _chat(app_client, "营业\x00执照\x1b[31m怎么\u200b办", "odd-4")
    assert ctrl.status_code == 200
    trad = _chat(app_client, "請問營業執照怎麼辦理", "odd-5")
    assert trad.status_code == 200
    transcript = {sid: app.state.services.conversations.transcript(sid) for sid in ("odd-4", "odd-5")}
    user4 = [ln["text"] for ln in transcript["odd-4"] if ln["role"] == "user"][0]
    assert "\x00" not in user4 and "\x1b" not in user4 and "\u200b" not in user4 and "执照" in user4
    user5 = [ln["text"] for ln in transcript["odd-5"] if ln["role"] == "user"][0]
    assert user5 == "请问营业执照怎么办理"


def test_every_answer_has_the_contract_shape(app_client):
    data = _chat(app_client, "你好", "shape-1").json()
    assert set(data) >= {"replies", "matter", "intent", "handoff"}
    assert data["degraded"] is True  # Rasa is down in these tests
    assert data["replies"][0] == {"type": "notice", "text": data["replies"][0]["text"]}
    assert "不可用" in data["replies"][0]["text"]
    # a human helper is offered
    assert any(p["type"] == "buttons" and any(b["payload"] == "/request_human" for b in p["buttons"])
               for p in data["replies"]) or data["handoff"]


def test_messages_endpoint(app_client):
    r = app_client.get(f"{CHAT}/never-seen/messages")
    assert r.status_code == 401 and r.json()["error"] == "session_token_required"
    assert _bilingual(r.json()["message"])
    _chat(app_client, "你好", "msg-1")
    r = app_client.get(f"{CHAT}/msg-1/messages")
    assert r.status_code == 200 and r.json()["messages"] == [] and r.json()["handoff"] is None
    assert app_client.get(f"{CHAT}/msg-1/messages?after=-1").status_code == 422
    assert app_client.get(f"{CHAT}/msg-1/messages?after=abc").status_code == 422


def test_staff_auth(app_client, make_settings, kb):
    assert app_client.get("/api/v1/handoffs").status_code == 401
    r = app_client.get("/api/v1/handoffs", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert app_client.get("/api/v1/handoffs", headers={"Authorization": "Basic dGVzdA=="}).status_code == 401
    assert app_client.get("/api/v1/handoffs", headers={"Authorization": "Bearer test-staff-token-x"}).status_code == 401
    assert app_client.get("/api/v1/handoffs", headers=STAFF).status_code == 200

    closed_app = create_app(make_settings(staff_token=None), kb=kb, rasa=None, load_models=False)
    with TestClient(closed_app) as c:
        for method, path in (("get", "/api/v1/handoffs"), ("get", "/api/v1/handoffs/1"),
                             ("post", "/api/v1/handoffs/1/reply"), ("post", "/api/v1/handoffs/1/close")):
            r = getattr(c, method)(path, headers=STAFF)
            assert r.status_code == 403, path
            assert "staff endpoints are closed" in r.json()["message"]


def test_handoff_and_staff_reply_reach_the_citizen(app_client):
    sid = "handoff-1"
    _chat(app_client, "我的电话是13812345678，想咨询一下", sid)
    r = _chat(app_client, "/request_human", sid)
    assert r.status_code == 200
    data = r.json()
    assert data["intent"] == "request_human"
    ticket = data["handoff"]
    assert ticket and ticket["status"] == "open" and ticket["level"] == "区政务大厅"
    assert any(p["type"] == "handoff" and p["ticket"]["id"] == ticket["id"] for p in data["replies"])

    listed = app_client.get("/api/v1/handoffs?status=open", headers=STAFF).json()
    assert ticket["id"] in [t["id"] for t in listed["tickets"]] and listed["total"] >= 1
    detail = app_client.get(f"/api/v1/handoffs/{ticket['id']}", headers=STAFF).json()
    text = " ".join(line["text"] for line in detail["transcript"])
    assert "13812345678" not in text and "138****5678" in text
    assert detail["session_id"] == sid

    poll = app_client.get(f"{CHAT}/{sid}/messages").json()
    assert poll["handoff"]["id"] == ticket["id"] and poll["messages"] == []
    after = poll["last_id"]

    reply = app_client.post(f"/api/v1/handoffs/{ticket['id']}/reply", headers=STAFF,
                            json={"text": "您好，我是金帮办专员小刘，请问需要办理什么？", "staff_name": "小刘"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["rasa_tracker_updated"] is False  # Rasa is down: delivered from the database
    assert reply.json()["ticket"]["status"] == "answered"

    poll = app_client.get(f"{CHAT}/{sid}/messages?after={after}").json()
    assert [(m["text"], m["staff_name"]) for m in poll["messages"]] == [("您好，我是金帮办专员小刘，请问需要办理什么？", "小刘")]
    assert app_client.get(f"{CHAT}/{sid}/messages?after={poll['last_id']}").json()["messages"] == []

    # bad staff input
    assert app_client.post(f"/api/v1/handoffs/{ticket['id']}/reply", headers=STAFF,
                           json={"text": "   "}).status_code == 422
    assert app_client.post("/api/v1/handoffs/99999/reply", headers=STAFF, json={"text": "x"}).status_code == 404
    assert app_client.get("/api/v1/handoffs/99999", headers=STAFF).status_code == 404
    assert app_client.get("/api/v1/handoffs/abc", headers=STAFF).status_code == 422

    closed = app_client.post(f"/api/v1/handoffs/{ticket['id']}/close", headers=STAFF)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = app_client.post(f"/api/v1/handoffs/{ticket['id']}/reply", headers=STAFF, json={"text": "还在吗"})
    assert again.status_code == 409 and _bilingual(again.json()["message"])
    assert app_client.get(f"{CHAT}/{sid}/messages").json()["handoff"] is None


def test_healthz_is_503_and_says_what_is_missing_only_to_staff(app_client):
    r = app_client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable"}  # no URLs, no error texts for the public
    assert app_client.get("/api/v1/health").status_code == 401
    detail = app_client.get("/api/v1/health", headers=STAFF)
    assert detail.status_code == 503
    body = detail.json()
    assert body["status"] == "unavailable"
    assert "rasa" in body["missing"] and body["checks"]["db"] == "ready" and body["checks"]["kb"] == "ready"
    assert body["checks"]["rasa"].startswith("unreachable at http://127.0.0.1:")


def test_page_is_served(app_client):
    r = app_client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "金小二" in r.text and 'name="viewport"' in r.text and "/static/chat.js" in r.text
    js = app_client.get("/static/chat.js")
    assert js.status_code == 200 and "innerHTML" not in js.text.replace("never innerHTML", "")
    assert app_client.get("/static/chat.css").status_code == 200


def test_rasa_that_never_answers_times_out_into_the_fallback(make_settings, kb, caplog):
    """A Rasa that accepts the connection but never answers: the turn ends after rasa_timeout_s with the degraded
    answer, no 500; right after, turns do not wait for the hanging Rasa again (its circuit is open)."""
    import logging
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # never accept(): connections hang
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(make_settings(rasa_url=url, rasa_timeout_s=1.0), kb=kb, load_models=False)
        with TestClient(app) as c, caplog.at_level(logging.INFO):
            r = c.post(CHAT, json={"session_id": "slow-1", "text": "/request_human"})
            r2 = c.post(CHAT, json={"session_id": "slow-2", "text": "/request_human"})
        assert r.status_code == 200 and r.json()["degraded"] is True
        assert r.json()["handoff"] is not None  # the payload is handled without Rasa or the NLU
        assert r2.status_code == 200 and r2.json()["degraded"] is True and r2.json()["handoff"] is not None
        turns = {rec.fields["session"]: rec.fields for rec in caplog.records
                 if getattr(rec, "event", None) == "chat.turn.completed" and hasattr(rec, "fields")}
        # the logs carry a keyed hash of the session id, never the id (assistant.logging.session_ref)
        assert turns[session_ref("slow-1")]["reason"] == "rasa_timeout"
        assert turns[session_ref("slow-2")]["reason"] == "rasa_timeout_recent"  # not sent to the hanging Rasa
        assert "slow-1" not in caplog.text and "slow-2" not in caplog.text
    finally:
        sock.close()


def test_huge_bodies_are_refused_before_parsing(app_client):
    big = b'{"session_id": "big-1", "text": "' + "办".encode() * 200_000 + b'"}'
    r = app_client.post(CHAT, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "body_too_large" and _bilingual(r.json()["message"])
    assert _chat(app_client, "你好", "big-1").status_code == 200



def test_chat_and_handoff_on_each_database(db_url, make_settings, kb):
    """The whole app (migrations at startup, turns, tickets, staff reply) on SQLite and PostgreSQL."""
    app = create_app(make_settings(database_url=db_url, staff_token="test-staff-token"), kb=kb,
                     load_models=False)
    with citizen_client(app) as c:
        assert c.get("/api/v1/health", headers=STAFF).json()["checks"]["db"] == "ready"
        ticket = _chat(c, "/request_human", "db-1").json()["handoff"]
        assert ticket["status"] == "open"
        r = c.post(f"/api/v1/handoffs/{ticket['id']}/reply", headers=STAFF, json={"text": "请讲", "staff_name": "刘"})
        assert r.status_code == 200
        assert [m["text"] for m in c.get(f"{CHAT}/db-1/messages").json()["messages"]] == ["请讲"]


def test_a_kb_that_fails_to_load_is_reported_not_fatal(make_settings, tmp_path):
    """Startup loads the KB in a worker thread; a failure shows up in /healthz and the chat still answers."""
    empty = tmp_path / "empty-kb"
    empty.mkdir()
    (empty / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    missing = tmp_path / "no-such-folder"
    for kb_dir in (empty, missing):
        _check_kb_failure(make_settings(kb_dir=kb_dir, guides_dir=kb_dir))


def _check_kb_failure(settings):
    import time

    app = create_app(settings.model_copy(update={"staff_token": "test-staff-token"}))
    with TestClient(app) as c:
        deadline = time.monotonic() + 30
        while app.state.services.status["kb"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get("/healthz").json() == {"status": "unavailable"}
        r = c.get("/api/v1/health", headers=STAFF)
        assert r.status_code == 503
        body = r.json()
        assert {"kb", "nlu", "rasa"} <= set(body["missing"]) and body["checks"]["kb"].startswith("error")
        chat = _chat(c, "营业执照怎么办", f"nokb-{settings.kb_dir.name}")  # both apps share the database
        assert chat.status_code == 200 and chat.json()["degraded"] is True


def test_a_broken_nlu_and_database_still_get_an_answer(make_settings, kb):
    """Rasa down, the NLU raising and the database gone: the turn still answers (never a 500)."""

    class BrokenNLU:
        def parse(self, text):
            raise RuntimeError("index file vanished")

    app = create_app(make_settings(), kb=kb, nlu=BrokenNLU(), load_models=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = _chat(c, "营业执照怎么办", "broken-1")
        assert r.status_code == 200 and r.json()["degraded"] is True
        assert any(p["type"] == "buttons" for p in r.json()["replies"])  # a human helper is offered
        import os

        db_file = app.state.services.db.engine.url.database
        app.state.services.db.dispose()
        for suffix in ("", "-wal", "-shm"):  # the database loses its tables ("no such table" on every query)
            if os.path.exists(db_file + suffix):
                os.replace(db_file + suffix, db_file + suffix + ".gone")
        r = _chat(c, "/request_human", "broken-2")
        assert r.status_code == 200 and r.json()["replies"] and r.json()["message_id"] is None
