"""The intent classifier on phrasings it has never seen (tests/data/heldout_intents.yml, written for the tests):
first that they really are held out, then that they are understood."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.leakcheck import find_leaks

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = yaml.safe_load((ROOT / "tests" / "data" / "heldout_intents.yml").read_text(encoding="utf-8"))["intents"]
#: Where training examples and KB texts live (none of the held-out phrasings may be there).
TRAINING = [ROOT / "nlu" / "data", ROOT / "assistant" / "preservice" / "data", ROOT / "knowledge" / "guides",
            ROOT / "knowledge" / "data", ROOT / "domain", ROOT / "data"]
#: The share of held-out phrasings whose intent must be right (each intent, and all together).
PER_INTENT, OVERALL = 0.6, 0.8


def _items() -> list[tuple[str, str]]:
    return [(intent, text) for intent, texts in HELDOUT.items() for text in texts]


def test_the_phrasings_are_held_out():
    queries = [(f"{intent}-{i}", text) for i, (intent, text) in enumerate(_items())]
    assert len(queries) >= 60
    leaks = find_leaks(queries, TRAINING)
    assert not leaks, [str(x) for x in leaks[:5]]


def test_held_out_phrasings_get_their_intent(nlu):
    wrong: dict[str, list[tuple[str, str]]] = {}
    for intent, text in _items():
        got = nlu.parse(text)["intent"]["name"]
        if got != intent:
            wrong.setdefault(intent, []).append((text, got))
    total = len(_items())
    assert 1 - sum(len(w) for w in wrong.values()) / total >= OVERALL, wrong
    for intent, texts in HELDOUT.items():
        assert 1 - len(wrong.get(intent, [])) / len(texts) >= PER_INTENT, (intent, wrong.get(intent))


@pytest.mark.parametrize("intent", ["ask_materials", "ask_location", "ask_time", "ask_fee"])
def test_a_follow_up_never_names_a_matter_strongly(nlu, intent):
    """«要带啥», «在哪办» name no matter: any guess the search attaches stays below the score at which the dialogue
    would take it over the conversation's matter."""
    from assistant.dialogue.matter import STRONG_MATCH_SCORE

    for text in HELDOUT[intent]:
        r = nlu.parse(text)
        assert all(h["score"] < STRONG_MATCH_SCORE for h in r["matters"]), (text, r["matters"][:2])
