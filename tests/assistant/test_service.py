"""Input normalisation, Rasa message conversion, payload parsing and the NLU endpoint's contract."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from assistant.chat import MAX_CHARS, normalize_input, rasa_messages_to_parts
from assistant.dialogue.state import DialogueState
from assistant.dialogue.understand import complete_parse


@pytest.mark.parametrize("raw,kind,text", [
    ("  营业执照  怎么办 ", "ok", "营业执照 怎么办"),
    ("营业\x00执照\x1b\t办理", "ok", "营业 执照 办理"),
    ("社保\u200b卡\u202e补办", "ok", "社保卡补办"),
    ("ＡＢＣ营业执照１２３", "ok", "ABC营业执照123"),
    ("請問營業執照怎麼辦理", "ok", "请问营业执照怎么办理"),
    ("", "empty", ""),
    ("\x00\x07\u200b \n", "empty", ""),
    ("😀", "no_content", "😀"),
    ("👍👍！！", "no_content", "👍👍!!"),
    ("hello, how to get a licence?", "non_chinese", "hello, how to get a licence?"),
    ("OK", "ok", "OK"), ("hi~", "ok", "hi~"), ("thx!", "ok", "thx!"), ("ok google", "non_chinese", "ok google"),
    ("12345", "ok", "12345"),
    ('/ask_materials{"matter": "511A0074300005"}', "payload", '/ask_materials{"matter": "511A0074300005"}'),
    ("/request_human", "payload", "/request_human"),
])
def test_normalize_input(raw, kind, text):
    n = normalize_input(raw)
    assert (n.kind, n.text) == (kind, text)


def test_long_text_is_cut_with_a_notice():
    n = normalize_input("办" * 10_000)
    assert len(n.text) == MAX_CHARS and n.original_chars == 10_000
    assert n.notices and "10000" in n.notices[0]


def test_rasa_messages_to_parts():
    card = {"type": "matter_card", "matter": {"code": "C1", "name": "个体工商户设立登记"}}
    parts = rasa_messages_to_parts([
        {"recipient_id": "s", "text": "您要办理的是："},
        {"recipient_id": "s", "custom": card},
        {"recipient_id": "s", "text": "还需要什么？", "buttons": [{"title": "材料清单", "payload": "/ask_materials"},
                                                              {"payload": "/no_title"}]},
        {"recipient_id": "s", "custom": [{"type": "handoff", "ticket": {"id": 3, "level": "区政务大厅",
                                                                        "status": "open"}},
                                         {"type": "evil", "html": "<script>"}, {"type": "text", "text": 5}]},
        {"recipient_id": "s", "text": "   "},
        "not a dict",
    ])
    assert parts == [
        {"type": "text", "text": "您要办理的是："}, card, {"type": "text", "text": "还需要什么？"},
        {"type": "buttons", "buttons": [{"title": "材料清单", "payload": "/ask_materials"}]},
        {"type": "handoff", "ticket": {"id": 3, "level": "区政务大厅", "status": "open"}},
    ]


def test_complete_parse_always_has_rasa_keys():
    for bad in (None, {}, {"intent": None}, {"intent": {"name": ""}, "entities": None}, "x"):
        p = complete_parse("文本", bad)
        assert p["text"] == "文本" and p["intent"]["name"] and isinstance(p["entities"], list)
        assert isinstance(p["intent"]["confidence"], float)


def test_nlu_endpoint_while_loading(app_client):
    token = app_client.app.state.services.settings.internal_token
    r = app_client.post("/nlu/model/parse", json={"text": "营业执照", "message_id": "rasa-1", "token": token})
    assert r.status_code == 200
    body = r.json()
    assert body["intent"]["name"] == "nlu_fallback" and body["entities"] == [] and body["text"] == "营业执照"
    # Rasa may send extra keys or none but text
    assert app_client.post("/nlu/model/parse", json={"text": "x", "extra": 1, "token": token}).status_code == 200


def test_nlu_endpoint_refuses_callers_without_the_internal_token(app_client):
    for body in ({"text": "营业执照"}, {"text": "营业执照", "token": None}, {"text": "营业执照", "token": "guess"}):
        r = app_client.post("/nlu/model/parse", json=body)
        assert r.status_code == 401, body


def _rasa_transport(services, code, name, seen):
    """Speaks Rasa's REST channel (what ``rasa run --enable-api`` answers); during the turn the dialogue step
    saves the conversation's memory with the turn id it was sent, as the real action call does."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/webhooks/rest/webhook":
            body = __import__("json").loads(request.content)
            assert body["metadata"]["channel"] == "web" and body["metadata"]["k"] == 1
            services.states.save(body["sender"], DialogueState(matter_code=code, matter_name=name,
                                                               last_intent="ask_matter",
                                                               turn_id=body["metadata"]["turn_id"]))
            return httpx.Response(200, json=[
                {"recipient_id": body["sender"], "text": f"您要办理的应该是“{name}”："},
                {"recipient_id": body["sender"], "custom": {"type": "matter_card",
                                                            "matter": {"code": code, "name": name}}},
                {"recipient_id": body["sender"], "text": "接下来？",
                 "buttons": [{"title": "材料清单", "payload": "/ask_materials"}]},
            ])
        return httpx.Response(404, json={"error": "not found"})

    return httpx.MockTransport(handler)


def test_rasa_path_reads_matter_and_intent_from_the_saved_state_in_one_call(make_settings, kb):
    from assistant.container import build_services
    from assistant.rasa.client import RasaClient

    m = next(x for x in kb.matters if x.materials)
    services = build_services(make_settings(), kb=kb, rasa=None)
    services.db.upgrade()
    seen: list[str] = []
    services.rasa = RasaClient("http://rasa.test", transport=_rasa_transport(services, m.code, m.name, seen))
    # metadata reaches Rasa, but cannot override the channel (the transport asserts channel == "web")
    resp = asyncio.run(services.assistant.chat("r-1", "营业执照怎么办", metadata={"channel": "wechat", "k": 1}))
    assert resp.degraded is False and resp.intent == "ask_matter"
    assert resp.matter.code == m.code and resp.matter.name == m.name
    assert [p["type"] for p in resp.replies] == ["text", "matter_card", "text", "buttons"]
    assert services.conversations.current_matter("r-1") == {"code": m.code, "name": m.name}
    assert seen == ["/webhooks/rest/webhook"]  # one call to Rasa per turn: no tracker read, no side channel
    services.db.dispose()
