"""Whole conversations through ``POST /api/v1/chat`` with the real NLU, the real Rasa server and the app's custom
actions (see ``conftest.py``). Every session id is unique to its test."""

from __future__ import annotations

import pytest

from tests.live_stack import all_text, button_titles, parts

pytestmark = pytest.mark.rasa


def _by_name(live, name: str):
    kb = live.app.state.services.kb
    found = [m for m in kb.matters if m.name == name]
    assert found, f"the KB has no matter named {name}"
    return found[0]


def test_rasa_is_the_one_answering(live):
    """The turn goes through Rasa (not the app's fallback), and its tracker is kept in the app's database."""
    r = live.chat("it-rasa-1", "你好")
    assert r["degraded"] is False
    assert r["intent"] == "greet"
    assert "金小二" in all_text(r)
    import sqlalchemy as sa

    with live.app.state.services.db.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM events WHERE sender_id = 'it-rasa-1'")).scalar()
    assert n and n >= 3  # session start, user, bot …


def test_user_story_shop_then_materials(live):
    """开个小卖部 → 个体工商户设立登记 card with 材料清单 / 办理地点 / 转人工; "那办这个得带些啥东西" → its checklist."""
    target = _by_name(live, "个体工商户设立登记")
    r = live.chat("it-story-1", "想开个杂货铺子，要办哪些证")
    cards = parts(r, "matter_card")
    assert [c["matter"]["code"] for c in cards] == [target.code], r
    card = cards[0]["matter"]
    assert card["name"] == "个体工商户设立登记"
    assert card["department"] and card["level"] in {"区政务大厅", "街道便民服务中心", "社区便民服务站"}
    titles = button_titles(r)
    assert {"材料清单", "办理地点", "转人工"} <= set(titles)
    # …and the food licence, for when food is sold (a related matter of the guide), offered as a button.
    food = [t for t in titles if "食品" in t]
    assert food and "经营中销售食品的" in all_text(r)
    assert r["matter"] == {"code": target.code, "name": target.name}

    r2 = live.chat("it-story-1", "那办这个得带些啥东西")
    assert r2["intent"] == "ask_materials"
    lists = parts(r2, "checklist")
    assert len(lists) == 1 and lists[0]["matter"]["code"] == target.code
    assert [i["name"] for i in lists[0]["items"]] == [x.name for x in target.materials]
    assert not parts(r2, "matter_card")
    assert r2["matter"]["code"] == target.code


def test_material_button_payload_answers_for_its_matter(live):
    """A clicked 材料清单 button (payload) answers for the matter it names, even in a fresh conversation."""
    target = _by_name(live, "个体工商户设立登记")
    r = live.chat("it-button-1", f'/ask_materials{{"matter": "{target.code}"}}')
    lists = parts(r, "checklist")
    assert lists and lists[0]["matter"]["code"] == target.code


def test_follow_up_context_location_time_fee(live):
    """After a matter card, where / how long / how much all answer for that same matter."""
    target = _by_name(live, "个体工商户设立登记")
    live.chat("it-follow-1", "想开个杂货铺子，要办哪些证")
    where = live.chat("it-follow-1", "具体在哪里弄")
    assert where["intent"] == "ask_location"
    assert f"「{target.name}」" in all_text(where)
    assert target.places and target.places[0].name in all_text(where)
    fee = live.chat("it-follow-1", "要收费吗")
    assert fee["intent"] == "ask_fee" and f"「{target.name}」" in all_text(fee)
    how_long = live.chat("it-follow-1", "要多久才能办好")
    assert how_long["intent"] == "ask_time" and f"「{target.name}」" in all_text(how_long)
    assert how_long["matter"]["code"] == target.code


def test_follow_up_without_a_matter_asks_which(live):
    """A follow-up in a fresh conversation asks which matter instead of guessing one."""
    r = live.chat("it-follow-2", "那办这个得带些啥东西")
    assert not parts(r, "checklist") and not parts(r, "matter_card")
    assert "哪个事项" in all_text(r)
    assert r["matter"] is None


def test_clarification_then_choice(live):
    """An ambiguous question offers the NLU's top 3; clicking one gives that matter's card. The question is the
    first of the own vague questions (a family named, nothing that tells its members apart) the NLU finds
    ambiguous: which ones it does is the calibration's measure (``vague_asked_back``), not this test's."""
    from nlu.calibrate import load_vague_questions

    nlu = live.app.state.services.nlu
    query = next((q for q in load_vague_questions() if nlu.parse(q)["ambiguous"]), None)
    assert query, "precondition: the NLU finds one of the own vague questions ambiguous"
    parsed = nlu.parse(query)
    top3 = [m["code"] for m in parsed["matters"][:3]]
    r = live.chat("it-clarify-1", query)
    assert not parts(r, "matter_card")
    buttons = [b for p in parts(r, "buttons") for b in p["buttons"]]
    assert len(buttons) == 4 and buttons[-1] == {"title": "都不是，转人工", "payload": "/request_human"}
    buttons = buttons[:3]
    assert [b["payload"] for b in buttons] == [f'/ask_matter{{"matter": "{c}"}}' for c in top3]
    chosen = buttons[1]
    r2 = live.chat("it-clarify-1", chosen["payload"])
    cards = parts(r2, "matter_card")
    assert [c["matter"]["code"] for c in cards] == [top3[1]]
    assert cards[0]["matter"]["name"] == chosen["title"]
    assert r2["matter"]["code"] == top3[1]


def test_out_of_scope_is_redirected_without_a_matter(live):
    """"明天会不会下雨" gets a polite redirect (12345), never a matter."""
    r = live.chat("it-oos-1", "明天会不会下雨")
    assert r["intent"] == "out_of_scope"
    assert "12345" in all_text(r)
    assert not parts(r, "matter_card") and not parts(r, "checklist")
    assert r["matter"] is None


def test_out_of_scope_keeps_the_conversation_matter(live):
    """An out-of-scope question in the middle does not change the matter a later follow-up answers for."""
    target = _by_name(live, "个体工商户设立登记")
    live.chat("it-oos-2", "想开个杂货铺子，要办哪些证")
    live.chat("it-oos-2", "明天会不会下雨")
    r = live.chat("it-oos-2", "那办这个得带些啥东西")
    assert parts(r, "checklist")[0]["matter"]["code"] == target.code


def test_request_human_creates_ticket_with_transcript_matter_level(live):
    """"帮我转接人工服务" → a ticket with the masked transcript, the matter and its level; staff see it."""
    target = _by_name(live, "个体工商户设立登记")
    live.chat("it-human-1", "想开个杂货铺子，要办哪些证")
    live.chat("it-human-1", "我电话是13812345678，那要带啥子材料")
    r = live.chat("it-human-1", "帮我转接人工服务")
    assert r["intent"] == "request_human"
    handoffs = parts(r, "handoff")
    assert len(handoffs) == 1
    ticket = handoffs[0]["ticket"]
    assert ticket["status"] == "open" and ticket["level"] == target.level
    assert r["handoff"]["id"] == ticket["id"]

    got = live.http.get(f"/api/v1/handoffs/{ticket['id']}", headers=live.staff_headers)
    assert got.status_code == 200, got.text
    t = got.json()
    assert t["session_id"] == "it-human-1"
    assert t["matter"] == {"code": target.code, "name": target.name}
    assert t["reason"] == "request_human"
    texts = [ln["text"] for ln in t["transcript"]]
    assert texts[0] == "想开个杂货铺子,要办哪些证"  # as stored: NFKC-normalised (full-width comma → ",")
    assert any("138****5678" in x for x in texts) and not any("13812345678" in x for x in texts)
    assert any(ln["role"] == "bot" and "个体工商户设立登记" in ln["text"] for ln in t["transcript"])
    assert texts[-1] == "帮我转接人工服务"


def test_two_fallbacks_in_a_row_hand_over(live):
    """The first failed turn asks to rephrase; the second in a row opens a ticket (reason two_fallbacks).

    The NLU's verdict is fixed with the ``/nlu_fallback`` payload, so this test is about the dialogue."""
    first = live.chat("it-fallback-1", "/nlu_fallback")
    assert not parts(first, "handoff")
    assert "转人工" in button_titles(first)
    second = live.chat("it-fallback-1", "/nlu_fallback")
    handoffs = parts(second, "handoff")
    assert len(handoffs) == 1
    t = live.http.get(f"/api/v1/handoffs/{handoffs[0]['ticket']['id']}", headers=live.staff_headers).json()
    assert t["reason"] == "two_fallbacks" and t["level"] == "区政务大厅"


def test_fallbacks_not_in_a_row_do_not_hand_over(live):
    """A successful turn between two failed ones resets the count."""
    live.chat("it-fallback-2", "/nlu_fallback")
    live.chat("it-fallback-2", "想开个杂货铺子，要办哪些证")
    r = live.chat("it-fallback-2", "/nlu_fallback")
    assert not parts(r, "handoff")
    live.chat("it-fallback-2", "你好")
    r = live.chat("it-fallback-2", "/nlu_fallback")
    assert not parts(r, "handoff"), "a greeting between two failed turns breaks the streak"


def test_staff_reply_reaches_the_chat(live):
    """A staff reply to the ticket (Bearer token) is delivered into the citizen's conversation."""
    r = live.chat("it-staff-1", "帮我转接人工服务")
    ticket_id = parts(r, "handoff")[0]["ticket"]["id"]
    unauth = live.http.post(f"/api/v1/handoffs/{ticket_id}/reply", json={"text": "您好"})
    assert unauth.status_code == 401 and unauth.json()["error"] == "unauthorized"  # the live stack has a token
    sent = live.http.post(f"/api/v1/handoffs/{ticket_id}/reply", headers=live.staff_headers,
                          json={"text": "您好，我是金帮办专员小李，请问您要办理什么？", "staff_name": "小李"})
    assert sent.status_code == 200, sent.text
    msgs = live.http.get("/api/v1/chat/it-staff-1/messages", params={"after": 0})
    assert msgs.status_code == 200
    body = msgs.json()
    assert [m["text"] for m in body["messages"]] == ["您好，我是金帮办专员小李，请问您要办理什么？"]
    assert body["messages"][0]["staff_name"] == "小李"
    # The conversation goes on with Rasa afterwards.
    r2 = live.chat("it-staff-1", "谢谢")
    assert r2["intent"] == "thanks" and not r2["degraded"]
