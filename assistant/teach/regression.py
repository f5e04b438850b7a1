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

import numpy as np
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


#: Outcomes per (NLU, held-out folder, match threshold) and learned examples (as a set): a batch that went live is
#: the next baseline, and a set that only adds examples to a known one re-routes just the questions they can touch.
_OUTCOMES: dict[tuple[int, Path, float], dict[frozenset, list[bool]]] = {}


def _touched(nlu: Any, learned: Any, added: list[Any], items: tuple[HeldOut, ...]) -> list[int]:
    """The held-out questions whose parse ``added`` examples can change: one is at least as close as the match
    threshold, or a matter example is closer than every row of its matter in the index (it would raise that
    matter's dense score; compared with the plain embedding and with the question's matter vector, as the search
    compares them). Conservative: the others parse exactly as before."""
    from nlu.text import MAX_MODEL_CHARS, normalize, strip_frame

    if not added or not items:
        return []
    qv = np.stack([nlu.encoder.encode_one(strip_frame(normalize(it.text, MAX_MODEL_CHARS)) or it.text)
                   for it in items])
    mv = nlu.adapter.apply(qv) if getattr(nlu, "adapter", None) is not None else qv
    av = np.stack([learned.vector_of(e.text) for e in added])
    sims, msims = qv @ av.T, mv @ av.T
    out = []
    for i in range(len(items)):
        for j, e in enumerate(added):
            if float(sims[i, j]) >= learned.threshold:
                out.append(i)
                break
            pos = nlu.index.code_pos.get(e.label) if e.kind == "matter" else None
            if pos is not None and (float(sims[i, j]) > nlu.index.dense_of(pos, qv[i])
                                    or float(msims[i, j]) > nlu.index.dense_of(pos, mv[i])):
                out.append(i)
                break
    return out


def outcomes_for(nlu: Any, learned: Any, folder: Path) -> list[bool]:
    """Right or wrong per held-out question with ``learned`` served (cached; derived from a known subset)."""
    items = load_heldout(folder)
    cache = _OUTCOMES.setdefault((id(nlu), folder, learned.threshold), {})
    examples = frozenset(learned.examples)
    if examples in cache:
        return cache[examples]
    known = max((k for k in cache if k <= examples), key=len, default=None)
    if known is None:
        result = outcomes(nlu, learned, items)
    else:
        result = list(cache[known])
        for i in _touched(nlu, learned, [e for e in learned.examples if e not in known], items):
            result[i] = right(items[i], nlu.parse(items[i].text, learned=learned))
    if len(cache) > 64:
        cache.clear()
    cache[examples] = result
    return result


def warm(nlu: Any, folder: Path) -> None:
    """Route the held-out questions with the served examples now (the next check starts from them)."""
    if load_heldout(folder):
        outcomes_for(nlu, nlu.learned, folder)


def check(nlu: Any, candidate: Any, folder: Path) -> CheckResult:
    """Compare routing of the held-out questions with the served examples and with ``candidate``."""
    items = load_heldout(folder)
    before = outcomes_for(nlu, nlu.learned, folder)
    after = outcomes_for(nlu, candidate, folder)
    broken = [{"text": it.text, "expected": list(it.accept)} for it, b, a in zip(items, before, after) if b and not a]
    fixed = [{"text": it.text, "expected": list(it.accept)} for it, b, a in zip(items, before, after) if a and not b]
    return CheckResult(sum(after) >= sum(before), sum(before), sum(after), len(items), broken, fixed)
