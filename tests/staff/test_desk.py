"""The pre-service desk: a street's staff confirm, reschedule and complete their home-visit bookings, acknowledge
new firms pushed to them; the escalation check (leader only) hands unacknowledged pushes to the district; another
street's rows and anonymous callers are refused; views and changes are audited; lists are masked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.staff.dash_data import NOW, PHONE, STREET_A, STREET_B, seed

TOKEN = "desk-staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class _Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


@pytest.fixture
def clock():
    return _Clock(NOW)


@pytest.fixture
def client(make_settings, kb, db_url, clock):
    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    app = create_app(make_settings(staff_token=TOKEN, database_url=db_url, firm_ack_hours=24), kb=kb, nlu=None,
                     rasa=None, load_models=False)
    app.state.services.preservice_scheduler = False
    set_clock(app.state.services, clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.services = app.state.services
        seed(c.services, kb)
        yield c
        if c.services.escalation is not None:
            c.services.escalation.leadership.release()


@pytest.fixture
def as_user(client, staff_user):
    """Log in as a real staff account ``(username, level, place, role)`` (made on first use); returns its Bearer
    header (from ``POST /api/v1/auth/login``)."""
    made: dict[str, object] = {}

    def _as(username: str, level: str, place: str | None, role: str = "agent") -> dict:
        if username not in made:
            made[username] = staff_user(level, place, role, target=client.app, username=username)
        login = made[username]
        r = client.post("/api/v1/auth/login", json={"username": login.username, "password": login.password})
        assert r.status_code == 200, r.text
        client.cookies.clear()  # Bearer only: the cookie would need the CSRF header on unsafe methods
        return {"Authorization": f"Bearer {r.json()['token']}"}

    return _as


def _audit(client):
    from assistant.db.audit import entries

    return entries(client.services.db, limit=20)


def test_street_staff_see_only_their_street_masked(client, as_user):
    h = as_user("wang", "street", "西安路")  # the short name works too
    r = client.get("/api/v1/desk", headers=h)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["street"] == STREET_A and d["streets"] == [STREET_A]
    assert [b["number"] for b in d["bookings"]] == ["SM2611300000"]  # open ones only; the done one is closed
    b = d["bookings"][0]
    assert PHONE not in b["phone"] and b["person_name"] == "张**" and "8号" not in b["address"]
    assert {f["street"] for f in d["firms"]} == {STREET_A}
    # the licence of a firm of this street is due (expires 12-20), its unsent reminder is for a phone call
    assert [(x["holder"], x["days_left"], x["to_phone"]) for x in d["licences"]] == [("金牛示范餐饮有限公司", 19, True)]
    assert PHONE not in (d["licences"][0]["contact"] or "")
    assert client.get("/api/v1/desk?street=抚琴街道", headers=h).status_code == 403
    assert _audit(client)[0]["action"] == "desk.view" and _audit(client)[0]["actor"] == "wang"


def test_district_sees_every_street_and_can_pick_one(client, as_user):
    h = as_user("li", "district", None)
    d = client.get("/api/v1/desk?include_closed=true", headers=h).json()
    assert d["street"] is None and STREET_B in d["streets"]
    assert {b["street"] for b in d["bookings"]} == {STREET_A, STREET_B}
    assert {f["street"] for f in d["firms"]} == {STREET_A, ""}
    only_b = client.get(f"/api/v1/desk?street={STREET_B}", headers=h).json()
    assert {b["street"] for b in only_b["bookings"]} == {STREET_B} and only_b["licences"] == []
    assert client.get("/api/v1/desk?street=不存在街道", headers=h).status_code == 404


def test_community_staff_work_on_their_street(client, as_user):
    h = as_user("zhao", "community", "石人社区")
    assert client.get("/api/v1/desk", headers=h).json()["street"] == STREET_A
    h = as_user("nobody", "street", "火星街道")
    r = client.get("/api/v1/desk", headers=h)
    assert r.status_code == 403 and r.json()["error"] == "no_street"


def test_confirm_reschedule_done(client, as_user):
    h = as_user("wang", "street", STREET_A)
    n = "SM2611300000"
    r = client.post(f"/api/v1/desk/bookings/{n}/confirm", headers=h, json={"staff_note": "已电话联系"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["staff_note"] == "已电话联系"
    r = client.post(f"/api/v1/desk/bookings/{n}/reschedule", headers=h, json={"visit_date": "2026-12-04",
                                                                               "half_day": "下午"})
    assert r.status_code == 200, r.text
    assert (r.json()["visit_date"], r.json()["half_day"]) == ("2026-12-04", "下午")
    r = client.post(f"/api/v1/desk/bookings/{n}/reschedule", headers=h, json={"when": "下周二上午"})
    assert r.status_code == 200, r.text
    assert r.json()["half_day"] == "上午" and date.fromisoformat(r.json()["visit_date"]) == date(2026, 12, 8)
    bad = client.post(f"/api/v1/desk/bookings/{n}/reschedule", headers=h, json={"visit_date": "2026-11-30",
                                                                                 "half_day": "上午"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_visit_date"
    assert client.post(f"/api/v1/desk/bookings/{n}/reschedule", headers=h, json={}).status_code == 422
    r = client.post(f"/api/v1/desk/bookings/{n}/done", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "done"
    # done is final
    again = client.post(f"/api/v1/desk/bookings/{n}/reschedule", headers=h, json={"when": "下周三上午"})
    assert again.status_code == 409
    assert client.services.preservice.bookings.get(n, any_session=True).status == "done"
    actions = [e["action"] for e in _audit(client) if e["target"] == f"booking:{n}"]
    assert actions == ["booking.done", "booking.reschedule", "booking.reschedule", "booking.confirm"]
    assert client.post("/api/v1/desk/bookings/SM000000XXXX/confirm", headers=h).status_code == 404


def test_the_visiting_helper_opens_the_contact_and_it_is_audited(client, as_user):
    h = as_user("wang", "street", STREET_A)
    r = client.get("/api/v1/desk/bookings/SM2611300000/contact", headers=h)
    assert r.status_code == 200
    assert (r.json()["phone"], r.json()["person_name"]) == (PHONE, "张三丰")
    assert _audit(client)[0]["action"] == "booking.contact"
    assert PHONE not in str(_audit(client))


def test_other_street_and_anonymous_are_refused(client, as_user):
    n_b = "SM2611300002"  # 抚琴街道's booking
    assert client.post(f"/api/v1/desk/bookings/{n_b}/confirm").status_code == 401
    assert client.get("/api/v1/desk").status_code == 401
    assert client.post("/api/v1/desk/firms/1/acknowledge").status_code == 401
    h = as_user("wang", "street", STREET_A)
    for path in (f"/api/v1/desk/bookings/{n_b}/confirm", f"/api/v1/desk/bookings/{n_b}/done"):
        r = client.post(path, headers=h)
        assert r.status_code == 403 and r.json()["error"] == "other_street"
    assert client.get(f"/api/v1/desk/bookings/{n_b}/contact", headers=h).status_code == 403
    assert client.post(f"/api/v1/desk/bookings/{n_b}/reschedule", headers=h,
                       json={"when": "下周二上午"}).status_code == 403
    unmatched = _firm_id(client, "无名工作室")
    assert client.post(f"/api/v1/desk/firms/{unmatched}/acknowledge", headers=h).status_code == 403
    assert client.services.preservice.bookings.get(n_b, any_session=True).status == "confirmed"  # unchanged
    assert client.post("/api/v1/desk/escalation/run", headers=h).status_code == 403  # admins only
    assert client.get("/staff/desk", follow_redirects=False).headers["location"].startswith("/staff/login")


def _firm_id(client, name: str) -> int:
    from sqlalchemy import select

    from assistant.db.preservice import NewFirm

    with client.services.db.session() as s:
        return s.scalar(select(NewFirm.id).where(NewFirm.name == name))


def _new_firm(client, name: str, street: str) -> int:
    from assistant.db.preservice import NewFirm

    with client.services.db.session() as s:
        f = NewFirm(name=name, credit_code=("92510106MA" + name.encode().hex())[:17] + "X", address="金牛区西安中路1号",
                    industry="零售", registration_date=date(2026, 11, 30), street=street, created_at=NOW)
        s.add(f)
        s.flush()
        return f.id


def test_acknowledge_in_time_is_never_escalated(client, as_user, clock):
    fid = _new_firm(client, "准时报到便利店", STREET_A)
    h = as_user("wang", "street", STREET_A)
    firm = next(f for f in client.get("/api/v1/desk", headers=h).json()["firms"] if f["id"] == fid)
    assert firm["overdue"] is False and firm["ack_deadline"].startswith("2026-12-02T02:00")
    clock.advance(hours=3)
    r = client.post(f"/api/v1/desk/firms/{fid}/acknowledge", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "wang" and r.json()["queue_status"] == "contacted"
    first = r.json()["acknowledged_at"]
    assert client.post(f"/api/v1/desk/firms/{fid}/acknowledge", headers=h).json()["acknowledged_at"] == first
    clock.advance(hours=48)
    admin = as_user("admin", "district", None, "admin")
    run = client.post("/api/v1/desk/escalation/run", headers=admin).json()
    assert run["leader"] is True and fid not in run["escalated"]
    assert _audit(client)[1]["action"] == "firm.acknowledge"


def test_unacknowledged_push_is_escalated_once_after_the_deadline(client, as_user, clock):
    fid = _new_firm(client, "迟迟未报到火锅店", STREET_A)
    admin = as_user("admin", "district", None, "admin")
    clock.advance(hours=23)
    assert fid not in client.post("/api/v1/desk/escalation/run", headers=admin).json()["escalated"]
    clock.advance(hours=2)
    assert fid in client.post("/api/v1/desk/escalation/run", headers=admin).json()["escalated"]
    assert fid not in client.post("/api/v1/desk/escalation/run", headers=admin).json()["escalated"]  # once
    firm = next(f for f in client.get("/api/v1/desk", headers=admin).json()["firms"] if f["id"] == fid)
    assert firm["escalated_at"] and firm["overdue"] is True
    # the district sees escalated pushes first
    assert client.get("/api/v1/desk", headers=admin).json()["firms"][0]["escalated_at"]
    # the street can still acknowledge late; the escalation stays on record
    h = as_user("wang", "street", STREET_A)
    late = client.post(f"/api/v1/desk/firms/{fid}/acknowledge", headers=h).json()
    assert late["acknowledged_at"] and late["escalated_at"]


def test_only_the_leader_escalates(client, clock, tmp_path):
    """Two processes' checks over one database: the one that does not hold the leadership escalates nothing."""
    from assistant.db.leader import Leadership
    from assistant.db.session import Database
    from assistant.preservice.desk import Desk, EscalationCheck

    fid = _new_firm(client, "两个副本都在看的公司", STREET_A)
    clock.advance(hours=30)
    other_db = Database(client.services.db.url)  # another replica's engine
    try:
        other = Leadership(other_db, "firm-escalation")  # not shared with this process's leadership object
        held_by_other = other.acquire()
        assert held_by_other
        mine = EscalationCheck(Desk(client.services.db, 24), clock)
        mine.leadership = Leadership(client.services.db, "firm-escalation")
        assert mine.run_once() == {"leader": False, "escalated": []}
        other.release()
        result = mine.run_once()
        assert result["leader"] is True and fid in result["escalated"]
        mine.leadership.release()
    finally:
        other_db.dispose()


def test_the_older_preservice_endpoints_are_street_scoped_and_audited(client, as_user):
    """GET/PATCH /api/v1/bookings/{n}, /api/v1/street-queue/{street}, PATCH /api/v1/new-firms/{id} and the phone
    follow-up list: a street's staff reach only their street, the district everything; each access is audited."""
    h = as_user("wang", "street", STREET_A)
    mine, other = "SM2611300000", "SM2611300002"
    r = client.get(f"/api/v1/bookings/{mine}", headers=h)
    assert r.status_code == 200 and r.json()["phone"] == PHONE  # full: the visiting helper's booking
    assert _audit(client)[0]["action"] == "booking.view"
    assert client.get(f"/api/v1/bookings/{other}", headers=h).status_code == 403
    assert client.patch(f"/api/v1/bookings/{other}", headers=h, json={"status": "done"}).status_code == 403
    assert client.patch(f"/api/v1/bookings/{mine}", headers=h, json={"status": "confirmed"}).status_code == 200
    assert _audit(client)[0]["action"] == "booking.update"
    assert client.get("/api/v1/street-queue/西安路", headers=h).status_code == 200
    assert client.get("/api/v1/street-queue/抚琴", headers=h).status_code == 403
    unmatched = _firm_id(client, "无名工作室")
    assert client.patch(f"/api/v1/new-firms/{unmatched}", headers=h, json={"queue_status": "done"}).status_code == 403
    assert client.patch(f"/api/v1/new-firms/{_firm_id(client, '西安路小超市')}", headers=h,
                        json={"staff_note": "已走访"}).status_code == 200
    assert client.get("/api/v1/reminders/pending", headers=h).status_code == 403  # the district's list
    d = as_user("li", "district", None)
    assert client.get(f"/api/v1/bookings/{other}", headers=d).status_code == 200
    r = client.get("/api/v1/reminders/pending", headers=d)
    assert r.status_code == 200 and r.json()["count"] == 1
    assert _audit(client)[0]["action"] == "reminders.pending.view"
    assert client.patch(f"/api/v1/new-firms/{unmatched}", headers=d, json={"queue_status": "done"}).status_code == 200
