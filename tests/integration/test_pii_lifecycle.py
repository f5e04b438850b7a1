"""Personal data through a real Rasa turn (issue 11 part 4): Rasa's tracker (the ``events`` table in the app's
database) keeps only masked user text and masked personal slots, yet the home-visit form still books with the
real phone and address; personal slots end with their form and never reach a new Rasa session; stored reply
payloads and the dialogue state hold nothing raw once the turn is over."""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa

from assistant.db.chat import DialogueStateRow, Message
from assistant.db.preservice import Booking
from tests.live_stack import all_text

pytestmark = pytest.mark.rasa

NAME, PHONE, ADDRESS = "王德福", "13812345678", "金牛区蜀汉路88号5栋2单元301"
SECRETS = (NAME, PHONE, "138 1234 5678", "88号5栋", "2单元301")


def _events(live, sid: str) -> list[str]:
    with live.app.state.services.db.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                                           {"s": sid})]


def _state(live, sid: str) -> dict:
    with live.app.state.services.db.session() as s:
        row = s.get(DialogueStateRow, sid)
        return dict(row.state) if row is not None else {}


def _leaks(texts: list[str]) -> list[tuple[str, str]]:
    return [(secret, t[:160]) for t in texts for secret in SECRETS if secret in t]


def test_the_tracker_keeps_masked_text_and_the_form_still_books(live):
    sid = "pii-visit-1"
    r = live.chat(sid, "我爸88岁了瘫在床上，想约人上门做养老金认证")
    assert r["intent"] == "book_home_visit" and "为谁办理" in all_text(r)
    r = live.chat(sid, f"{NAME}，88岁，长期卧床")
    assert "联系电话" in all_text(r)
    # mid-form: the personal answers so far are in the app's state, not in Rasa's tracker
    assert _state(live, sid)["form_values"]["visit_person"].startswith(NAME)
    r = live.chat(sid, "138 1234 5678")
    assert "详细地址" in all_text(r)
    assert _state(live, sid)["form_values"]["visit_phone"] == PHONE
    assert _state(live, sid)["pending_text"] == ""  # the written text is kept for its turn only
    r = live.chat(sid, ADDRESS)
    r = live.chat(sid, "营门口")
    assert "哪天上午或下午" in all_text(r)
    r = live.chat(sid, "下周二上午")
    text = all_text(r)
    assert "预约成功✅" in text
    # the booking row has what the visit needs, in full
    with live.app.state.services.db.session() as s:
        booking = s.scalars(sa.select(Booking).where(Booking.session_id == sid)).one()
        assert booking.phone == PHONE and booking.address == ADDRESS and booking.person_name.startswith(NAME)
    # Rasa's tracker: every user text and every slot value masked
    events = _events(live, sid)
    assert len(events) > 20
    assert not _leaks(events), _leaks(events)[:3]
    slots = [json.loads(e) for e in events if json.loads(e).get("event") == "slot"]
    assert any(s["name"] == "visit_phone" and s["value"] == "138****5678" for s in slots)
    # the form is over: nothing personal left in the dialogue state; stored replies are masked
    state = _state(live, sid)
    assert state["form_values"] == {} and state["pending_text"] == "" and not _leaks([json.dumps(state,
                                                                                          ensure_ascii=False)])
    with live.app.state.services.db.session() as s:
        stored = [m.text + json.dumps(m.payload, ensure_ascii=False)
                  for m in s.scalars(sa.select(Message).where(Message.session_id == sid))]
    assert stored and not [x for x in _leaks(stored) if x[0] != NAME], _leaks(stored)[:3]


def test_personal_slots_never_reach_a_new_rasa_session(live):
    sid = "pii-visit-2"
    live.chat(sid, "家里老人卧床，想约人上门做养老金认证")
    live.chat(sid, f"{NAME}，88岁")
    r = live.chat(sid, PHONE)
    assert "详细地址" in all_text(r)
    assert _state(live, sid)["form_values"]["visit_phone"] == PHONE
    # the citizen comes back after the Rasa session expired (session_expiration_time: 120 minutes): Rasa starts a
    # new session on the next message
    with live.app.state.services.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET timestamp = timestamp - 10800, data = json_set(data, '$.timestamp', "
                             "json_extract(data, '$.timestamp') - 10800) WHERE sender_id = :s"), {"s": sid})
    rasa = live.settings.rasa_url
    r = live.chat(sid, "你好")
    assert "联系电话" not in all_text(r) and "详细地址" not in all_text(r)
    state = _state(live, sid)
    assert state["form_values"] == {} and state["form"] is None
    with httpx.Client(base_url=rasa, timeout=30, trust_env=False) as http:
        tracker = http.get(f"/conversations/{sid}/tracker", params={"token": live.settings.rasa_auth_token}).json()
    assert tracker["slots"].get("visit_phone") is None and not tracker.get("active_loop", {}).get("name")
    assert not _leaks(_events(live, sid)), _leaks(_events(live, sid))[:3]
