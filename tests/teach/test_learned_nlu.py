"""Learned examples in the NLU: a taught text routes to its matter (and its paraphrases do), intents and
out-of-scope teach too, nothing is rebuilt, and the regression check holds back a batch that breaks the held-out
sets."""

from __future__ import annotations

from pathlib import Path

from assistant.teach import regression
from knowledge.leakcheck import find_leaks
from nlu.learned import LearnedExample, LearnedSet
from tests.teach.conftest import SHOP_CODE, SHOP_PARAPHRASE, SHOP_Q

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "data"


def test_the_held_out_matter_questions_are_held_out():
    items = [h for h in regression.load_heldout(HELDOUT) if h.kind == "matter"]
    assert len(items) >= 25
    training = [ROOT / "nlu" / "data", ROOT / "assistant" / "preservice" / "data", ROOT / "knowledge" / "guides",
                ROOT / "knowledge" / "data", ROOT / "domain", ROOT / "data"]
    leaks = find_leaks([(f"m{i}", h.text) for i, h in enumerate(items)], training)
    assert not leaks, [str(x) for x in leaks[:5]]


def test_a_taught_matter_routes_the_question_and_its_paraphrase(fresh_learned):
    nlu = fresh_learned
    before = nlu.parse(SHOP_Q)
    assert not before["entities"] or before["entities"][0]["value"] != SHOP_CODE
    index_rows = len(nlu.index.row_texts)
    nlu.set_learned(nlu.learned_set([LearnedExample(SHOP_Q, "matter", SHOP_CODE)], "1:1"))
    assert len(nlu.index.row_texts) == index_rows  # nothing rebuilt
    for text in (SHOP_Q, SHOP_PARAPHRASE):
        r = nlu.parse(text)
        assert r["entities"][0]["value"] == SHOP_CODE, (text, r["matters"][:2])
        assert r["matters"][0]["code"] == SHOP_CODE and not r["ambiguous"] and not r["out_of_scope"]
        assert r["intent"]["name"] == "ask_matter" and r["learned"]["label"] == SHOP_CODE
    # an unrelated question is untouched
    other = nlu.parse("驾驶证六年有效期满了要换证")
    assert "learned" not in other and other["matters"][0]["code"] == "JN-JG-002"


def test_intent_and_out_of_scope_examples(fresh_learned):
    nlu = fresh_learned
    assert nlu.parse("屋头猫儿走丢了")["out_of_scope"]
    nlu.set_learned(nlu.learned_set([LearnedExample("屋头猫儿走丢了", "intent", "request_human"),
                                     LearnedExample("门口想挂个大招牌要批不", "out_of_scope", "")], "2:2"))
    assert nlu.parse("屋头猫儿走丢了")["intent"]["name"] == "request_human"
    oos = nlu.parse("门口想挂个大招牌要批不")
    assert oos["out_of_scope"] and oos["intent"]["name"] == "out_of_scope" and not oos["matters"]


def test_the_snapshot_reuses_vectors_and_drops_unknown_matters(fresh_learned):
    nlu = fresh_learned
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return nlu.encoder.encode(texts)

    first = LearnedSet.build([LearnedExample("甲乙丙", "out_of_scope")], encode, nlu.encoder.dim)
    second = first.with_examples([LearnedExample("丁戊己", "out_of_scope")], encode)
    assert calls == [["甲乙丙"], ["丁戊己"]] and len(second) == 2
    assert len(nlu.learned_set([LearnedExample("随便", "matter", "NO-SUCH-CODE")])) == 0


def test_regression_check_holds_back_a_batch_that_breaks_the_held_out_set(fresh_learned):
    nlu = fresh_learned
    good = regression.check(nlu, nlu.served_with([LearnedExample(SHOP_Q, "matter", SHOP_CODE)]), HELDOUT)
    assert good.passed and good.candidate >= good.baseline and good.total >= 90
    # teaching the held-out driving-licence questions as out of scope breaks them
    bad = regression.check(nlu, nlu.served_with([LearnedExample("驾驶证六年有效期满了要换证", "out_of_scope"),
                                                 LearnedExample("刚拿到的社保卡怎么启用", "out_of_scope")]),
                           HELDOUT)
    assert not bad.passed and bad.candidate < bad.baseline
    assert any(b["text"] == "驾驶证六年有效期满了要换证" for b in bad.broken)


def test_the_check_re_routes_only_what_new_examples_can_touch(fresh_learned):
    """A batch's outcomes derived from the served ones (re-routing only the questions it can touch) equal a full
    re-routing of every held-out question."""
    nlu = fresh_learned
    regression.warm(nlu, HELDOUT)
    candidate = nlu.served_with([LearnedExample(SHOP_Q, "matter", SHOP_CODE),
                                 LearnedExample("驾驶证六年有效期满了要换证", "out_of_scope"),
                                 LearnedExample("都要准备哪些证件", "intent", "ask_fee")])
    derived = regression.outcomes_for(nlu, candidate, HELDOUT)
    full = regression.outcomes(nlu, candidate, regression.load_heldout(HELDOUT))
    assert derived == full and sum(derived) < sum(regression.outcomes_for(nlu, nlu.learned, HELDOUT))
