"""The guards of the speech WebSockets (issue 11): allowed origins and the kiosk device key, connections at once,
seconds, bytes and idle time per connection, and the kiosk conversation's session token — each closing with its
own code and a reason. Finding: the WebSockets had no session, time, byte or concurrency caps, and any website's
page could use a visitor's browser to run speech recognition here.

No speech is recognised here (the guards act before the engine is needed); tests/voice/test_ws.py speaks."""

from __future__ import annotations

import json
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.citizen import citizen_client

KEY = "Kiosk-Device-Key-0123456789abc"


@pytest.fixture
def ws_app(make_settings, kb):
    """``ws_app(**settings) -> TestClient`` (keeps session tokens) of an app without speech engine or Rasa."""
    from assistant.app import create_app

    made = []

    def _make(**overrides):
        app = create_app(make_settings(**overrides), kb=kb, rasa=None, load_models=False)
        c = citizen_client(app)
        made.append(c.__enter__())
        return c

    yield _make
    for c in made:
        c.__exit__(None, None, None)


def _closed(ws) -> tuple[int, str, dict | None]:
    """Read to the end: ``(close code, close reason, the error frame before it)``."""
    error = None
    while True:
        try:
            msg = ws.receive()
        except WebSocketDisconnect as exc:
            return exc.code, exc.reason, error
        if msg["type"] == "websocket.close":
            return msg.get("code"), msg.get("reason", ""), error
        if msg.get("text"):
            error = json.loads(msg["text"])


@pytest.mark.parametrize("path", ["/ws/asr", "/ws/kiosk"])
def test_other_websites_pages_are_refused(ws_app, path):
    c = ws_app(ws_idle_timeout_s=0.3)
    with c.websocket_connect(path, headers={"Origin": "https://evil.example"}) as ws:
        code, reason, error = _closed(ws)
    assert code == 1008 and "origin not allowed" in reason and error["code"] == 1008
    # the app's own page (Origin = the host it was sent to) and non-browser clients (no Origin) pass the guard:
    # they reach the idle timeout instead
    for headers in ({"Origin": "http://testserver"}, {}):
        with c.websocket_connect(path, headers=headers) as ws:
            assert _closed(ws)[0] == 4408


def test_listed_origins_and_the_device_key_let_a_kiosk_in(ws_app):
    c = ws_app(ws_idle_timeout_s=0.3, allowed_origins=["https://kiosk.jinniu.example:8443"], kiosk_device_key=KEY)
    with c.websocket_connect("/ws/kiosk", headers={"Origin": "https://kiosk.jinniu.example:8443"}) as ws:
        assert _closed(ws)[0] == 4408
    with c.websocket_connect(f"/ws/kiosk?device_key={KEY}", headers={"Origin": "file://"}) as ws:
        assert _closed(ws)[0] == 4408
    with c.websocket_connect("/ws/kiosk", headers={"Origin": "https://other.example", "X-Kiosk-Key": KEY}) as ws:
        assert _closed(ws)[0] == 4408
    with c.websocket_connect("/ws/kiosk?device_key=guess", headers={"Origin": "https://other.example"}) as ws:
        assert _closed(ws)[0] == 1008


def test_too_many_connections_at_once_get_1013(ws_app):
    c = ws_app(ws_max_sessions=2, ws_idle_timeout_s=5)
    with c.websocket_connect("/ws/asr") as a, c.websocket_connect("/ws/asr") as b:
        with c.websocket_connect("/ws/asr") as third:
            code, reason, _ = _closed(third)
        assert code == 1013 and "too many" in reason
        a.send_text(json.dumps({"reset": 1}))  # the first two are still served
        b.send_text(json.dumps({"reset": 1}))
    with c.websocket_connect("/ws/asr") as again:  # a slot is free again once they closed
        again.send_text(json.dumps({"reset": 1}))
        assert c.app.state.speech_slots.active == 1


def test_bytes_seconds_and_idle_time_are_capped(ws_app):
    # (the idle limit leaves room for a busy machine: at 0.4 s a clean-clone run on 2 cores timed the connection out
    # before its first frame was read, 0.69 s after the app started)
    c = ws_app(ws_max_bytes=2000, ws_idle_timeout_s=0.8, ws_max_seconds=1.2)
    with c.websocket_connect("/ws/asr") as ws:
        ws.send_text(json.dumps({"reset": 1, "pad": "x" * 1500}))
        ws.send_text(json.dumps({"reset": 1, "pad": "x" * 1500}))
        code, reason, _ = _closed(ws)
    assert code == 1009 and "2000 bytes" in reason
    with c.websocket_connect("/ws/asr") as ws:
        code, reason, _ = _closed(ws)
    assert code == 4408 and "no frame" in reason
    with c.websocket_connect("/ws/asr") as ws:  # busy, but for too long
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 3:
                ws.send_text(json.dumps({"reset": 1}))
                time.sleep(0.2)
        except Exception:  # noqa: BLE001 - the server closed the socket
            pass
        code, reason, _ = _closed(ws)
    assert code == 1008 and "longer than 1.2 s" in reason


def test_a_kiosk_conversation_needs_its_token_before_any_audio(ws_app):
    c = ws_app(ws_idle_timeout_s=0.4)
    # the visitor's conversation was started by a tap on a button (HTTP); its token is the session's
    token = c.post("/api/v1/chat", json={"session_id": "kiosk-guard-1", "text": "/request_human"}).json()[
        "session_token"]
    url = "/ws/kiosk?session=kiosk-guard-1"
    with c.websocket_connect(url) as ws:  # no token: the first audio frame is refused
        ws.send_bytes(b"\x00" * 3200)
        code, reason, error = _closed(ws)
    assert code == 4401 and "session_token_required" in reason and error["code"] == 4401
    with c.websocket_connect(url) as ws:
        ws.send_text(json.dumps({"config": {"sample_rate": 16000}, "session_token": "x" * 32}))
        assert _closed(ws)[0] == 4403
    with c.websocket_connect(url) as ws:
        ws.send_text(json.dumps({"eof": 1}))
        assert _closed(ws)[0] == 4401
    # the right token, in the config frame or the header: the connection is served (here: until it is idle)
    with c.websocket_connect(url) as ws:
        ws.send_text(json.dumps({"config": {"sample_rate": 16000}, "session_token": token}))
        assert _closed(ws)[0] == 4408
    with c.websocket_connect(url, headers={"X-Session-Token": token}) as ws:
        assert _closed(ws)[0] == 4408
    # /ws/asr touches no conversation: no token
    with c.websocket_connect("/ws/asr?session=kiosk-guard-1") as ws:
        assert _closed(ws)[0] == 4408


def test_a_closed_connection_frees_its_slot_whatever_ended_it(ws_app):
    c = ws_app(ws_max_sessions=1, ws_idle_timeout_s=0.3)
    for headers in ({"Origin": "https://evil.example"}, {}):
        with c.websocket_connect("/ws/asr", headers=headers) as ws:
            _closed(ws)
    with c.websocket_connect("/ws/asr") as ws:
        assert _closed(ws)[0] == 4408


def test_settings_refuse_an_origin_that_is_not_one():
    from pydantic import ValidationError

    from assistant.settings import Settings

    s = Settings(environment="test", allowed_origins="https://Kiosk.Example:8443/, http://10.0.0.7")
    assert s.allowed_origins == ["https://kiosk.example:8443", "http://10.0.0.7"]
    for bad in ("kiosk.example", "https://kiosk.example/page", "ftp://x"):
        with pytest.raises(ValidationError, match="JXE_ALLOWED_ORIGINS"):
            Settings(environment="test", allowed_origins=bad)

