"""Fixtures of the channel tests: a local fake WeChat API server, a scripted assistant, a channel app.

The fake WeChat server is a real HTTP server on 127.0.0.1 speaking the documented JSON of
``/cgi-bin/token``, ``/cgi-bin/message/custom/send``, ``/sns/jscode2session`` and ``/cgi-bin/media/get``.
The scripted assistant has the same ``chat`` signature as ``assistant.chat.Assistant`` and records turns in
the real conversation store, so staff replies and ``/messages`` work as in the app.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import free_port

TOKEN = "jxetoken2026"
APPID = "wx1234567890abcdef"
SECRET = "s3cr3t-app-secret"
AES_KEY = "GouZs6W9VGGsuieSjsEVqFcNnlRf/l/skpM+6P/dkb8"  # 43 characters, as in the WeChat console


class FakeWeChat:
    """State of the fake WeChat API: issued tokens, received messages, scripted error codes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tokens_issued: list[str] = []
        self.sent: list[dict[str, Any]] = []  # accepted customer-service messages
        self.send_attempts: list[dict[str, Any]] = []
        #: errcodes to answer the next send calls with, in order (0 = accept).
        self.send_script: list[int] = []
        self.openids = {"CODE-OK": "o-mp-user-1"}
        self.media: dict[str, bytes] = {}

    def new_token(self) -> str:
        with self.lock:
            tok = f"TOKEN-{len(self.tokens_issued) + 1}-{uuid.uuid4().hex[:6]}"
            self.tokens_issued.append(tok)
            return tok

    def wait_sent(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.sent) >= n:
                    return list(self.sent)
            time.sleep(0.02)
        return list(self.sent)


def _handler(state: FakeWeChat):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet
            pass

        def _json(self, obj: dict[str, Any]) -> None:
            body = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; encoding=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            if u.path == "/cgi-bin/token":
                if q.get("grant_type") != "client_credential" or q.get("appid") != APPID \
                        or q.get("secret") != SECRET:
                    return self._json({"errcode": 40013, "errmsg": "invalid appid"})
                return self._json({"access_token": state.new_token(), "expires_in": 7200})
            if u.path == "/sns/jscode2session":
                openid = state.openids.get(q.get("js_code", ""))
                if not openid or q.get("grant_type") != "authorization_code":
                    return self._json({"errcode": 40029, "errmsg": "invalid code"})
                return self._json({"openid": openid, "session_key": "sk"})
            if u.path == "/cgi-bin/media/get":
                data = state.media.get(q.get("media_id", ""))
                if data is None:
                    return self._json({"errcode": 40007, "errmsg": "invalid media_id"})
                self.send_response(200)
                self.send_header("Content-Type", "audio/amr")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            self.send_response(404)
            self.end_headers()
            return None

        def do_POST(self):  # noqa: N802
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if u.path == "/cgi-bin/message/custom/send":
                with state.lock:
                    state.send_attempts.append({"token": q.get("access_token"), **body})
                    scripted = state.send_script.pop(0) if state.send_script else 0
                    current = state.tokens_issued[-1] if state.tokens_issued else None
                if q.get("access_token") != current:
                    return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                if scripted:
                    if scripted == 40001:  # the token was revoked: a new one must be fetched
                        state.new_token()
                    return self._json({"errcode": scripted, "errmsg": f"scripted error {scripted}"})
                if body.get("msgtype") != "text" or not body.get("touser") \
                        or not isinstance(body.get("text", {}).get("content"), str):
                    return self._json({"errcode": 44002, "errmsg": "empty post data"})
                with state.lock:
                    state.sent.append(body)
                return self._json({"errcode": 0, "errmsg": "ok"})
            self.send_response(404)
            self.end_headers()
            return None

    return H


@pytest.fixture
def fake_wechat():
    """A running fake WeChat API server: yields ``(base_url, state)``."""
    state = FakeWeChat()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(state))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


class ScriptedAssistant:
    """Same ``chat`` signature as ``assistant.chat.Assistant``; answers by keyword.

    - ``慢`` in the text: waits until the test opens ``gate`` (a ``threading.Event``; a test that never opens it
      sees the answer after ``hang_s``, a hang guard only); ``boom``: raises;
    - ``材料`` / ``/ask_matter``: matter card + checklist + buttons; ``人工`` / ``/request_human``: handoff;
    - ``长``: a 6000-character answer; anything else: an echo.
    """

    def __init__(self, services: Any = None, hang_s: float = 60.0):
        self.services = services
        self.hang_s = hang_s
        #: Closed until the test sets it: a "慢" answer is computed only then (no race on wall-clock time).
        self.gate = threading.Event()
        #: Set when a "慢" question has reached the assistant (the answer is being computed).
        self.computing = threading.Event()
        self.calls: list[dict[str, Any]] = []

    async def chat(self, session_id: str, text: str, channel: str = "web",
                   metadata: dict[str, Any] | None = None, message_id: str | None = None) -> dict[str, Any]:
        self.calls.append({"session_id": session_id, "text": text, "channel": channel, "metadata": metadata})
        if "慢" in text:
            self.computing.set()
            await asyncio.to_thread(self.gate.wait, self.hang_s)
        if "boom" in text:
            raise RuntimeError("assistant exploded")
        intent, handoff = "ask_matter", None
        if "材料" in text or text.startswith("/ask_matter"):
            replies = [
                {"type": "text", "text": "您要办的是个体工商户设立登记。"},
                {"type": "matter_card", "matter": {
                    "code": "JN-GT-001", "name": "个体工商户设立登记", "department": "金牛区市场监督管理局",
                    "matter_type": "行政许可", "place": "金牛区政务服务中心", "address": "金牛区蜀汉路",
                    "hours": "周一至周五 9:00-17:00", "promised_time_limit": "1个工作日", "legal_time_limit": "",
                    "fee": "不收费", "online_link": "https://www.sczwfw.gov.cn/x", "consult_phone": "028-12345",
                    "verified": False, "level": "区政务大厅"}},
                {"type": "checklist", "matter": {"code": "JN-GT-001", "name": "个体工商户设立登记"}, "items": [
                    {"name": "身份证", "form": "原件", "copies": 1, "requirement": "required", "note": ""},
                    {"name": "<img src=x onerror=alert(1)>租赁合同", "form": "复印件", "copies": 1,
                     "requirement": "conditional", "note": "租用场地时"}]},
                {"type": "buttons", "buttons": [
                    {"title": "办理地点", "payload": '/ask_location{"matter": "JN-GT-001"}'},
                    {"title": "转人工", "payload": "/request_human"}]},
            ]
        elif "人工" in text or text.startswith("/request_human"):
            intent = "request_human"
            ticket = {"id": 1, "level": "区政务大厅", "status": "open"}
            if self.services is not None:
                tv = self.services.handoffs.create(session_id, channel=channel, transcript=[text],
                                                   reason="request_human")
                ticket = tv.part()
            handoff = ticket
            replies = [{"type": "text", "text": "已为您转接金帮办专员。"}, {"type": "handoff", "ticket": ticket}]
        elif "长" in text:
            replies = [{"type": "text", "text": ("政务服务" * 10 + "\n") * 150}]
        else:
            replies = [{"type": "text", "text": f"收到：{text}"}]
        message_id = None
        if self.services is not None:
            message_id = self.services.conversations.record_turn(session_id, channel, text, replies, intent, None)
        return {"session_id": session_id, "replies": replies, "matter": None, "intent": intent,
                "handoff": handoff, "degraded": False, "message_id": message_id}


@pytest.fixture
def channel_app(make_settings, fake_wechat):
    """Build the real app (``create_app``) with the scripted assistant:
    ``make(kb=None, **settings_overrides) -> (app, services, assistant)`` (its "慢" answers wait for
    ``assistant.gate``).

    Models are not loaded (``load_models=False``), Rasa is absent, migrations are applied here (the tests drive
    the app through an ASGI transport without its lifespan). WeChat settings point at the fake API server.
    """
    from assistant.app import create_app
    from assistant.channels.wechat import mp as wechat_mp

    base, _state = fake_wechat
    made = []

    def make(kb: Any = None, **overrides):
        values = dict(wechat_token=TOKEN, wechat_appid=APPID, wechat_appsecret=SECRET, wechat_aes_key=AES_KEY,
                      wechat_mode="plain", wechat_api_base=base,
                      # a hang guard, not a race: the scripted answers are immediate unless a test holds them at
                      # ``assistant.gate`` (those tests set a short budget and know the answer cannot be ready)
                      wechat_reply_budget_s=10.0)
        values.update(overrides)
        settings = make_settings(**values)
        app = create_app(settings, kb=kb, nlu=None, rasa=None, load_models=False)
        services = app.state.services
        services.db.upgrade()
        services.status.update(db="ready")
        services.assistant = ScriptedAssistant(services)
        rt = wechat_mp.get_runtime(app)
        rt.send_retry_delays = (0.05,)
        made.append(services)
        return app, services, services.assistant

    yield make
    for s in made:
        s.assistant.gate.set()  # nothing stays parked on a closed gate
        s.db.dispose()


def error_code(response) -> str:
    """The ``error`` code of an API error body (``{"error", "message"}``)."""
    body = response.json()
    return (body["detail"] if isinstance(body.get("detail"), dict) else body)["error"]


def error_message(response) -> str:
    body = response.json()
    return (body["detail"] if isinstance(body.get("detail"), dict) else body)["message"]


def run(coro):
    """Run a coroutine to completion in a fresh event loop."""
    return asyncio.run(coro)
