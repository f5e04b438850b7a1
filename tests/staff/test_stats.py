"""``GET /api/v1/stats`` and its CSV on SQLite and PostgreSQL: every figure equals what was counted by hand from a
known week written through the app's own stores; a turn's outcome is recorded where the turn is stored."""

from __future__ import annotations

import csv
import io

import pytest
from tests.citizen import citizen_client

from tests.staff.dash_data import NOW, PHONE, STREET_A, STREET_B, message_outcomes, seed

TOKEN = "dash-staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class _Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def client(make_settings, kb, db_url):
    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    app = create_app(make_settings(staff_token=TOKEN, database_url=db_url), kb=kb, nlu=None, rasa=None,
                     load_models=False)
    app.state.services.preservice_scheduler = False
    set_clock(app.state.services, _Clock(NOW))
    with citizen_client(app, raise_server_exceptions=False) as c:
        c.services = app.state.services
        yield c


def test_turn_outcome_is_recorded_with_the_turn(client, kb):
    seed(client.services, kb)
    rows = message_outcomes(client.services)
    m_a, m_b = kb.matters[0], kb.matters[1]
    assert rows[0][1:] == ("matter", m_a.code)
    assert rows[1][1:] == ("matter", m_a.code)  # a checklist counts as answered with the matter
    assert [r[1] for r in rows[2:5]] == ["fallback", "fallback", "fallback"]  # out_of_scope + handoff: fallback
    assert rows[5][1:] == ("matter", m_b.code)
    assert rows[6][1:] == ("other", None)
    assert PHONE not in rows[4][0]  # stored masked


def test_stats_match_the_week_counted_by_hand(client, kb):
    want = seed(client.services, kb)
    r = client.get("/api/v1/stats?days=7", headers=AUTH)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["from"], got["to"], got["days"]) == ("2026-11-25", "2026-12-01", 7)
    for key in ("sessions", "turns", "answered_with_matter", "fallbacks", "fallback_rate", "matter_rate", "handoffs",
                "handoff_rate"):
        assert got[key] == want[key], key
    assert got["per_day"] == want["per_day"]  # a 17:30 UTC turn counts on the next local day
    assert [(m["code"], m["name"], m["turns"]) for m in got["top_matters"]] == want["top_matters"]
    unanswered = [(u["text"], u["count"]) for u in got["top_unanswered"]]
    assert unanswered[0] == want["top_unanswered"][0]
    assert len(unanswered) == 2 and all(PHONE not in t for t, _ in unanswered)
    assert "138****5678" in unanswered[1][0]
    w, h = got["waiting"], got["handling"]
    assert (w["answered"], w["avg_s"], w["max_s"], w["claimed"], w["avg_claim_s"], w["unanswered_now"]) == \
        (2, want["waiting_avg_s"], want["waiting_max_s"], 1, want["claim_avg_s"], want["unanswered_now"])
    assert (h["closed"], h["avg_s"], h["max_s"]) == (1, want["handling_avg_s"], want["handling_avg_s"])
    sat = got["satisfaction"]
    assert (sat["ratings"], sat["avg_rating"], sat["thumbs_up"], sat["thumbs_down"], sat["thumbs_up_rate"]) == \
        (want["ratings"], want["avg_rating"], want["thumbs_up"], want["thumbs_down"], 0.75)
    assert sat["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    pre = got["preservice"]
    assert (pre["reminders_sent"], pre["reminders_by_channel"], pre["reminders_to_phone"]) == \
        (want["reminders_sent"], want["reminders_by_channel"], want["reminders_to_phone"])
    assert pre["visits_booked"] == want["visits_booked"]
    assert {v["street"]: (v["booked"], v["done"]) for v in pre["visits_by_street"]} == want["visits_by_street"]
    assert (pre["firms_pushed"], pre["firms_acknowledged"], pre["firms_escalated"]) == \
        (want["firms_pushed"], want["firms_acknowledged"], want["firms_escalated"])
    a = next(f for f in pre["firms_by_street"] if f["street"] == STREET_A)
    assert (a["pushed"], a["acknowledged"], a["escalated"], a["avg_ack_s"]) == (2, 1, 1, 7200.0)
    assert STREET_B not in {f["street"] for f in pre["firms_by_street"]}


def test_a_wider_window_takes_the_older_rows(client, kb):
    seed(client.services, kb)
    got = client.get("/api/v1/stats?days=31", headers=AUTH).json()
    assert (got["turns"], got["sessions"], got["handoffs"]) == (8, 4, 3)
    assert got["satisfaction"]["thumbs_down"] == 2
    one = client.get("/api/v1/stats?days=1", headers=AUTH).json()
    assert (one["from"], one["turns"], one["sessions"]) == ("2026-12-01", 3, 1)


def test_csv_export_has_the_same_figures(client, kb):
    seed(client.services, kb)
    stats = client.get("/api/v1/stats?days=7", headers=AUTH).json()
    r = client.get("/api/v1/stats.csv?days=7", headers=AUTH)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    summary = {row["key"]: row["value"] for row in rows if row["figure"] == "summary"}
    assert int(summary["turns"]) == stats["turns"] and float(summary["fallback_rate"]) == stats["fallback_rate"]
    turns = {(row["day"], row["key"]): int(row["value"]) for row in rows if row["figure"] == "turns"}
    assert turns == {(d["day"], d["channel"]): d["turns"] for d in stats["per_day"]}
    assert PHONE not in r.content.decode("utf-8-sig")


def test_stats_are_audited_and_refuse_anonymous_and_bad_input(client, kb):
    from assistant.db.audit import entries

    assert client.get("/api/v1/stats").status_code == 401
    assert client.get("/api/v1/stats.csv").status_code == 401
    r = client.get("/api/v1/stats?days=0", headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]
    assert client.get("/api/v1/stats?days=abc", headers=AUTH).status_code == 422
    assert client.get("/api/v1/stats?days=3", headers=AUTH).status_code == 200
    log = entries(client.services.db)
    assert log[0]["action"] == "stats.view" and log[0]["detail"]["days"] == 3


def test_empty_database_gives_zeros_not_errors(client):
    got = client.get("/api/v1/stats?days=7", headers=AUTH).json()
    assert (got["turns"], got["sessions"], got["fallback_rate"], got["handoff_rate"]) == (0, 0, 0.0, 0.0)
    assert got["waiting"]["avg_s"] is None and got["top_matters"] == [] and got["per_day"] == []


def test_real_turns_are_counted_as_the_assistant_answered_them(nlu_app_client):
    """Turns through ``POST /api/v1/chat`` (real NLU, Rasa down: the degraded path): the dashboard counts each one
    as what the citizen was actually answered — a matter card, a fallback — and the handoff it opened."""
    c = nlu_app_client
    questions = ["我想办个体户营业执照", "今天天气怎么样", "阿巴阿巴", "转人工"]
    answers = []
    for i, q in enumerate(questions):  # one conversation each: no earlier matter colours the answer
        r = c.post("/api/v1/chat", json={"session_id": f"real-{i}", "text": q})
        assert r.status_code == 200, r.text
        answers.append(r.json())
    with_matter = sum(any(p["type"] in {"matter_card", "checklist"} for p in a["replies"]) for a in answers)
    fallbacks = sum(a["intent"] in {"nlu_fallback", "out_of_scope"} for a in answers)
    assert with_matter >= 1 and fallbacks >= 1  # the questions were picked to give both
    got = c.get("/api/v1/stats?days=1", headers={"Authorization": "Bearer test-staff-token"}).json()
    assert (got["turns"], got["sessions"]) == (4, 4)
    assert got["answered_with_matter"] == with_matter and got["fallbacks"] == fallbacks
    assert got["handoffs"] == sum(1 for a in answers if a["handoff"]) and got["handoffs"] >= 1
    assert got["per_day"] == [{"day": got["to"], "channel": "web", "conversations": 4, "turns": 4}]
