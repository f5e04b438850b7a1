"""The Rasa server is closed to everyone but the app: an API token the app sends (kept off the command line),
a loopback address, and only the environment the Rasa process needs."""

from __future__ import annotations

import httpx
import pytest

from assistant.rasa.client import RasaClient
from assistant.rasa.launcher import apply_auth_token
from assistant.rasa.supervisor import RasaSupervisor, rasa_env
from assistant.settings import Settings

SECRETS = {"JXE_STAFF_TOKEN": "staff-secret-value", "JXE_WECHAT_APPSECRET": "wechat-secret-value",
           "JXE_WECHAT_AES_KEY": "aes-secret-value", "DATABASE_URL": "postgresql://app:pw-secret@db/jxe",
           "JXE_DATABASE_URL": "postgresql://app:pw-secret@db/jxe", "AWS_SECRET_ACCESS_KEY": "cloud-secret",
           "PYTHONPATH": "/tmp/evil", "LD_PRELOAD": "/tmp/evil.so"}


def test_child_environment_has_only_what_rasa_needs(monkeypatch, tmp_path):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("RASA_DUCKLING_HTTP_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("LANG", "C.UTF-8")
    s = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}",
                 staff_token="staff-secret-value", wechat_appsecret="wechat-secret-value")
    sup = RasaSupervisor(s)
    env = rasa_env(tmp_path / "cache", sup.endpoint_env())
    assert not set(SECRETS) & set(env)
    assert not any(v in val for v in SECRETS.values() for val in env.values())
    assert env["PATH"] and env["HOME"] and env["LANG"] == "C.UTF-8"
    assert env["RASA_DUCKLING_HTTP_URL"] == "http://127.0.0.1:8000" and env["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert env["JXE_INTERNAL_TOKEN"] == s.internal_token and env["JXE_RASA_AUTH_TOKEN"] == s.rasa_auth_token
    assert env["JXE_RASA_TRACKER_CACHE"] == str(s.rasa_tracker_cache)
    assert env["JXE_TRACKER_URL"] == f"sqlite:///{(tmp_path / 'a.db').resolve()}"
    allowed = {"PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR",
               "SQLALCHEMY_SILENCE_UBER_WARNING", "PYTHONUNBUFFERED", "OMP_NUM_THREADS", "JXE_APP_INTERNAL_URL",
               "JXE_INTERNAL_TOKEN", "JXE_RASA_AUTH_TOKEN", "JXE_TRACKER_DIALECT", "JXE_TRACKER_URL",
               "JXE_TRACKER_DB", "JXE_LOCK_STORE_TYPE", "JXE_LOCK_STORE_HOST", "JXE_LOCK_STORE_PORT",
               "JXE_LOCK_STORE_DB", "TICKET_LOCK_LIFETIME", "JXE_RASA_TRACKER_CACHE"}
    assert {k for k in env if not k.startswith(("RASA_", "TF_"))} <= allowed


def test_the_api_token_is_random_per_start_unless_set(tmp_path):
    a, b = Settings(environment="test"), Settings(environment="test")
    assert a.rasa_auth_token and a.rasa_auth_token != b.rasa_auth_token and len(a.rasa_auth_token) >= 24
    assert Settings(environment="test", rasa_auth_token="Given-Token-0123456789abc").rasa_auth_token == \
        "Given-Token-0123456789abc"


def test_the_token_is_not_on_the_command_line(tmp_path):
    s = Settings(environment="test", data_dir=tmp_path)
    cmd = RasaSupervisor(s).command(tmp_path / "m.tar.gz")
    assert s.rasa_auth_token not in " ".join(cmd) and "--auth-token" not in cmd
    # the launcher (inside the Rasa process) adds it from the environment and drops the variable
    environ = {"JXE_RASA_AUTH_TOKEN": "tok-123", "PATH": "/bin"}
    assert apply_auth_token(["rasa", "run", "-p", "5005"], environ) == ["rasa", "run", "-p", "5005",
                                                                      "--auth-token=tok-123"]
    assert environ == {"PATH": "/bin"}
    assert apply_auth_token(["rasa", "train"], {"JXE_RASA_AUTH_TOKEN": "t"}) == ["rasa", "train"]
    assert apply_auth_token(["rasa", "run"], {}) == ["rasa", "run"]


@pytest.mark.parametrize("url", ["http://0.0.0.0:5005", "http://192.168.1.20:5005", "http://rasa.lan:5005"])
def test_supervisor_refuses_a_non_loopback_address(tmp_path, url):
    s = Settings(environment="test", data_dir=tmp_path, rasa_manage=False, rasa_url=url)
    with pytest.raises(ValueError, match="refusing to start Rasa"):
        RasaSupervisor(s)
    ok = Settings(environment="test", data_dir=tmp_path, rasa_manage=False, rasa_url=url, rasa_allow_remote_bind=True)
    assert RasaSupervisor(ok).host == url.split("//")[1].rsplit(":", 1)[0]


@pytest.mark.asyncio
async def test_client_sends_the_token_to_the_api_but_not_to_the_webhook():
    seen: dict[str, str | None] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.url.params.get("token")
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"events": []})

    s = Settings(environment="test", rasa_manage=False, rasa_url="http://rasa.test")
    client = RasaClient(s, transport=httpx.MockTransport(handler))
    await client.send("s1", "你好")
    await client.tracker("s1")
    await client.status()
    assert await client.append_bot_event("s1", "您好")
    await client.aclose()
    assert seen == {"/webhooks/rest/webhook": None, "/conversations/s1/tracker": s.rasa_auth_token,
                    "/status": s.rasa_auth_token, "/conversations/s1/tracker/events": s.rasa_auth_token}


def test_a_token_that_begins_with_a_dash_reaches_rasa_whole():
    """Found by the cost bench: ``secrets.token_urlsafe`` begins with "-" one time in 64, and ``--auth-token -x…``
    made ``rasa run`` exit with "expected one argument" at every restart."""
    import argparse

    parser = argparse.ArgumentParser()  # how rasa run declares it (rasa/cli/arguments/run.py)
    parser.add_argument("command")
    parser.add_argument("-t", "--auth-token", type=str)
    parser.add_argument("-p", "--port")
    for token in ("-Ab3_x9", "--double", "plain-Token_1"):
        argv = apply_auth_token(["rasa", "run", "-p", "5005"], {"JXE_RASA_AUTH_TOKEN": token})
        assert parser.parse_args(argv[1:]).auth_token == token
