"""Home-visit bookings and licence reminders belong to the conversation that made them (issue 11).

Finding: booking numbers were short and guessable (``SM`` + date + 4 characters, ~1 M a day), and typing another
booking's number in *any* conversation showed its date, street, matter and masked address — and cancelled it.
Now numbers carry 70 random bits, and a number from another conversation gets the same polite «not found here» as
a number that does not exist. Steps are called the way Rasa calls them (``POST /actions/webhook``)."""

from __future__ import annotations

import math
import re
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from assistant.db.preservice import Booking
from assistant.dialogue.replies import say
from assistant.preservice.numbers import (ALPHABET, RANDOM_CHARS, find_booking_numbers, new_booking_number,
                                          normalize_booking_number)

INTERNAL = "rasa-internal-token-for-tests"
HOOK = f"/actions/webhook?token={INTERNAL}"
NUMBER = re.compile(r"^SM-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")


# --- the numbers ------------------------------------------------------------------------------------------------

def test_numbers_carry_at_least_64_random_bits_and_read_aloud():
    assert RANDOM_CHARS * math.log2(len(ALPHABET)) >= 64
    assert not set("ILOU") & set(ALPHABET)  # nothing to confuse with 1, 0 or V on the phone
    numbers = [new_booking_number() for _ in range(3000)]
    assert len(set(numbers)) == len(numbers)
    assert all(NUMBER.match(n) for n in numbers), numbers[:3]
    body = "".join(n[3:].replace("-", "") for n in numbers)
    # every character is used about equally often at every position (secrets.choice, not a date or a counter)
    counts = {c: body.count(c) for c in ALPHABET}
    expected = len(body) / len(ALPHABET)
    assert all(0.8 * expected < n < 1.2 * expected for n in counts.values()), counts


@pytest.mark.parametrize("typed", ["SM-7K4M-Q2XD-9PRT-B6", "sm 7k4m q2xd 9prt b6", "SM7K4MQ2XD9PRTB6",
                                   " SM-7K4M-Q2XD-9PRT-B6 ", "sm-7K4M q2xd-9PRTB6"])
def test_a_number_is_found_however_it_is_written(typed):
    assert normalize_booking_number(typed) == "SM-7K4M-Q2XD-9PRT-B6"


def test_misheard_letters_and_old_numbers():
    assert normalize_booking_number("SM-7K4M-Q2XO-9PRT-B6") == "SM-7K4M-Q2X0-9PRT-B6"  # O is 0, I and L are 1
    assert normalize_booking_number("SM-7K4M-Q2XL-9PRT-Bi") == "SM-7K4M-Q2X1-9PRT-B1"
    assert normalize_booking_number("SM-7K4M-Q2XU-9PRT-B6") is None                   # U is never used
    assert normalize_booking_number("SM-7K4M-Q2X") is None
    assert normalize_booking_number("sm261201ab3k") == "SM261201AB3K"                # issued before the new format
    assert find_booking_numbers("帮我查 sm 7k4m q2xd 9prt b6，还有 SM261201AB3K") == [
        "SM-7K4M-Q2XD-9PRT-B6", "SM261201AB3K"]
    assert find_booking_numbers("事项编码 JN-RS-001，预约号 SM-7K4M-Q2XD-9PRT-B6X") == []


# --- only from its own conversation ----------------------------------------------------------------------------

@pytest.fixture
def client(make_settings, kb, clock):
    from assistant.app import create_app
    from assistant.preservice.runtime import set_clock

    app = create_app(make_settings(staff_token="ps-staff-token", internal_token=INTERNAL), kb=kb, nlu=None,
                     rasa=None, load_models=False)
    app.state.services.preservice_scheduler = False
    with TestClient(app) as c:
        c.pre = set_clock(app.state.services, clock)
        yield c


def _act(client, action: str, text: str, sender: str, intent: str) -> str:
    """Run a step as Rasa does; the text of its answer."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [],
              "metadata": {"channel": "web"}}
    body = {"next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": latest, "paused": False,
                        "events": [{"event": "user", "text": text, "timestamp": time.time(),
                                    "parse_data": latest, "metadata": {"channel": "web"}}],
                        "active_loop": {}, "latest_action_name": "action_listen"}}
    r = client.post(HOOK, json=body)
    assert r.status_code == 200, r.text
    return "\n".join(x["custom"].get("text", "") for x in r.json()["responses"])


def _book(pre, session_id: str):
    return pre.bookings.create(person_name="王秀英（82岁）", phone="13812345678", address="营康西路12号3栋2单元501",
                               street="营门口街道", matter_name="养老保险定期待遇领取资格认证",
                               matter_code="51201400600004", visit_date=date(2026, 12, 8), half_day="上午",
                               session_id=session_id)


STEPS = [("action_booking_status", "查一下预约 {n}", "booking_status"),
         ("action_booking_change", "把 {n} 改到下周四下午", "change_booking"),
         ("action_booking_cancel", "取消预约 {n}", "cancel_booking")]


def test_another_conversation_typing_the_number_learns_nothing_and_changes_nothing(client):
    b = _book(client.pre, "owner-1")
    assert NUMBER.match(b.number)
    ghost = new_booking_number()
    for action, text, intent in STEPS:
        seen = _act(client, action, text.format(n=b.number), "stranger-1", intent)
        assert seen == say("preservice.booking.not_found", number=b.number), seen
        for secret in ("营门口", "12月8日", "养老", "138", "营康西路", "已预约"):
            assert secret not in seen
        # exactly what a number that does not exist gets: nothing tells the two apart
        assert _act(client, action, text.format(n=ghost), "stranger-1", intent) == \
            say("preservice.booking.not_found", number=ghost)
    after = client.pre.bookings.get(b.number, any_session=True)
    assert (after.status, after.visit_date, after.half_day) == ("booked", date(2026, 12, 8), "上午")
    # the owner's own conversation still reads, changes and cancels it
    own = _act(client, "action_booking_status", f"{b.number} 查询", "owner-1", "booking_status")
    assert b.number in own and "营门口街道" in own and "138****5678" in own
    assert "已改好" in _act(client, "action_booking_change", "改到下周四下午", "owner-1", "change_booking")
    assert "已取消" in _act(client, "action_booking_cancel", "取消预约", "owner-1", "cancel_booking")
    assert client.pre.bookings.get(b.number, any_session=True).status == "cancelled"


def test_a_booking_with_an_old_guessable_number_is_still_private(client):
    with client.app.state.services.db.session() as s:
        s.add(Booking(number="SM261201AB3K", session_id="owner-old", channel="web", person_name="李大爷",
                      person_note="", phone="13900001111", address="九里堤中路1号2栋", street="九里堤街道",
                      matter_code=None, matter_name="高龄津贴", visit_date=date(2026, 12, 9), half_day="下午",
                      status="booked", staff_note=""))
    seen = _act(client, "action_booking_cancel", "取消预约 sm261201ab3k", "stranger-2", "cancel_booking")
    assert seen == say("preservice.booking.not_found", number="SM261201AB3K")
    assert client.pre.bookings.get("SM261201AB3K", any_session=True).status == "booked"
    assert "九里堤" in _act(client, "action_booking_status", "SM261201AB3K 查询", "owner-old", "booking_status")


def test_staff_find_any_booking_however_the_number_is_written(client):
    b = _book(client.pre, "owner-2")
    staff = {"Authorization": "Bearer ps-staff-token"}
    typed = b.number.lower().replace("-", " ")
    r = client.get(f"/api/v1/bookings/{typed}", headers=staff)
    assert r.status_code == 200 and r.json()["number"] == b.number and r.json()["phone"] == "13812345678"
    assert client.get(f"/api/v1/bookings/{b.number}").status_code == 401


def test_reminders_are_listed_and_stopped_only_in_their_own_conversation(client):
    lt = client.pre.catalogue.get("food_business")
    lic = client.pre.licences.register(licence_type=lt.key, licence_name=lt.name, number="JY15101060012345",
                                       holder="蓉城小面馆", expiry_date=date(2027, 3, 1), session_id="firm-1")
    listed = _act(client, "action_licence_list", "看看我登记的证照", "stranger-3", "list_licences")
    assert lic.number not in listed and "蓉城" not in listed
    stop = _act(client, "action_licence_cancel", f"取消提醒 {lic.number}", "stranger-3", "cancel_licence")
    assert lic.number not in stop
    assert [x.status for x in client.pre.licences.list_for_session("firm-1")] == ["active"]
    assert lic.number in _act(client, "action_licence_list", "看看我登记的证照", "firm-1", "list_licences")


def test_typing_another_booking_number_in_the_chat_reveals_nothing(nlu_app_client):
    """The same through ``POST /api/v1/chat`` with the real NLU (Rasa down: the same steps answer)."""
    from assistant.preservice.runtime import get_preservice

    pre = get_preservice(nlu_app_client.app.state.services)
    b = _book(pre, "owner-3")
    for text in (f"查一下预约 {b.number}", f"{b.number.lower()} 现在啥状态", f"取消预约 {b.number}"):
        r = nlu_app_client.post("/api/v1/chat", json={"session_id": "stranger-4", "text": text})
        assert r.status_code == 200
        shown = "\n".join(p.get("text", "") for p in r.json()["replies"])
        assert r.json()["intent"] in {"booking_status", "cancel_booking"}, (text, r.json()["intent"])
        assert say("preservice.booking.not_found", number=b.number) in shown
        assert "营门口" not in shown and "养老" not in shown
    assert pre.bookings.get(b.number, any_session=True).status == "booked"
