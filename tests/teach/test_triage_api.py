"""The triage inbox over HTTP with the real NLU and a real database (SQLite; the stores are the same on PostgreSQL):
signals recorded where they arise (masked), grouped, resolved to a matter / an intent / out of scope, served at
once, refused without staff credentials, audited, exported."""

from __future__ import annotations

import subprocess
import sys

import yaml
from sqlalchemy import select

from assistant.db.audit import entries
from assistant.db.triage import LearnedExampleRow, TriageItem
from assistant.teach import store
from tests.teach.conftest import STAFF, SHOP_CODE, SHOP_PARAPHRASE, SHOP_Q, chat


def _groups(client, **params) -> list[dict]:
    r = client.get("/api/v1/triage", params=params, headers=STAFF)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _group_of(client, text: str) -> dict:
    return next(g for g in _groups(client) if text in g["examples"])


def _services(client):
    return client.app.state.services


def test_signals_are_recorded_masked_and_grouped(teach_client):
    c = teach_client
    first = chat(c, "s-shop-1", SHOP_Q)
    assert first["matter"] is None  # a clarification, not an answer
    chat(c, "s-shop-2", SHOP_PARAPHRASE)
    chat(c, "s-shop-1", "都不是我要的")  # a clarification nobody picked
    chat(c, "s-fb", "那个啥子嘛 13812345678 你晓得不")
    items = _groups(c)
    g = _group_of(c, SHOP_Q)
    assert g["count"] >= 3 and SHOP_PARAPHRASE in g["examples"]
    assert {"ambiguous", "clarify_unpicked"} <= set(g["reasons"])
    assert g["predicted_matter"] and g["predicted_matter"]["code"]
    assert g == items[0]  # the most frequent first
    texts = " ".join(t for x in items for t in x["examples"])
    assert "13812345678" not in texts
    newest = _groups(c, sort="newest")
    assert newest[0]["last_seen"] >= newest[-1]["last_seen"]


def test_thumbs_down_and_a_handoff_right_after_an_answer(teach_client):
    c = teach_client
    answer = chat(c, "s-card", "驾驶证六年有效期满了要换证")
    assert answer["matter"]["code"] == "JN-JG-002"
    chat(c, "s-card", "转人工")
    r = c.post("/api/v1/feedback", json={"session_id": "s-card", "message_ref": str(answer["message_id"]),
                                         "rating": "down", "channel": "web"})
    assert r.status_code == 201
    g = _group_of(c, "驾驶证六年有效期满了要换证")
    assert {"handoff_after_answer", "thumbs_down"} <= set(g["reasons"])
    assert g["predicted_matter"]["code"] == "JN-JG-002"


def test_resolve_to_a_matter_routes_the_question_and_a_paraphrase_at_once(teach_client):
    c = teach_client
    chat(c, "s-a", SHOP_Q)
    gid = _group_of(c, SHOP_Q)["id"]
    r = c.post(f"/api/v1/triage/{gid}/resolve", json={"matter_code": SHOP_CODE}, headers=STAFF)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "live" and out["kind"] == "matter" and out["check"]["passed"]
    assert out["check"]["candidate"] >= out["check"]["baseline"]
    for i, text in enumerate((SHOP_Q, SHOP_PARAPHRASE)):
        assert chat(c, f"s-after-{i}", text)["matter"]["code"] == SHOP_CODE, text
    assert all(SHOP_Q not in g["examples"] for g in _groups(c))
    again = c.post(f"/api/v1/triage/{gid}/resolve", json={"matter_code": SHOP_CODE}, headers=STAFF)
    assert again.status_code == 409 and again.json()["error"] == "already_resolved"
    actions = [(e["action"], e["target"]) for e in entries(_services(c).db)]
    assert ("triage.resolve", f"triage:{gid}") in actions and ("triage.view", "triage") in actions
    with _services(c).db.session() as s:
        rows = s.scalars(select(LearnedExampleRow)).all()
        assert [(x.text, x.kind, x.label, x.status, x.created_by) for x in rows] == \
            [(SHOP_Q, "matter", SHOP_CODE, "live", "service")]


def _item(client, text: str) -> int:
    return store.add_item(_services(client).db, session_id="s-x", channel="web", text=text, reason="fallback")


def test_resolve_to_an_intent_and_out_of_scope(teach_client):
    c = teach_client
    cat = _item(c, "屋头猫儿走丢了")
    sign = _item(c, "门口想挂个大招牌要批不")
    r = c.post(f"/api/v1/triage/{cat}/resolve", json={"intent": "request_human"}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert chat(c, "s-cat", "屋头猫儿走丢了")["intent"] == "request_human"
    r = c.post(f"/api/v1/triage/{sign}/resolve", json={"out_of_scope": True}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert chat(c, "s-sign", "门口想挂个大招牌要批不")["intent"] == "out_of_scope"
    options = c.get("/api/v1/triage/options", params={"q": "个体工商户设立"}, headers=STAFF).json()
    assert "request_human" in options["intents"] and "nlu_fallback" not in options["intents"]
    assert any(m["code"] == SHOP_CODE for m in options["matters"])


def test_bad_resolutions_get_clear_errors(teach_client):
    c = teach_client
    gid = _item(c, "这个到底咋个弄嘛")
    cases = [({"intent": "nlu_fallback"}, 422, "unknown_intent"), ({"matter_code": "NO-SUCH"}, 404, "unknown_matter"),
             ({"matter_code": SHOP_CODE, "out_of_scope": True}, 422, "invalid_request"), ({}, 422, "invalid_request"),
             ({"out_of_scope": False}, 422, "invalid_request")]
    for body, status, error in cases:
        r = c.post(f"/api/v1/triage/{gid}/resolve", json=body, headers=STAFF)
        assert (r.status_code, r.json()["error"]) == (status, error), (body, r.text)
        assert "/" in r.json()["message"]
    r = c.post("/api/v1/triage/999999/resolve", json={"out_of_scope": True}, headers=STAFF)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


def test_a_batch_that_breaks_the_held_out_set_is_held_back(teach_client):
    c = teach_client
    gid = _item(c, "驾驶证六年有效期满了要换证")
    r = c.post(f"/api/v1/triage/{gid}/resolve", json={"out_of_scope": True}, headers=STAFF)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "regression" and "暂缓" in body["message"] and "held back" in body["message"]
    assert body["check"]["candidate"] < body["check"]["baseline"]
    assert any(b["text"] == "驾驶证六年有效期满了要换证" for b in body["check"]["broken"])
    assert chat(c, "s-lic", "驾驶证六年有效期满了要换证")["matter"]["code"] == "JN-JG-002"  # not served
    g = _group_of(c, "驾驶证六年有效期满了要换证")
    assert g["status"] == "held" and g["message"] == body["message"]
    with _services(c).db.session() as s:
        assert s.scalars(select(LearnedExampleRow.status)).all() == ["held"]
        assert s.scalars(select(TriageItem.status).where(TriageItem.id == gid)).one() == "held"
    assert ("triage.held", f"triage:{gid}") in [(e["action"], e["target"]) for e in entries(_services(c).db)]


def test_anonymous_and_wrong_credentials_are_refused(teach_client):
    c = teach_client
    gid = _item(c, "这个到底咋个弄嘛")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert c.get("/api/v1/triage", headers=headers).status_code == 401
        r = c.post(f"/api/v1/triage/{gid}/resolve", json={"out_of_scope": True}, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    page = c.get("/staff/triage", follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/staff/login")


def test_only_teachers_resolve_and_every_helper_reads(teach_client, staff_user):
    c = teach_client
    gid = _item(c, "这个到底咋个弄嘛")

    def bearer(login):
        r = c.post("/api/v1/auth/login", json={"username": login.username, "password": login.password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    street = bearer(staff_user("street", "金泉街道", "agent", target=c.app))
    community = bearer(staff_user("community", "金泉街道/两河社区", "agent", target=c.app))
    district = staff_user("district", None, "agent", target=c.app)
    for headers in (street, community):
        assert c.get("/api/v1/triage", headers=headers).status_code == 200
        r = c.post(f"/api/v1/triage/{gid}/resolve", json={"out_of_scope": True}, headers=headers)
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    r = c.post(f"/api/v1/triage/{gid}/resolve", json={"out_of_scope": True}, headers=bearer(district))
    assert r.status_code == 200, r.text
    log = entries(_services(c).db)
    assert ("triage.resolve", district.username) in [(e["action"], e["actor"]) for e in log]


def test_export_learned_writes_yaml(teach_client, tmp_path):
    c = teach_client
    gid = _item(c, "屋头猫儿走丢了")
    assert c.post(f"/api/v1/triage/{gid}/resolve", json={"intent": "request_human"}, headers=STAFF).status_code == 200
    settings = _services(c).settings
    out = tmp_path / "learned.yml"
    env = {"JXE_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "assistant.cli", "kb", "export-learned", "--out", str(out)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["intents"] == {"request_human": ["屋头猫儿走丢了"]} and data["matters"] == {}


def test_none_of_these_button_after_a_clarification_is_recorded(teach_client):
    c = teach_client
    first = chat(c, "s-none", SHOP_Q)
    buttons = [b for p in first["replies"] if p["type"] == "buttons" for b in p["buttons"]]
    none = next(b["payload"] for b in buttons if "request_human" in b["payload"])
    chat(c, "s-none", none)
    with _services(c).db.session() as s:
        rows = s.scalars(select(TriageItem).where(TriageItem.session_id == "s-none")).all()
        assert {(r.text, r.reason) for r in rows} == {(SHOP_Q, "ambiguous"), (SHOP_Q, "clarify_unpicked")}
        assert all(not r.text.startswith("/") for r in rows)
