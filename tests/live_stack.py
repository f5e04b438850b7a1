"""The whole assistant, for real: the app served by uvicorn on a free port and a real Rasa 3.6 server (trained
once and cached in ``settings.cache_dir/rasa-models``) on another free port, pointed at that app for its NLU and
custom actions, with its tracker in the app's temporary SQLite database. Built once per test session.

Tests talk to the app over HTTP (``live.http``), exactly as the web page does. This module is a pytest plugin
(``pytest_plugins`` in tests/conftest.py), so every folder that asks for ``live`` shares ONE running stack.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.citizen import keep_session_tokens
from tests.conftest import free_port

STAFF_TOKEN = "integration-staff-token"


@dataclass
class Live:
    """The running system.

    Attributes:
        app: the FastAPI app (``app.state.services`` for direct looks at the KB or stores).
        url: the app's base URL.
        http: an HTTP client for the app; it keeps the session token of each conversation and sends it
            (``tests/citizen.py``).
        supervisor: the ``RasaSupervisor`` of the real Rasa server.
        settings: the test settings.
        staff_headers: the Bearer header the staff endpoints accept.
    """

    app: object
    url: str
    http: httpx.Client
    supervisor: object
    settings: object
    staff_headers: dict

    def chat(self, session_id: str, text: str) -> dict:
        """One chat turn through ``POST /api/v1/chat``; asserts a 200 and returns the JSON."""
        r = self.http.post("/api/v1/chat", json={"session_id": session_id, "text": text})
        assert r.status_code == 200, r.text
        return r.json()


class _Uvicorn(threading.Thread):
    def __init__(self, app, port: int):
        import uvicorn

        super().__init__(name="uvicorn-test-app", daemon=True)
        # WebSocket keepalive as a hang guard (the kiosk's final decode can exceed uvicorn's 20 s on a loaded machine)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on", access_log=False, ws_ping_interval=60,
                                                    ws_ping_timeout=180))

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=30)


@pytest.fixture(scope="session")
def live(tmp_path_factory, kb, nlu):
    """The app + a real Rasa server, started once for the session and torn down at its end."""
    from assistant.app import create_app
    from assistant.rasa.supervisor import RasaSupervisor
    from assistant.settings import Settings

    if not (Settings().rasa_venv / "bin" / "rasa").exists():
        pytest.fail("the Rasa venv (.venv-rasa) is missing — run scripts/setup.sh")
    tmp = tmp_path_factory.mktemp("live")
    app_port, rasa_port = free_port(), free_port()
    settings = Settings(environment="test", data_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'jxe.db'}",
                        rasa_manage=False, rasa_url=f"http://127.0.0.1:{rasa_port}", rasa_timeout_s=15.0,
                        app_internal_url=f"http://127.0.0.1:{app_port}", staff_token=STAFF_TOKEN,
                        rasa_start_timeout_s=240.0,
                        # hundreds of scripted turns (dozens of them handoffs and bookings) from one address:
                        # the limits and the daily caps have tests of their own
                        rate_limit_ip_per_min=0, rate_limit_session_per_min=0,
                        cap_tickets_per_ip_day=0, cap_bookings_per_ip_day=0)
    app = create_app(settings, kb=kb, nlu=nlu)
    server = _Uvicorn(app, app_port)
    server.start()
    deadline = time.monotonic() + 60
    while not server.server.started:
        if time.monotonic() > deadline or not server.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    supervisor = RasaSupervisor(settings)
    supervisor.start()
    try:
        if not supervisor.wait_ready(600, max_failed_starts=2):
            log = Path(supervisor.log_file)
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"Rasa did not become ready: {supervisor.last_error}\n{tail}")
        with httpx.Client(base_url=f"http://127.0.0.1:{app_port}", timeout=60.0, trust_env=False) as http:
            keep_session_tokens(http)  # like the web page: each conversation's token goes with its requests
            yield Live(app=app, url=f"http://127.0.0.1:{app_port}", http=http, supervisor=supervisor,
                       settings=settings, staff_headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    finally:
        supervisor.stop()
        server.stop()


def parts(reply: dict, kind: str) -> list[dict]:
    """The reply parts of type ``kind`` in a chat response."""
    return [p for p in reply["replies"] if p.get("type") == kind]


def button_titles(reply: dict) -> list[str]:
    """Every button title in a chat response, in order."""
    return [b["title"] for p in parts(reply, "buttons") for b in p["buttons"]]


def all_text(reply: dict) -> str:
    """The text of every text/notice part, joined."""
    return "\n".join(p.get("text", "") for p in reply["replies"] if p.get("type") in {"text", "notice"})
