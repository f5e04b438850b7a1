"""The regression check a batch of learned examples must pass before it goes live.

The held-out sets are the project's own, written for this (``tests/data/heldout_intents.yml``: phrasings per
intent; ``tests/data/heldout_matters.yml``: matter questions with the accepted codes) — never the evaluation file.
A batch passes when routing the held-out sets with the candidate examples gets at least as many right as with the
served ones; otherwise it is held back, with the questions it would have broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class HeldOut:
    """One held-out question: an intent phrasing (``kind="intent"``) or a matter question (``kind="matter"``)."""

    text: str
    kind: str
    accept: tuple[str, ...]


@dataclass
class CheckResult:
    """The outcome of a check."""

    passed: bool
    baseline: int
    candidate: int
    total: int
    broken: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "baseline": self.baseline, "candidate": self.candidate, "total": self.total,
                "baseline_accuracy": round(self.baseline / self.total, 4) if self.total else None,
                "candidate_accuracy": round(self.candidate / self.total, 4) if self.total else None,
                "broken": self.broken[:10], "fixed": self.fixed[:10]}


@lru_cache(maxsize=4)
def load_heldout(folder: Path) -> tuple[HeldOut, ...]:
    """The held-out questions in ``folder`` (``heldout_intents.yml`` and ``heldout_matters.yml``)."""
    out: list[HeldOut] = []
    intents = folder / "heldout_intents.yml"
    if intents.is_file():
        data = yaml.safe_load(intents.read_text(encoding="utf-8")) or {}
        for name, texts in (data.get("intents") or {}).items():
            out += [HeldOut(str(t), "intent", (str(name),)) for t in texts or []]
    matters = folder / "heldout_matters.yml"
    if matters.is_file():
        data = yaml.safe_load(matters.read_text(encoding="utf-8")) or {}
        out += [HeldOut(str(m["q"]), "matter", tuple(str(c) for c in m["accept"])) for m in data.get("matters") or []]
    return tuple(out)


def right(item: HeldOut, parse: dict[str, Any]) -> bool:
    """Whether a parse routes a held-out question right."""
    if item.kind == "intent":
        return parse["intent"]["name"] in item.accept
    if parse.get("out_of_scope"):
        return False
    top = (parse.get("matters") or [{}])[0]
    return top.get("code") in item.accept


def outcomes(nlu: Any, learned: Any, items: tuple[HeldOut, ...]) -> list[bool]:
    """Right or wrong, per held-out question, with ``learned`` served."""
    return [right(it, nlu.parse(it.text, learned=learned)) for it in items]


_BASELINES: dict[int, tuple[Any, list[bool]]] = {}


def check(nlu: Any, candidate: Any, folder: Path) -> CheckResult:
    """Compare routing of the held-out questions with the served examples and with ``candidate``."""
    items = load_heldout(folder)
    served = nlu.learned
    cached = _BASELINES.get(id(nlu))
    if cached is None or cached[0] is not served:
        cached = (served, outcomes(nlu, served, items))
        _BASELINES[id(nlu)] = cached
    before = cached[1]
    after = outcomes(nlu, candidate, items)
    broken = [{"text": it.text, "expected": list(it.accept)} for it, b, a in zip(items, before, after) if b and not a]
    fixed = [{"text": it.text, "expected": list(it.accept)} for it, b, a in zip(items, before, after) if a and not b]
    return CheckResult(sum(after) >= sum(before), sum(before), sum(after), len(items), broken, fixed)
