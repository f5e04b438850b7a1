"""The real Rasa server of the live stack is closed to everyone but the app: its HTTP API wants the token the app
was started with, it listens on loopback only, and its process has only the environment it needs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from assistant.rasa.supervisor import CHILD_ENV_NAMES

pytestmark = pytest.mark.rasa

#: What the supervisor itself puts into the Rasa process's environment (besides CHILD_ENV_NAMES, RASA_*, TF_*).
#: The API token travels there (a process's environment is readable only by its own user and root), not on the
#: command line, which every local user can read.
SET_BY_SUPERVISOR = {"SQLALCHEMY_SILENCE_UBER_WARNING", "PYTHONUNBUFFERED", "OMP_NUM_THREADS", "JXE_APP_INTERNAL_URL",
                     "JXE_INTERNAL_TOKEN", "JXE_TRACKER_DIALECT", "JXE_TRACKER_URL", "JXE_TRACKER_DB",
                     "JXE_LOCK_STORE_TYPE", "JXE_LOCK_STORE_HOST", "JXE_LOCK_STORE_PORT", "JXE_LOCK_STORE_DB", "TICKET_LOCK_LIFETIME",
                     "JXE_RASA_AUTH_TOKEN", "JXE_RASA_TRACKER_CACHE"}


def test_rasa_api_refuses_requests_without_the_token(live):
    rasa = live.supervisor.rasa_url
    token = live.settings.rasa_auth_token
    with httpx.Client(base_url=rasa, timeout=30, trust_env=False) as http:
        for method, path in (("GET", "/conversations/x/tracker"), ("GET", "/status"), ("GET", "/domain"),
                             ("GET", "/conversations/x/story"), ("POST", "/conversations/x/tracker/events"),
                             ("PUT", "/model"), ("DELETE", "/model")):
            assert http.request(method, path).status_code == 401, (method, path)
            assert http.request(method, path, params={"token": "wrong-" + token}).status_code == 401, (method, path)
        ok = http.get("/conversations/x/tracker", params={"token": token})
        assert ok.status_code == 200 and ok.json()["sender_id"] == "x"
        assert http.get("/status", params={"token": token}).status_code == 200
        # Rasa 3.6 leaves these open: the version banner and the REST channel (reachable only from this host)
        assert http.get("/version").status_code == 200
        hook = http.post("/webhooks/rest/webhook", json={"sender": "closed-1", "message": "你好"})
        assert hook.status_code == 200


def test_rasa_process_has_no_secrets_of_the_app(live):
    pid = live.supervisor.pid
    assert pid, "the live Rasa server is not running"
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    extra = {k for k in env if k not in CHILD_ENV_NAMES and k not in SET_BY_SUPERVISOR
             and not k.startswith(("RASA_", "TF_"))}
    assert not extra, f"the Rasa process inherited {sorted(extra)}"
    assert "JXE_STAFF_TOKEN" not in env and live.settings.staff_token not in "".join(env.values())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert live.settings.rasa_auth_token not in cmdline and "--auth-token" not in cmdline
    assert live.supervisor.host == "127.0.0.1"
