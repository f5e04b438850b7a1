"""A spoken kiosk question whose matter the n-best decision is sure of is answered for that matter
(``assistant.dialogue.interpret``, ``heard_matter``) — when the hearing reads as a question about a matter or a
policy, and never over a form, a person, a complaint or a matter the hearing itself names clearly."""

from __future__ import annotations

import pytest

from assistant.dialogue.interpret import interpret
from assistant.dialogue.state import DialogueState
from assistant.dialogue.understand import heard_matter

SUBSIDY = "512B0066700003"     # 创业补贴申请
INJURY = "JN-RS-002"           # 工伤认定申请


def _parse(text: str, intent: str, matters: list[tuple[str, float]]) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 0.6},
            "intent_ranking": [{"name": intent, "confidence": 0.6}], "entities": [],
            "matters": [{"code": c, "name": c, "score": s} for c, s in matters],
            "out_of_scope": False, "ambiguous": False}


@pytest.mark.parametrize("intent, answered_as", [("ask_policy", "ask_matter"), ("nlu_fallback", "ask_matter"),
                                                 ("ask_matter", "ask_matter"), ("ask_materials", "ask_materials"),
                                                 ("ask_fee", "ask_fee")])
def test_a_sure_hearing_is_answered_for_the_decided_matter(kb, intent, answered_as):
    parse = _parse("开店创业的补贴咋个弄", intent, [(SUBSIDY, 1.1), (INJURY, 0.7)])
    out = interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)
    assert out["intent"]["name"] == answered_as and out["interpreted"] == "voice"
    assert out["matters"][0]["code"] == SUBSIDY and out["matters"][0]["name"] == kb.get(SUBSIDY).name
    assert out["entities"][0]["value"] == SUBSIDY


def test_a_greeting_without_its_words_is_a_garbled_hearing_answered_for_the_decided_matter(kb):
    # (a noisy clip's transcript read as a greeting: the n-best decision was sure of a matter)
    parse = _parse("我妈妈是过的头部的女子叫老金人就咱就在你", "greet", [(SUBSIDY, 0.4)])
    out = interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)
    assert out["interpreted"] == "voice" and out["matters"][0]["code"] == SUBSIDY, out


@pytest.mark.parametrize("intent", ["nlu_fallback", "ask_matter"])
def test_a_garbled_hearing_that_starts_by_saying_who_is_answered_for_the_decided_matter(kb, intent):
    # («我妈妈是…», a noisy clip of «我妈八十多了走不动，养老金认证咋个办» as Chromium captured it, read as only telling
    # who the person is: the greeting asked what to do, though the screen showed the matter the decision chose)
    parse = _parse("我妈妈是过的头部的女子叫老金人就咱就在你", intent, [])
    out = interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)
    assert out["interpreted"] == "voice" and out["matters"][0]["code"] == SUBSIDY, out


def test_the_decided_matter_wins_over_a_weaker_first_reading(kb):
    # the n-best decision weighed several hearings; this one alone ranks another matter first, but not clearly
    parse = _parse("开店创业的补贴咋个弄", "ask_matter", [(INJURY, 1.2), (SUBSIDY, 1.15)])
    assert interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)["matters"][0]["code"] == SUBSIDY


@pytest.mark.parametrize("intent", ["request_human", "book_home_visit", "greet", "goodbye", "out_of_scope"])
def test_other_readings_are_left_as_they_are(kb, intent):
    text = {"book_home_visit": "帮我约个上门办，我妈卧床来不了", "request_human": "转人工", "greet": "你好",
            "goodbye": "再见", "out_of_scope": "今天下雨没"}[intent]
    parse = _parse(text, intent, [(SUBSIDY, 1.1)])
    out = interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)
    assert out["intent"]["name"] == intent and out.get("interpreted") != "voice"


def test_a_matter_the_hearing_names_clearly_is_not_overridden(kb):
    parse = _parse("工伤认定要带啥子", "ask_materials", [(INJURY, 1.6), (SUBSIDY, 0.9)])
    out = interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)
    assert out.get("interpreted") != "voice" and out["matters"][0]["code"] == INJURY


def test_a_complaint_is_still_a_complaint(kb):
    parse = _parse("你们办事效率太低了，我要投诉", "ask_policy", [(SUBSIDY, 1.1)])
    assert interpret(parse, DialogueState(), kb, heard_matter=SUBSIDY)["intent"]["name"] == "complain"


def test_an_unknown_code_changes_nothing(kb):
    parse = _parse("开店创业的补贴咋个弄", "ask_policy", [(SUBSIDY, 1.1)])
    assert interpret(parse, DialogueState(), kb, heard_matter="NO-SUCH-CODE")["intent"]["name"] == "ask_policy"


def test_only_a_kiosk_turn_carries_a_heard_matter():
    voice = {"voice": {"matter": SUBSIDY, "confidence": 0.8}}
    assert heard_matter({**voice, "channel": "kiosk"}) == SUBSIDY
    # a web client writes its own metadata: it cannot steer the dialogue this way
    assert heard_matter({**voice, "channel": "web"}) is None
    assert heard_matter({"channel": "kiosk"}) is None
    assert heard_matter({"channel": "kiosk", "voice": {"matter": ["x"]}}) is None
    assert heard_matter(None) is None
