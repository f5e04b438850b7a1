"""Rasa's action-server protocol as the app serves it (``POST /actions/webhook``), with the real KB, handoff
store and dialogue-state store (temporary SQLite). The request bodies have the shape Rasa 3.6 sends; no Rasa
server is needed here. The conversation's memory (matter, candidates, streak, ticket) is read from and written
to the app's state store, not Rasa's slots."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.dialogue.context import registered_steps
from assistant.dialogue.matter import STRONG_MATCH_SCORE
from assistant.dialogue.state import MEMORY_SLOTS, DialogueState

INTERNAL = "rasa-internal-token"
HOOK = f"/actions/webhook?token={INTERNAL}"


@pytest.fixture
def client(make_settings, kb):
    app = create_app(make_settings(staff_token="t", internal_token=INTERNAL), kb=kb, nlu=None, load_models=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def shop(kb):
    return next(m for m in kb.matters if m.name == "个体工商户设立登记")


def _user(text, intent, entities=(), **extra):
    return {"event": "user", "text": text, "timestamp": time.time(),
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": list(entities), **extra},
            "metadata": {"channel": "web"}}


def _call(client, action, text, intent, *, entities=(), slots=None, events=None, sender="p-1", **parse):
    """Call the webhook; memory slots in ``slots`` are first stored as the conversation's state."""
    states = client.app.state.services.states
    memory = {k: v for k, v in (slots or {}).items() if k in MEMORY_SLOTS}
    if memory:
        states.save(sender, DialogueState.from_dict(memory))
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities),
              "metadata": {"channel": "kiosk"}, **parse}
    evs = list(events or []) + [_user(text, intent, entities, **parse)]
    rasa_slots = {k: v for k, v in (slots or {}).items() if k not in MEMORY_SLOTS}
    body = {"next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": rasa_slots, "latest_message": latest, "events": evs,
                        "paused": False, "active_loop": {}, "latest_action_name": "action_listen"}}
    r = client.post(HOOK, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    out["_state"] = states.load(sender).to_dict()
    return out


def _ent(code, text="", score=1.0):
    return {"entity": "matter", "value": code, "start": 0, "end": len(text), "confidence_entity": min(score, 1.0),
            "extractor": "jxe"}


def _parts(result, kind=None):
    out = [r["custom"] for r in result["responses"]]
    return [p for p in out if kind is None or p["type"] == kind]


def _slots(result):
    """Rasa slot events of the answer plus the conversation's memory after it."""
    return {**{e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}, **result["_state"]}


# --- protocol -------------------------------------------------------------------------------------------------------

def test_unknown_action_is_404_with_error_and_action_name(client):
    r = client.post(HOOK, json={"next_action": "action_does_not_exist", "sender_id": "x", "tracker": {}})
    assert r.status_code == 404
    assert r.json()["action_name"] == "action_does_not_exist" and r.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"sender_id": "x"}', b'{"next_action": ""}',
                                  b'{"next_action": "action_matter_answer", "tracker": []}'])
def test_bad_requests_are_400_with_a_message(client, body):
    r = client.post(HOOK, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]


def test_registry_matches_the_domain():
    import yaml

    from assistant.settings import REPO_ROOT

    declared = set()
    for path in (REPO_ROOT / "domain").rglob("*.yml"):
        declared |= {a for a in yaml.safe_load(path.read_text(encoding="utf-8")).get("actions") or []
                     if not a.startswith("utter_")}
    assert declared == set(registered_steps())


def test_response_shape_is_events_and_custom_parts(client, shop):
    out = _call(client, "action_matter_answer", "开个小卖部要办啥子证", "ask_matter",
                entities=[_ent(shop.code)], matters=[{"code": shop.code, "name": shop.name, "score": 1.45}])
    assert set(out) - {"_state"} == {"events", "responses"}
    assert all(set(r) == {"custom"} for r in out["responses"])
    assert all(e["event"] == "slot" and {"name", "value", "timestamp"} <= set(e) for e in out["events"])


# --- matter card, clarification --------------------------------------------------------------------------------------

def test_matter_card_with_buttons_and_slots(client, shop):
    out = _call(client, "action_matter_answer", "开个小卖部要办啥子证", "ask_matter", entities=[_ent(shop.code)])
    cards = _parts(out, "matter_card")
    assert len(cards) == 1 and cards[0]["matter"]["code"] == shop.code
    assert set(cards[0]["matter"]) == {"code", "name", "department", "matter_type", "place", "address", "hours",
                                       "promised_time_limit", "legal_time_limit", "fee", "online_link",
                                       "consult_phone", "verified", "level"}
    titles = [b["title"] for p in _parts(out, "buttons") for b in p["buttons"]]
    assert titles[:2] == ["材料清单", "办理地点"] and titles[-1] == "转人工"
    assert f'/ask_materials{{"matter": "{shop.code}"}}' in [b["payload"] for p in _parts(out, "buttons")
                                                            for b in p["buttons"]]
    assert _slots(out)["matter_code"] == shop.code and _slots(out)["fallback_streak"] == 0


def test_related_matters_are_named_and_offered(client, kb, shop):
    related = [kb.get(c) for c in shop.related if kb.get(c) is not None][:2]
    assert related, "precondition: the 个体工商户设立登记 guide lists related matters"
    out = _call(client, "action_matter_answer", "开个小卖部要办啥子证", "ask_matter", entities=[_ent(shop.code)])
    text = "\n".join(p["text"] for p in _parts(out, "text"))
    assert all(f"「{r.name}」" in text for r in related)
    payloads = [b["payload"] for p in _parts(out, "buttons") for b in p["buttons"]]
    assert all(f'/ask_matter{{"matter": "{r.code}"}}' in payloads for r in related)


def test_ambiguous_question_gets_top3_buttons_and_no_card(client, kb):
    a = next(m for m in kb.matters if m.name == "个体工商户设立登记")
    b, c = [m for m in kb.matters if m.name.startswith("个体工商户") and m.code != a.code][:2]
    hits = [{"code": m.code, "name": m.name, "score": 1.4 - i * 0.005} for i, m in enumerate((a, b, c))]
    out = _call(client, "action_matter_answer", "个体户", "ask_matter", matters=hits, ambiguous=True)
    assert not _parts(out, "matter_card")
    buttons = [bt for p in _parts(out, "buttons") for bt in p["buttons"]]
    assert [bt["title"] for bt in buttons] == [a.name, b.name, c.name, "都不是，转人工"]
    assert buttons[2]["payload"] == f'/ask_matter{{"matter": "{c.code}"}}'
    assert _slots(out)["candidates"] == [a.code, b.code, c.code]


def test_clicked_payload_is_never_ambiguous(client, shop):
    out = _call(client, "action_matter_answer", f'/ask_matter{{"matter": "{shop.code}"}}', "ask_matter",
                entities=[_ent(shop.code)], ambiguous=True,
                matters=[{"code": shop.code, "name": shop.name, "score": 1.0}])
    assert [c["matter"]["code"] for c in _parts(out, "matter_card")] == [shop.code]


def test_ask_matter_with_nothing_found_asks_to_rephrase(client):
    out = _call(client, "action_matter_answer", "那个东西", "ask_matter")
    assert not _parts(out, "matter_card")
    assert _slots(out)["fallback_streak"] == 1


# --- follow-ups -------------------------------------------------------------------------------------------------------

def test_materials_for_the_matter_in_the_slot(client, shop):
    out = _call(client, "action_matter_detail", "那要带啥子材料", "ask_materials", slots={"matter_code": shop.code})
    lists = _parts(out, "checklist")
    assert len(lists) == 1 and lists[0]["matter"] == {"code": shop.code, "name": shop.name}
    assert [i["name"] for i in lists[0]["items"]] == [m.name for m in shop.materials]
    assert set(lists[0]["items"][0]) == {"name", "form", "copies", "requirement", "note"}


def test_a_weak_search_guess_does_not_replace_the_conversation_matter(client, kb, shop):
    other = next(m for m in kb.matters if m.name == "残疾人证新办") if any(
        m.name == "残疾人证新办" for m in kb.matters) else next(m for m in kb.matters if m.code != shop.code)
    out = _call(client, "action_matter_detail", "要收费吗", "ask_fee", slots={"matter_code": shop.code},
                entities=[_ent(other.code, "要收费吗", 1.0)],
                matters=[{"code": other.code, "name": other.name, "score": STRONG_MATCH_SCORE - 0.3}])
    text = "".join(p.get("text", "") for p in _parts(out, "text"))
    assert f"「{shop.name}」" in text and other.name not in text


def test_a_named_matter_replaces_the_conversation_matter(client, kb, shop):
    other = next(m for m in kb.matters if m.materials and m.code != shop.code)
    out = _call(client, "action_matter_detail", f"{other.name}要带什么材料", "ask_materials",
                slots={"matter_code": shop.code}, entities=[_ent(other.code)],
                matters=[{"code": other.code, "name": other.name, "score": 1.2}])
    assert _parts(out, "checklist")[0]["matter"]["code"] == other.code
    assert _slots(out)["matter_code"] == other.code


@pytest.mark.parametrize("intent,word", [("ask_location", "办理"), ("ask_time", "时限"), ("ask_fee", "收费")])
def test_location_time_fee_answers(client, shop, intent, word):
    out = _call(client, "action_matter_detail", "问一下", intent, slots={"matter_code": shop.code})
    text = "\n".join(p["text"] for p in _parts(out, "text"))
    assert f"「{shop.name}」" in text and word in text
    titles = [b["title"] for p in _parts(out, "buttons") for b in p["buttons"]]
    assert titles[-1] == "转人工" and len(titles) == 4  # the three other details + 转人工


def test_follow_up_without_any_matter_asks_which(client):
    out = _call(client, "action_matter_detail", "那要带啥子材料", "ask_materials")
    assert not _parts(out, "checklist")
    assert "哪个事项" in _parts(out, "text")[0]["text"]
    assert _slots(out)["matter_code"] is None


# --- fallback and handoff ---------------------------------------------------------------------------------------------

def test_second_fallback_in_a_row_opens_a_ticket(client):
    first = _call(client, "action_fallback", "嗯嗯嗯", "nlu_fallback", sender="fb-1")
    assert not _parts(first, "handoff") and _slots(first)["fallback_streak"] == 1
    second = _call(client, "action_fallback", "啊啊", "nlu_fallback", sender="fb-1")
    ticket = _parts(second, "handoff")[0]["ticket"]
    assert ticket["level"] == "区政务大厅" and ticket["status"] == "open"
    assert _slots(second)["fallback_streak"] == 0
    view = client.app.state.services.handoffs.get(ticket["id"])
    assert view.reason == "two_fallbacks" and view.channel == "kiosk"


def test_a_turn_that_does_not_fail_resets_the_streak(client):
    _call(client, "action_fallback", "嗯嗯嗯", "nlu_fallback", sender="fb-2")
    _call(client, "action_smalltalk", "你好", "greet", sender="fb-2")
    again = _call(client, "action_fallback", "啊啊", "nlu_fallback", sender="fb-2")
    assert not _parts(again, "handoff") and _slots(again)["fallback_streak"] == 1


def test_handoff_ticket_has_masked_transcript_matter_and_level(client, shop):
    conversations = client.app.state.services.conversations
    conversations.record_turn("ho-1", "kiosk", "开个小卖部要办啥子证",
                              [{"type": "matter_card", "matter": {"code": shop.code, "name": shop.name}}],
                              "ask_matter", {"code": shop.code, "name": shop.name})
    conversations.record_turn("ho-1", "kiosk", "我身份证510106199001011234，电话13812345678",
                              [{"type": "text", "text": "好的。"}], "chitchat", None)
    out = _call(client, "action_handoff", "我要找人工", "request_human", sender="ho-1",
                slots={"matter_code": shop.code})
    ticket = _parts(out, "handoff")[0]["ticket"]
    assert ticket["level"] == shop.level
    view = client.app.state.services.handoffs.get(ticket["id"])
    assert view.matter == {"code": shop.code, "name": shop.name}
    lines = [(ln.role, ln.text) for ln in view.transcript]
    assert lines[0] == ("user", "开个小卖部要办啥子证")
    assert lines[1] == ("bot", f"[事项] {shop.name}")
    assert "13812345678" not in lines[2][1] and "138****5678" in lines[2][1]
    assert "510106199001011234" not in lines[2][1]
    assert lines[-1] == ("user", "我要找人工")
    assert _slots(out)["handoff_ticket"] == str(ticket["id"])


def test_an_action_error_still_answers(client, monkeypatch):
    import assistant.dialogue.context as context

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(context._REGISTRY, "action_broken_for_test", broken)
    r = client.post(HOOK, json={"next_action": "action_broken_for_test", "sender_id": "x", "tracker": {}})
    assert r.status_code == 200
    parts = [x["custom"] for x in r.json()["responses"]]
    assert parts[0]["type"] == "text" and parts[-1]["buttons"][0]["title"] == "转人工"


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong"])
def test_the_webhook_refuses_callers_without_rasas_token(client, query):
    """Only the Rasa server (which holds the internal token) may run actions, e.g. create handoff tickets."""
    r = client.post("/actions/webhook" + query, json={"next_action": "action_handoff", "sender_id": "x", "tracker": {}})
    assert r.status_code == 401
    assert "token" in r.json()["error"]
