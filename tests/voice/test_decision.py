"""Choosing among n-best hearings with a routing callable, and when to ask «您是想问…吗？»."""

from __future__ import annotations

from voice.decision import Decision, asr_certainty, confirm_message, decide
from voice.engine import Hypothesis

MATTERS = {"A": "社会保障卡补领", "B": "居民身份证办理", "C": "失业登记"}


def route_table(table: dict[str, list[tuple[str, float]] | None]):
    """A routing callable over a fixed table: text → ranked (code, score); None = out of scope."""
    calls = []

    def route(text: str) -> dict:
        calls.append(text)
        hits = table.get(text)
        if hits is None:
            return {"matters": [], "out_of_scope": True}
        return {"matters": [{"code": c, "name": MATTERS[c], "score": s} for c, s in hits], "out_of_scope": False}

    route.calls = calls
    return route


def test_agreeing_hearings_give_a_confident_answer():
    route = route_table({"社保卡丢了": [("A", 0.95), ("B", 0.80)], "社保卡丢啦": [("A", 0.94), ("C", 0.70)]})
    d = decide([Hypothesis("社保卡丢了", -3, 0.6), Hypothesis("社保卡丢啦", -3.4, 0.4)], route, asr_confidence=0.9)
    assert isinstance(d, Decision) and not d.confirm
    text, confidence, alternatives = d.as_tuple()
    assert text == "社保卡丢了" and confidence > 0.8 and alternatives[0].code == "A"


def test_a_matter_several_hearings_agree_on_beats_the_best_hearings_own():
    route = route_table({"h1": [("B", 0.90), ("A", 0.89)], "h2": [("A", 0.93)], "h3": [("A", 0.92)]})
    d = decide([("h1", 0.4), ("h2", 0.3), ("h3", 0.3)], route)
    # the text sent on is the hearing that supports A most; h2 and h3 tie, the better-ranked hearing (h2) wins
    assert d.alternatives[0].code == "A" and d.text == "h2" and d.heard == "h1"


def test_disagreement_asks_with_the_top_matters():
    route = route_table({"x": [("A", 0.90), ("B", 0.89), ("C", 0.88)], "y": [("B", 0.90), ("A", 0.89)]})
    d = decide([("x", 0.5), ("y", 0.5)], route, asr_confidence=0.4)
    assert d.confirm and 2 <= len(d.alternatives) <= 3
    assert {a.code for a in d.alternatives[:2]} == {"A", "B"}
    msg = confirm_message(d)
    assert msg["confirm"] is True and msg["heard"] == "x" and "您是想问" in msg["message"]
    assert [a["code"] for a in msg["alternatives"]] == [a.code for a in d.alternatives]
    assert msg["alternatives"][0]["payload"] == '/ask_matter{"matter": "%s"}' % d.alternatives[0].code


def test_low_asr_certainty_lowers_the_confidence():
    route = route_table({"社保卡丢了": [("A", 0.95), ("B", 0.80)]})
    sure = decide([("社保卡丢了", 1.0)], route, asr_confidence=0.9)
    unsure = decide([("社保卡丢了", 1.0)], route, asr_confidence=0.3)
    assert sure.confidence > unsure.confidence and unsure.confirm and not sure.confirm
    assert asr_certainty(0.0) == 0.0 and asr_certainty(0.99) == 1.0


def test_out_of_scope_hearings_contribute_nothing_and_nothing_routable_gives_zero():
    route = route_table({"a": None, "b": [("C", 0.9)]})
    d = decide([("a", 0.7), ("b", 0.3)], route)
    assert d.alternatives[0].code == "C" and [h["oos"] for h in d.hypotheses] == [True, False]
    none = decide([("a", 1.0)], route)
    assert none.confidence == 0.0 and none.alternatives == [] and not none.confirm and none.text == "a"
    assert decide([], route).text == ""


def test_hearings_are_corrected_before_routing_and_each_text_is_routed_once():
    route = route_table({"养老金认证": [("A", 0.9)]})
    d = decide([("养老经认证", 0.5), ("养老金认证", 0.3), ("让老金认证", 0.2)], route,
               correct=lambda t: t.replace("养老经", "养老金").replace("让老金", "养老金"))
    assert d.alternatives[0].code == "A" and d.confidence > 0.9
    assert route.calls == ["养老金认证"]


def test_an_ambiguous_hearing_is_asked_about_however_confident():
    def route(text: str) -> dict:
        return {"matters": [{"code": "A", "name": MATTERS["A"], "score": 1.2},
                            {"code": "B", "name": MATTERS["B"], "score": 1.1}], "out_of_scope": False,
                "ambiguous": True}

    d = decide([("社保卡的事情咋个办", 1.0)], route, asr_confidence=0.9)
    assert d.confidence > 0.9 and d.confirm and d.doubts == ["ambiguous"]
    assert confirm_message(d)["doubts"] == ["ambiguous"]
    # ask_below 0: the kiosk never asks first (set so by tests and by a hall that wants answers only)
    assert not decide([("社保卡的事情咋个办", 1.0)], route, asr_confidence=0.9, ask_below=0.0).confirm


def test_a_hearing_of_one_or_two_characters_is_asked_about():
    route = route_table({"试": [("C", 1.5)], "临时救助": [("C", 1.5)]})
    d = decide([("试", 0.6), ("临时救助", 0.4)], route, asr_confidence=0.9)
    assert d.alternatives[0].code == "C" and d.heard == "试"
    assert d.confirm and d.doubts == ["short"]


def test_the_callers_doubt_is_checked_on_the_best_and_the_chosen_hearing():
    route = route_table({"公积金临时救助": [("A", 1.3)], "公积金": [("A", 1.3)]})
    seen = []

    def doubt(text: str) -> str | None:
        seen.append(text)
        return "unrelated_terms:公积金+临时救助" if "临时救助" in text else None

    d = decide([("公积金临时救助", 0.9), ("公积金", 0.1)], route, asr_confidence=0.9, doubt=doubt)
    assert d.confirm and d.doubts == ["unrelated_terms:公积金+临时救助"] and seen == ["公积金临时救助"]
    clear = decide([("公积金", 1.0)], route, asr_confidence=0.9, doubt=doubt)
    assert not clear.confirm and clear.doubts == []
