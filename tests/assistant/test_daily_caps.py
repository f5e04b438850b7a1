"""Daily caps per client on what costs staff time or stores personal data (issue 11): human-helper tickets,
home-visit bookings and answer ratings, counted in this process's memory and in the Redis on 127.0.0.1:6379 that
every app process shares. Finding: one script could open unlimited tickets, bookings and ratings."""

from __future__ import annotations

import time
import uuid

import pytest

from assistant.api.limits import RateLimiter
from assistant.app import create_app
from assistant.dialogue.replies import say
from tests.assistant.test_rate_limits import REDIS_URL, _redis_up
from tests.citizen import citizen_client

CHAT = "/api/v1/chat"
KEY = "Pz7-daily-caps-test-key-Qm4xW"
INTERNAL = "rasa-internal-token-for-tests"


@pytest.fixture(params=["memory", "redis"])
def capped(request, make_settings, kb):
    """``capped(client=(ip, port), prefix=None, **settings) -> TestClient`` of an app whose counters live in memory
    or in Redis (under a key prefix of their own; pass ``prefix`` to share it between two apps)."""
    if request.param == "redis" and not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (scripts/test.sh starts one)")
    made = []
    run_prefix = f"jxe-test-{uuid.uuid4().hex}"

    def _make(client=("203.0.113.7", 40000), prefix=None, **overrides):
        values = dict(redis_url=REDIS_URL if request.param == "redis" else "", pseudonym_key=KEY,
                      internal_token=INTERNAL, rate_limit_ip_per_min=0, rate_limit_session_per_min=0)
        values.update(overrides)
        settings = make_settings(**values)
        app = create_app(settings, kb=kb, load_models=False, rasa=None)
        app.state.services.limiter = RateLimiter(settings, key_prefix=prefix or run_prefix)
        c = citizen_client(app, client=client)
        made.append(c.__enter__())
        return c

    _make.backend = request.param
    _make.prefix = run_prefix
    yield _make
    for c in made:
        c.__exit__(None, None, None)


def _handoff(c, sid, **kw):
    r = c.post(CHAT, json={"session_id": sid, "text": "/request_human", **kw.pop("body", {})}, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def test_tickets_are_capped_per_client_a_day(capped):
    c = capped(cap_tickets_per_ip_day=2)
    assert _handoff(c, "cap-t1")["handoff"] and _handoff(c, "cap-t2")["handoff"]
    third = _handoff(c, "cap-t3")
    assert third["handoff"] is None
    assert any(p.get("text") == say("handoff.capped") for p in third["replies"])
    assert len(c.app.state.services.handoffs.list()) == 2
    # asking again in a conversation whose ticket is open refreshes that ticket: never capped
    assert _handoff(c, "cap-t1")["handoff"]["id"] == _handoff(c, "cap-t1")["handoff"]["id"]
    # another client is not affected
    other = capped(client=("198.51.100.9", 40000), cap_tickets_per_ip_day=2,
                   prefix=c.app.state.services.limiter.key_prefix)
    assert _handoff(other, "cap-t4")["handoff"]


def test_a_client_cannot_choose_what_it_is_counted_as(capped):
    c = capped(cap_tickets_per_ip_day=1)
    assert _handoff(c, "cap-m1", body={"metadata": {"client_ref": "c-mine-1"}})["handoff"]
    assert _handoff(c, "cap-m2", body={"metadata": {"client_ref": "c-mine-2"}})["handoff"] is None
    # nor via X-Forwarded-For from a peer that is not a trusted proxy
    assert _handoff(c, "cap-m3", headers={"X-Forwarded-For": "192.0.2.77"})["handoff"] is None


def test_a_kiosk_with_the_device_key_is_not_capped(capped):
    key = "Kiosk-Device-Key-0123456789abc"
    c = capped(cap_tickets_per_ip_day=1, kiosk_device_key=key)
    assert _handoff(c, "cap-k1")["handoff"] and _handoff(c, "cap-k2")["handoff"] is None
    for i in range(3):  # the hall's kiosk opens many tickets a day
        assert _handoff(c, f"cap-k-dev-{i}", headers={"X-Kiosk-Key": key})["handoff"]
    assert _handoff(c, "cap-k3", headers={"X-Kiosk-Key": "wrong-key"})["handoff"] is None


def test_ratings_are_capped_with_a_429(capped):
    c = capped(cap_feedback_per_ip_day=2)
    assert c.post(CHAT, json={"session_id": "cap-f", "text": "你好"}).status_code == 200
    codes = [c.post("/api/v1/feedback", json={"session_id": "cap-f", "message_ref": str(i), "rating": "up"})
             for i in range(3)]
    assert [r.status_code for r in codes] == [201, 201, 429]
    over = codes[-1]
    assert over.json()["error"] == "daily_cap" and "明天" in over.json()["message"]
    assert 1 <= int(over.headers["retry-after"]) <= 86400


def _submit_booking(c, sender: str, client_ref: str | None) -> str:
    """``action_home_visit_submit`` as Rasa calls it after the last answer of the form."""
    slots = {"visit_person": "王德福，88岁", "visit_phone": "13812345678", "visit_address": "金牛区营康西路12号",
             "visit_street": "营门口街道", "visit_matter": "|养老金资格认证", "visit_time": "2026-12-24|上午"}
    latest = {"text": "下周二上午", "intent": {"name": "inform", "confidence": 0.9}, "entities": [],
              "metadata": {"channel": "web", "client_ref": client_ref}}
    body = {"next_action": "action_home_visit_submit", "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": slots, "latest_message": latest, "paused": False,
                        "events": [{"event": "user", "text": latest["text"], "timestamp": time.time(),
                                    "parse_data": latest, "metadata": latest["metadata"]}],
                        "active_loop": {}, "latest_action_name": "action_listen"}}
    r = c.post(f"/actions/webhook?token={INTERNAL}", json=body)
    assert r.status_code == 200, r.text
    return "\n".join(x["custom"].get("text", "") for x in r.json()["responses"])


def test_bookings_are_capped_per_client_a_day(capped):
    from assistant.preservice.runtime import get_preservice

    c = capped(cap_bookings_per_ip_day=1)
    assert "预约成功" in _submit_booking(c, "cap-b1", "c-abc")
    refused = _submit_booking(c, "cap-b2", "c-abc")
    assert refused == say("preservice.visit.capped")
    assert "预约成功" in _submit_booking(c, "cap-b3", "c-other")      # another client
    assert "预约成功" in _submit_booking(c, "cap-b4", None)           # a kiosk with the device key
    pre = get_preservice(c.app.state.services)
    assert [len(pre.bookings.for_session(s)) for s in ("cap-b1", "cap-b2", "cap-b3")] == [1, 0, 1]


def test_the_counters_are_shared_by_every_process(capped):
    """Two app processes (two apps, two limiters) on the same counter store: with Redis they count together;
    in memory each counts alone (docs/security.md says to use Redis for more than one process)."""
    a = capped(cap_feedback_per_ip_day=2)
    b = capped(cap_feedback_per_ip_day=2, prefix=capped.prefix)
    for app_client, sid in ((a, "cap-s1"), (b, "cap-s2")):
        assert app_client.post(CHAT, json={"session_id": sid, "text": "你好"}).status_code == 200
    rate = lambda c, sid, i: c.post("/api/v1/feedback", json={"session_id": sid, "message_ref": str(i),  # noqa: E731
                                                                "rating": "down"}).status_code
    assert [rate(a, "cap-s1", 1), rate(a, "cap-s1", 2)] == [201, 201]
    assert rate(b, "cap-s2", 3) == (429 if capped.backend == "redis" else 201)


def test_zero_means_no_cap(capped):
    c = capped(cap_tickets_per_ip_day=0)
    assert all(_handoff(c, f"cap-z{i}")["handoff"] for i in range(4))
