"""``GET /metrics``: Prometheus text with the turn histogram, degraded turns and the handoffs waiting, counted
from real turns; closed to the public in production unless ``metrics_public``."""

from __future__ import annotations

import re

from tests.citizen import citizen_client

from assistant.app import create_app

STAFF = "Mq7-Staff-Kx2Lp9Vn4Rt8Wz3Yb6Hd"


def _value(body: str, name: str, **labels: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + ("{" if labels else " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_turns_degraded_turns_and_waiting_handoffs(make_settings, kb):
    # the Rasa URL of make_settings is a closed port: every dialogue turn takes the degraded path
    app = create_app(make_settings(staff_token=STAFF), kb=kb, load_models=False)
    with citizen_client(app) as c:
        before = c.get("/metrics").text
        c.post("/api/v1/chat", json={"session_id": "met-1", "text": "/request_human"}).raise_for_status()
        c.post("/api/v1/chat", json={"session_id": "met-2", "text": "hello there"}).raise_for_status()
        r = c.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        body = r.text
    assert _value(body, "jxe_turn_seconds_count", channel="web", outcome="degraded") == \
        _value(before, "jxe_turn_seconds_count", channel="web", outcome="degraded") + 1
    assert _value(body, "jxe_turn_seconds_count", channel="web", outcome="input") == \
        _value(before, "jxe_turn_seconds_count", channel="web", outcome="input") + 1
    assert _value(body, "jxe_degraded_turns_total", reason="rasa_unavailable") == \
        _value(before, "jxe_degraded_turns_total", reason="rasa_unavailable") + 1
    assert _value(before, "jxe_handoffs_waiting") == 0 and _value(body, "jxe_handoffs_waiting") == 1
    assert re.search(r'^jxe_turn_seconds_bucket\{channel="web",le="0\.1",outcome="degraded"\}', body, re.M)
    for name in ("jxe_asr_sessions", "jxe_scheduler_runs_total", "jxe_turn_errors_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in body


def test_metrics_need_the_staff_token_in_production_unless_public(make_settings, kb):
    prod = dict(environment="production", staff_token=STAFF, internal_token="Nq8-Int-Kx2Lp9Vn4Rt8Wz3Yb6Hd",
                rasa_auth_token="Pr5-Api-Kx2Lp9Vn4Rt8Wz3Yb6Hd")
    with citizen_client(create_app(make_settings(**prod), kb=kb, load_models=False)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": f"Bearer {STAFF}"})
        assert ok.status_code == 200 and "jxe_turn_seconds" in ok.text
    with citizen_client(create_app(make_settings(**prod, metrics_public=True), kb=kb, load_models=False)) as c:
        assert c.get("/metrics").status_code == 200
