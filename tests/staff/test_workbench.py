"""The ticket workflow over HTTP: routing, presence and office hours told honestly, call-backs (masked, reveal
audited), rating after close, the queue API, and the older /api/v1/handoffs API for automation."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from tests.citizen import citizen_client

from tests.staff.conftest import STAFF_TOKEN

SERVICE = {"Authorization": f"Bearer {STAFF_TOKEN}"}
ALWAYS_OPEN = {"staff_office_hours": "00:00-23:59", "staff_office_days": [1, 2, 3, 4, 5, 6, 7]}


def _client(make_settings, kb, **overrides):
    from assistant.app import create_app

    app = create_app(make_settings(staff_token=STAFF_TOKEN, rate_limit_ip_per_min=0, rate_limit_session_per_min=0,
                                   **overrides), kb=kb, rasa=None, load_models=False)
    return citizen_client(app, raise_server_exceptions=False)


def _chat(c, sid, text):
    r = c.post("/api/v1/chat", json={"session_id": sid, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def _texts(reply):
    return "\n".join(p.get("text", "") for p in reply["replies"])


def test_routing_by_street_and_priority():
    from assistant.staff import routing
    from assistant.staff.identity import StaffUser

    assert routing.route_place("区政务大厅", ["营康西路12号"]) is None
    assert routing.route_place("街道便民服务中心", ["我家在营康西路***", "你好"]) == "营门口街道"
    assert routing.route_place("社区便民服务站", ["花照壁社区5栋"]) == "花照壁社区"
    assert routing.route_place("社区便民服务站", ["营康西路12号"]) == "营门口街道"
    assert routing.route_place("街道便民服务中心", ["没有地址"]) is None
    street = StaffUser("s", "street", "营门口街道", "agent")
    community = StaffUser("c", "community", "花照壁社区", "agent")
    assert routing.priority(street, "街道便民服务中心", "营门口街道") == 0
    assert routing.priority(street, "街道便民服务中心", "茶店子街道") == 1
    assert routing.priority(street, "街道便民服务中心", None) == 0
    assert routing.priority(street, "区政务大厅", None) == 2
    assert routing.priority(community, "社区便民服务站", "营门口街道") == 0  # their street's ticket
    assert routing.priority(community, "社区便民服务站", "花照壁社区") == 0
    assert routing.street_of("花照壁社区") == "营门口街道"


def test_office_hours_and_next_opening():
    from assistant.settings import Settings
    from assistant.staff import routing

    s = Settings(environment="test", rasa_manage=False)
    saturday = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)  # 10:00 China time, a Saturday
    assert not routing.in_office_hours(s, saturday)
    nxt = routing.next_opening(s, saturday)
    assert nxt.astimezone(routing.CST).isoweekday() == 1 and nxt.astimezone(routing.CST).hour == 9
    assert routing.describe_time(nxt, saturday) == "12月7日（周一）09:00"
    monday_morning = datetime(2026, 12, 7, 0, 30, tzinfo=timezone.utc)  # 08:30 China time
    assert routing.describe_time(routing.next_opening(s, monday_morning), monday_morning) == "今天 09:00"
    assert routing.in_office_hours(s, datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc))
    assert routing.office_hours_text(s) == "周一至周五 09:00-17:00"


def test_nobody_online_offers_a_callback_and_the_number_is_masked_for_staff(make_settings, kb):
    from assistant.db.audit import entries

    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        sid = "cb-1"
        reply = _chat(c, sid, "/request_human")
        assert "暂时没有专员在线" in _texts(reply) and "手机号码" in _texts(reply)
        assert reply["handoff"]["callback"] is True
        saved = _chat(c, sid, "13812345678")
        assert "138****5678" in _texts(saved) and "13812345678" not in _texts(saved)
        tid = reply["handoff"]["id"]
        detail = c.get(f"/api/v1/tickets/{tid}", headers=SERVICE).json()
        assert detail["callbacks"][0]["phone"] == "138****5678"
        assert "13812345678" not in str(detail)
        queue = c.get("/api/v1/tickets", headers=SERVICE).json()["tickets"]
        assert next(t for t in queue if t["id"] == tid)["callback"] is True
        cid = detail["callbacks"][0]["id"]
        full = c.post(f"/api/v1/tickets/{tid}/callbacks/{cid}/reveal?done=true", headers=SERVICE).json()
        assert full["phone"] == "13812345678"
        acts = [(e["action"], e["target"]) for e in entries(c.app.state.services.db, actor="service")]
        assert ("callback.reveal", f"ticket:{tid}") in acts and ("ticket.view", f"ticket:{tid}") in acts
        # the web form does the same
        r = c.post(f"/api/v1/chat/{sid}/callback", json={"phone": "028-87654321"})
        assert r.status_code == 200 and "028-******21" in r.json()["message"]
        assert c.post(f"/api/v1/chat/{sid}/callback", json={"phone": "hello"}).status_code == 422
        assert c.post("/api/v1/chat/nobody/callback", json={"phone": "13812345678"}).status_code == 401  # no token


def test_outside_office_hours_the_citizen_is_told_when(make_settings, kb):
    # every day a working day, so the next opening is tomorrow whatever day the test runs on
    with _client(make_settings, kb, staff_office_hours="00:00-00:00",
                 staff_office_days=ALWAYS_OPEN["staff_office_days"]) as c:
        reply = _chat(c, "oh-1", "/request_human")
        assert "不是专员的工作时间" in _texts(reply) and "明天" in _texts(reply)


def test_with_a_helper_online_no_apology(make_settings, kb, staff_user):
    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        helper = staff_user("district", target=c.app)
        token = c.post("/api/v1/auth/login", json={"username": helper.username, "password": helper.password}
                       ).json()["token"]
        assert c.post("/api/v1/staff/heartbeat", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        online = c.get("/api/v1/staff/online", headers=SERVICE).json()
        assert [o["username"] for o in online["online"]] == [helper.username]
        reply = _chat(c, "on-1", "/request_human")
        assert "没有专员在线" not in _texts(reply) and "callback" not in reply["handoff"]


def test_rating_after_close(make_settings, kb):
    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        sid = "rate-1"
        tid = _chat(c, sid, "/request_human")["handoff"]["id"]
        r = c.post(f"/api/v1/chat/{sid}/rating", json={"ticket_id": tid, "rating": 5})
        assert r.status_code == 409  # not closed yet
        assert c.post(f"/api/v1/tickets/{tid}/close", headers=SERVICE, json={"summary": " "}).status_code == 422
        closed = c.post(f"/api/v1/tickets/{tid}/close", headers=SERVICE, json={"summary": "已解答"}).json()
        assert closed["status"] == "closed" and closed["summary"] == "已解答"
        msgs = c.get(f"/api/v1/chat/{sid}/messages").json()
        assert msgs["handoff"] is None and msgs["rating_request"] == {"ticket_id": tid}
        assert c.post(f"/api/v1/chat/{sid}/rating", json={"ticket_id": tid, "rating": 6}).status_code == 422
        assert c.post("/api/v1/chat/other/rating", json={"ticket_id": tid, "rating": 4}).status_code == 401  # not its conversation
        ok = c.post(f"/api/v1/chat/{sid}/rating", json={"ticket_id": tid, "rating": 4})
        assert ok.status_code == 200 and "感谢" in ok.json()["message"]
        assert c.post(f"/api/v1/chat/{sid}/rating", json={"ticket_id": tid, "rating": 1}).status_code == 409
        assert c.app.state.services.handoffs.get(tid).rating == 4
        assert c.get(f"/api/v1/chat/{sid}/messages").json()["rating_request"] is None


def test_queue_actions_and_wrong_role(make_settings, kb, staff_user):
    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        agent = staff_user("district", target=c.app)
        h = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": agent.username, "password": agent.password}).json()["token"]}
        tid = _chat(c, "q-1", "/request_human")["handoff"]["id"]
        item = next(t for t in c.get("/api/v1/tickets", headers=h).json()["tickets"] if t["id"] == tid)
        assert item["status"] == "open" and item["priority"] == 0 and item["waiting_s"] >= 0
        assert c.post(f"/api/v1/tickets/{tid}/claim", headers=h).json()["claimed_by"] == agent.username
        other = staff_user("district", target=c.app)
        oh = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": other.username, "password": other.password}).json()["token"]}
        r = c.post(f"/api/v1/tickets/{tid}/claim", headers=oh)
        assert r.status_code == 409 and r.json()["error"] == "claimed"
        assert c.post(f"/api/v1/tickets/{tid}/claim", headers=oh, json={"force": True}).status_code == 200
        labels = c.put(f"/api/v1/tickets/{tid}/labels", headers=h, json={"labels": ["社保", "社保", " 急 "]})
        assert labels.json()["labels"] == ["社保", "急"]
        bad = c.post(f"/api/v1/tickets/{tid}/transfer", headers=h, json={"level": "street", "place": "火星街道"})
        assert bad.status_code == 422
        moved = c.post(f"/api/v1/tickets/{tid}/transfer", headers=h, json={"level": "community", "place": "花照壁社区"})
        assert moved.json()["level"] == "社区便民服务站" and moved.json()["place"] == "花照壁社区"
        assert moved.json()["claimed_by"] is None
        notes = c.get(f"/api/v1/tickets/{tid}", headers=h).json()["notes"]
        assert "转办" in notes[-1]["text"]
        # agents may read canned replies but not change them
        assert len(c.get("/api/v1/canned", headers=h).json()["canned"]) >= 5
        assert c.post("/api/v1/canned", headers=h, json={"title": "x", "text": "y"}).status_code == 403
        assert c.delete("/api/v1/canned/1", headers=h).status_code == 403
        assert c.get("/api/v1/tickets/999999", headers=h).status_code == 404
        # anonymous: nothing (the logins above left their cookies on this client)
        c.cookies.clear()
        for method, path in (("get", "/api/v1/tickets"), ("get", f"/api/v1/tickets/{tid}"),
                             ("post", f"/api/v1/tickets/{tid}/claim"), ("get", "/api/v1/tickets/stream"),
                             ("get", "/api/v1/canned")):
            assert getattr(c, method)(path).status_code == 401, path


def test_old_handoffs_api_still_serves_automation_and_is_audited(make_settings, kb):
    from assistant.db.audit import entries

    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        tid = _chat(c, "old-1", "/request_human")["handoff"]["id"]
        assert any(t["id"] == tid for t in c.get("/api/v1/handoffs?status=open", headers=SERVICE).json()["tickets"])
        assert c.get(f"/api/v1/handoffs/{tid}", headers=SERVICE).status_code == 200
        r = c.post(f"/api/v1/handoffs/{tid}/reply", headers=SERVICE, json={"text": "您好", "staff_name": "王老师"})
        assert r.status_code == 200
        msgs = c.get("/api/v1/chat/old-1/messages").json()["messages"]
        assert msgs[-1]["text"] == "您好" and msgs[-1]["staff_name"] == "王老师"
        assert c.post(f"/api/v1/handoffs/{tid}/close", headers=SERVICE).json()["status"] == "closed"
        acts = {e["action"] for e in entries(c.app.state.services.db, actor="service")}
        assert {"ticket.view", "ticket.reply", "ticket.close"} <= acts
        t = c.app.state.services.handoffs.get(tid)
        assert t.first_reply_at is not None


@pytest.mark.parametrize("text,phone", [("13812345678", "13812345678"), ("电话：138 1234 5678", "13812345678"),
                                        ("028-87654321", "028-87654321"), ("我想办营业执照", None)])
def test_extract_phone(text, phone):
    from assistant.staff.workbench import _PHONE_MESSAGE, extract_phone

    assert (extract_phone(text) if _PHONE_MESSAGE.match(text) else None) == phone


def test_a_bare_score_after_close_is_the_rating_on_any_channel(make_settings, kb):
    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        sid = "rate-2"
        tid = _chat(c, sid, "/request_human")["handoff"]["id"]
        assert c.post(f"/api/v1/tickets/{tid}/close", headers=SERVICE, json={"summary": "已解答"}).status_code == 200
        r = _chat(c, sid, "4分")
        assert r["intent"] == "rate_handoff" and "感谢" in _texts(r)
        assert c.app.state.services.handoffs.get(tid).rating == 4
        again = _chat(c, sid, "5")  # rated already: an ordinary message now
        assert again["intent"] != "rate_handoff"
        assert c.app.state.services.handoffs.get(tid).rating == 4


def test_a_number_asked_for_by_a_form_is_not_taken_as_a_callback(make_settings, kb):
    with _client(make_settings, kb, **ALWAYS_OPEN) as c:
        sid = "form-1"
        tid = _chat(c, sid, "/request_human")["handoff"]["id"]
        services = c.app.state.services
        state = services.states.load(sid)
        state.form = "home_visit_form"  # a booking form is asking for the phone number
        services.states.save(sid, state)
        r = _chat(c, sid, "13812345678")
        assert r["intent"] != "leave_callback"
        assert services.workbench.detail(tid)["callbacks"] == []
