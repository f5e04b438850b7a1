"""Chat rate limits per conversation and per client address, on both counter stores (this process's memory, and
the Redis on 127.0.0.1:6379 that every app process would share), and the client address behind trusted proxies."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from starlette.datastructures import Headers

from assistant.api.limits import RateLimiter, client_ip, storage_uri
from assistant.app import create_app
from tests.citizen import citizen_client

CHAT = "/api/v1/chat"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def limited(request, make_settings, kb):
    """A factory of TestClients for an app with the given limits, counting in memory or in Redis."""
    if request.param == "redis" and not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (scripts/test.sh starts one)")
    clients = []

    def _make(client=("203.0.113.7", 40000), **overrides):
        settings = make_settings(redis_url=REDIS_URL if request.param == "redis" else "", **overrides)
        app = create_app(settings, kb=kb, load_models=False, rasa=None)
        # a key prefix of its own: other test runs may share the Redis
        app.state.services.limiter = RateLimiter(settings, key_prefix=f"jxe-test-{uuid.uuid4().hex}")
        assert app.state.services.limiter.backend == request.param
        c = citizen_client(app, client=client)
        clients.append(c.__enter__())
        return c

    yield _make
    for c in clients:
        c.__exit__(None, None, None)


def _chat(c, sid, text="你好", **kw):
    return c.post(CHAT, json={"session_id": sid, "text": text}, **kw)


def test_one_conversation_is_limited_per_minute(limited):
    c = limited(rate_limit_session_per_min=3, rate_limit_ip_per_min=100)
    assert [_chat(c, "rl-s1").status_code for _ in range(3)] == [200, 200, 200]
    r = _chat(c, "rl-s1")
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert "频繁" in r.json()["message"] and "too many requests" in r.json()["message"]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert _chat(c, "rl-s2").status_code == 200  # another conversation from the same address goes on


def test_one_address_is_limited_across_conversations(limited):
    c = limited(rate_limit_session_per_min=100, rate_limit_ip_per_min=4)
    codes = [_chat(c, f"rl-ip-{i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    other = limited(client=("198.51.100.9", 40000), rate_limit_session_per_min=100, rate_limit_ip_per_min=4)
    other.app.state.services.limiter = c.app.state.services.limiter  # same counters, another address
    assert _chat(other, "rl-ip-x").status_code == 200


def test_the_mini_program_chat_is_limited_too(limited):
    c = limited(rate_limit_session_per_min=1, rate_limit_ip_per_min=100)
    session = c.post("/api/v1/mp/session", json={"openid": "o-rate-limit"})
    assert session.status_code == 200, session.text
    body = {"session_id": session.json()["session_id"], "text": "你好"}
    assert c.post("/api/v1/mp/chat", json=body).status_code == 200
    assert c.post("/api/v1/mp/chat", json=body).status_code == 429


def test_zero_means_no_limit(limited):
    c = limited(rate_limit_session_per_min=0, rate_limit_ip_per_min=0)
    assert all(_chat(c, "rl-none").status_code == 200 for _ in range(8))


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(limited):
    # the direct peer is not a proxy: every X-Forwarded-For is the client's own claim and ignored
    direct = limited(rate_limit_session_per_min=100, rate_limit_ip_per_min=2)
    codes = [_chat(direct, f"xff-{i}", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    # behind the trusted proxy 10.0.0.5 each forwarded client has its own allowance
    proxied = limited(client=("10.0.0.5", 40000), trusted_proxies=["10.0.0.0/24"],
                      rate_limit_session_per_min=100, rate_limit_ip_per_min=2)
    for i in range(3):
        assert _chat(proxied, f"p-{i}", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code == 200
    both = [_chat(proxied, f"q-{i}", headers={"X-Forwarded-For": "192.0.2.50"}).status_code for i in range(3)]
    assert both == [200, 200, 429]


def test_a_broken_redis_lets_the_chat_through(make_settings, kb, closed_url):
    port = closed_url.rsplit(":", 1)[1]
    app = create_app(make_settings(redis_url=f"redis://127.0.0.1:{port}/0", rate_limit_session_per_min=1),
                     kb=kb, load_models=False, rasa=None)
    with citizen_client(app) as c:
        assert [_chat(c, "rl-down").status_code for _ in range(2)] == [200, 200]


def _ip(peer, xff=None, trusted=()):
    headers = Headers(raw=[(b"x-forwarded-for", v.encode()) for v in ([xff] if isinstance(xff, str) else xff or [])])
    nets = [ipaddress.ip_network(t) for t in trusted]
    return client_ip({"client": (peer, 1)}, headers, nets)


def test_client_ip_rules():
    assert _ip("203.0.113.1") == "203.0.113.1"
    assert _ip("203.0.113.1", "1.2.3.4") == "203.0.113.1"  # untrusted peer: header ignored
    assert _ip("10.0.0.2", "1.2.3.4", ["10.0.0.0/8"]) == "1.2.3.4"
    # a client that writes its own X-Forwarded-For cannot choose its address: the right-most untrusted one wins
    assert _ip("10.0.0.2", "6.6.6.6, 1.2.3.4", ["10.0.0.0/8"]) == "1.2.3.4"
    # a chain of trusted proxies is skipped; several headers are one list
    assert _ip("10.0.0.2", ["1.2.3.4, 10.0.0.9", "10.0.0.3"], ["10.0.0.0/8"]) == "1.2.3.4"
    assert _ip("::1", "2001:db8::7", ["::1/128"]) == "2001:db8::7"
    assert _ip("10.0.0.2", None, ["10.0.0.0/8"]) == "10.0.0.2"


def test_storage_uri():
    assert storage_uri("redis://h:6379/1") == "async+redis://h:6379/1"
    assert storage_uri("rediss://:pw@h:6380") == "async+rediss://:pw@h:6380"
    assert storage_uri("unix:///run/redis.sock?db=2") == "async+redis+unix:///run/redis.sock?db=2"


def test_redis_url_and_proxies_come_from_the_environment(monkeypatch, tmp_path):
    from pydantic import ValidationError

    from assistant.settings import Settings

    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("JXE_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12")
    s = Settings()
    assert s.redis_url == "redis://cache:6379/2" and s.trusted_proxies == ["10.0.0.1", "172.16.0.0/12"]
    assert (s.rate_limit_session_per_min, s.rate_limit_ip_per_min) == (30, 120)
    monkeypatch.setenv("JXE_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings()
