"""A message read in the conversation's state (``assistant.dialogue.interpret``): hall-only topics after a matter,
a question about the helpers' service, a yes or no when nothing was asked, writing that is not a form."""

from __future__ import annotations

import pytest

from assistant.dialogue.interpret import interpret
from assistant.dialogue.state import DialogueState
from knowledge.hall_questions import classify_hall_question
from knowledge.halls import HallDirectory

RESIDENCE = "512B0011200070"  # 居住证办理


@pytest.fixture(scope="module")
def halls() -> HallDirectory:
    return HallDirectory.load()


def _parse(text: str, intent: str, matters: list[tuple[str, float]] = (), conf: float = 0.6) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": conf},
            "intent_ranking": [{"name": intent, "confidence": conf}], "entities": [],
            "matters": [{"code": c, "name": c, "score": s} for c, s in matters],
            "out_of_scope": False, "ambiguous": False}


def _read(kb, halls, parse, state=None):
    return interpret(parse, state or DialogueState(), kb, None, halls, classify_hall_question)


def _topic(out) -> str | None:
    return next((e["value"] for e in out["entities"] if e["entity"] == "hall_topic"), None)


def _after_matter() -> DialogueState:
    return DialogueState(matter_code=RESIDENCE, matter_name="居住证办理", topic_text="居住证咋个办",
                         last_intent="ask_location")


@pytest.mark.parametrize("text, intent, topic", [
    ("周末能办不", "ask_time", "weekend"),
    ("中午休息不", "ask_time", "lunch"),
    ("国庆放假开门吗", "ask_matter", "holiday"),
    ("车好停不", "ask_location", "parking"),
    ("有没有人可以帮我跑一趟", "request_human", "proxy"),
])
def test_hall_only_topics_after_a_matter_are_about_the_hall(kb, halls, text, intent, topic):
    # the message matches the current matter well (the NLU read it in the matter's words), yet asks about the hall
    out = _read(kb, halls, _parse(text, intent, [(RESIDENCE, 1.2)]), _after_matter())
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == topic


def test_a_where_after_a_matter_stays_about_the_matter(kb, halls):
    out = _read(kb, halls, _parse("在哪儿办嘛", "ask_location", [(RESIDENCE, 1.2)]), _after_matter())
    assert out["intent"]["name"] == "ask_location"


def test_a_matter_named_clearly_is_not_a_hall_question(kb, halls):
    out = _read(kb, halls, _parse("居住证周末能办不", "ask_time", [(RESIDENCE, 1.6)]), _after_matter())
    assert out["intent"]["name"] == "ask_time"


def test_asking_whether_someone_can_do_it_for_me_is_about_the_service(kb, halls):
    out = _read(kb, halls, _parse("可以找人帮我代办不", "request_human", [("X", 1.5)], conf=0.9))
    assert out["intent"]["name"] == "ask_hall" and _topic(out) == "proxy"
    # asking for a person is not a question about the service
    for text in ("帮我转人工", "我要找人帮我代办", "可以转人工吗"):
        assert _read(kb, halls, _parse(text, "request_human", conf=0.9))["intent"]["name"] == "request_human", text


@pytest.mark.parametrize("text", ["帮我写个请假条", "帮我写份简历", "帮忙写个作文"])
def test_writing_that_is_not_a_form_is_not_the_helpers_service(text):
    assert classify_hall_question(text) is None


def test_filling_a_form_is_the_helpers_service():
    assert classify_hall_question("可以帮我填表不").value == "proxy"
    assert classify_hall_question("不会写申请书，有人帮忙写吗").value == "proxy"


@pytest.mark.parametrize("last", ["", "greet", "nlu_fallback", "affirm"])
def test_a_yes_or_no_when_nothing_was_asked_is_not_understood(kb, halls, last):
    out = _read(kb, halls, _parse("嗯嗯嗯", "affirm", conf=0.8), DialogueState(last_intent=last))
    assert out["intent"]["name"] == "nlu_fallback" and out["interpreted"] == "answers_nothing"


@pytest.mark.parametrize("state", [
    DialogueState(matter_code=RESIDENCE, matter_name="居住证办理", last_intent="ask_matter"),  # after an answer
    DialogueState(candidates=[RESIDENCE, "JN-BDC-003"], last_intent="ask_matter"),            # options offered
    DialogueState(form="book_home_visit", last_intent="book_home_visit"),                     # a form
    DialogueState(last_intent="complain"),                                                    # a question asked
])
def test_a_yes_or_no_that_answers_something_is_kept(kb, halls, state):
    out = _read(kb, halls, _parse("好的", "affirm", conf=0.8), state)
    assert out["intent"]["name"] != "nlu_fallback"


@pytest.mark.parametrize("text, intent", [("哦哦", "greet"), ("呃……", "chitchat"), ("嗯", "affirm")])
def test_a_sound_that_fills_a_pause_is_not_understood_when_nothing_was_asked(kb, halls, text, intent):
    out = _read(kb, halls, _parse(text, intent, conf=0.7))
    assert out["intent"]["name"] == "nlu_fallback"
    # after options were offered it is left to the selection and the answer rules
    out = _read(kb, halls, _parse(text, intent, conf=0.7), DialogueState(candidates=[RESIDENCE]))
    assert out["intent"]["name"] == intent
