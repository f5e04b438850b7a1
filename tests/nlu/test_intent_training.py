"""The intent classifier's training questions about the KB: what authoring one guide changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from nlu.intents import kb_examples


@dataclass
class _M:
    code: str
    name: str
    source: str = "catalogue"
    examples: list[str] = field(default_factory=list)
    colloquial: list[str] = field(default_factory=list)


def _catalogue(n: int) -> list[_M]:
    return [_M(f"51X{i:08d}", f"第{i}号事项") for i in range(n)]


def _templated(triples) -> dict[str, str]:
    return {code: text for text, _, code in triples}


def test_authoring_one_matter_leaves_the_other_drawn_questions_as_they_were():
    matters = _catalogue(400)
    before = _templated(kb_examples(matters, catalogue_names=50))
    assert len(before) == 50
    drawn = sorted(before)[0]
    authored = [(_M(m.code, m.name, "authored", [f"{m.name}要带什么"]) if m.code == drawn else m) for m in matters]
    after_all = kb_examples(authored, catalogue_names=50)
    # the authored matter now speaks by its own example; exactly one other matter joins the draw
    assert (f"第{int(drawn[3:])}号事项要带什么", drawn) in [(t, c) for t, _, c in after_all]
    kept = {c: t for t, _, c in after_all if c != drawn}
    assert len(set(kept) - set(before)) == 1
    assert all(kept[c] == before[c] for c in kept if c in before)


def test_the_draw_does_not_depend_on_the_order_of_the_catalogue():
    matters = _catalogue(300)
    assert sorted(kb_examples(matters, catalogue_names=40)) == sorted(kb_examples(matters[::-1], catalogue_names=40))
