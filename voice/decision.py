"""Choosing what a visitor meant from the recogniser's n-best list, and knowing when to ask instead.

The recogniser gives several candidate transcripts with posteriors (:class:`voice.engine.Hypothesis`). Each
candidate is corrected (pinyin correction to the KB lexicon) and routed by a **routing callable** the caller
hands in — ``voice`` imports nothing of the NLU; the app passes ``nlu.parse``. The callable takes a text and returns
the NLU contract's dict: ``{"matters": [{"code", "name", "score"}, …], "out_of_scope": bool, …}``.

Scores combine like this: within one candidate, the routed matters' scores become a distribution (softmax with
temperature ``tau`` over the candidate's top-k, scaled by how sure the router is that the text is a matter
question at all); across candidates, these are weighted by the ASR posteriors and summed. So a matter that several
plausible hearings agree on wins over one that only the single best hearing suggests, and a hearing the router
cannot place contributes nothing. The combined probability of the winner, times how sure the recogniser was of
what it heard (:func:`asr_certainty`), is the **confidence**. Below ``ask_below`` the kiosk shows what it heard and
the top matters as buttons («您是想问…吗？») instead of answering.

A high confidence is not enough when the hearing itself gives reason to doubt it (``Decision.doubts``); the kiosk
then asks too: the router calls the chosen hearing ambiguous between close matters (typed, it would offer them as
choices too), the best hearing is under three characters, or the caller's ``doubt`` check objects (the pipeline's:
two service terms no matter uses together, which is what whisper strings together from its prompt when it cannot
make out the words in babble).

Nothing here is tuned to particular clips: ``tau`` only sets how peaked the router's scores are (they differ by a
few hundredths between close matters) and ``ask_below`` trades a wrong answer against one extra tap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Route = Callable[[str], dict[str, Any]]


@dataclass
class Alternative:
    """A matter the visitor may have meant.

    Attributes:
        code / name: the matter.
        score: its combined probability (0–1) over the n-best list.
        text: the (corrected) hearing that supports it best — what to send on when the visitor taps it.
    """

    code: str
    name: str
    score: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "score": round(self.score, 4), "text": self.text}


@dataclass
class Decision:
    """What the kiosk should do with an utterance.

    Attributes:
        text: the hearing to answer (corrected; the best hearing of the top matter, else the best one).
        confidence: 0–1; ``confirm`` is ``confidence < ask_below``.
        alternatives: the top matters (at most ``top_k``), best first.
        confirm: True when the kiosk should ask «您是想问…吗？» with the alternatives as buttons.
        heard: the recogniser's best hearing (corrected), to show as "您说的是".
        hypotheses: every hearing considered, ``{"text", "asr", "matter", "oos"}`` (for logs and tests).
        doubts: why the kiosk asks although the confidence is high (``"ambiguous"``, ``"short"``, or what the
            caller's ``doubt`` check said); empty when there is none.
    """

    text: str
    confidence: float
    alternatives: list[Alternative] = field(default_factory=list)
    confirm: bool = False
    heard: str = ""
    hypotheses: list[dict[str, Any]] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)

    def as_tuple(self) -> tuple[str, float, list[Alternative]]:
        """``(text, confidence, alternatives)``."""
        return self.text, self.confidence, self.alternatives

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "heard": self.heard, "confidence": round(self.confidence, 4),
                "confirm": self.confirm, "doubts": list(self.doubts),
                "alternatives": [a.as_dict() for a in self.alternatives]}


def asr_certainty(mean_token_prob: float, floor: float = 0.35, full: float = 0.75) -> float:
    """Map whisper's exp(mean token log-probability) of the best hearing to 0–1 (≤ floor → 0, ≥ full → 1)."""
    if mean_token_prob <= 0:
        return 0.0
    return max(0.0, min(1.0, (mean_token_prob - floor) / (full - floor)))


def _softmax(scores: list[float], tau: float) -> list[float]:
    if not scores:
        return []
    top = max(scores)
    ex = [math.exp((s - top) / tau) for s in scores]
    total = sum(ex)
    return [e / total for e in ex]


#: A best hearing shorter than this (letters and digits) is too little to answer on without asking.
MIN_CHARS = 3


def decide(hypotheses: Iterable[Any], route: Route, correct: Callable[[str], str] | None = None, *,
           asr_confidence: float | None = None, top_k: int = 3, per_hyp: int = 5, tau: float = 0.03,
           ask_below: float = 0.5, doubt: Callable[[str], str | None] | None = None) -> Decision:
    """Route every hearing and combine (see the module docstring).

    Args:
        hypotheses: n-best candidates best first — :class:`voice.engine.Hypothesis` (``text``, ``confidence`` =
            posterior) or ``(text, posterior)`` pairs.
        route: text → the NLU's parse dict (``matters`` ranked ``{code, name, score}``, ``out_of_scope``).
        correct: text → corrected text (the pinyin correction), applied before routing.
        asr_confidence: exp(mean token log-probability) of the best hearing (None: not known, taken as sure).
        top_k: alternatives to return.
        per_hyp: routed matters considered per hearing.
        tau: softmax temperature over one hearing's matter scores.
        ask_below: confirm when the confidence is below this, or when there is a doubt (``0``: never confirm).
        doubt: text → a reason to doubt a hearing (None: no doubt), applied to the best hearing and to the
            chosen one.
    """
    hyps: list[tuple[str, float]] = []
    for h in hypotheses:
        text, p = (h.text, h.confidence) if hasattr(h, "text") else (h[0], h[1])
        if text:
            hyps.append((text, float(p)))
    if not hyps:
        return Decision(text="", confidence=0.0, confirm=False)
    total_p = sum(p for _, p in hyps) or 1.0
    combined: dict[str, float] = {}
    names: dict[str, str] = {}
    support: dict[str, tuple[float, str]] = {}
    seen: dict[str, dict[str, Any]] = {}
    considered = []
    for text, p in hyps:
        fixed = correct(text) if correct else text
        parse = seen.get(fixed)
        if parse is None:
            parse = route(fixed) or {}
            seen[fixed] = parse
        matters = [] if parse.get("out_of_scope") else list(parse.get("matters") or [])[:per_hyp]
        considered.append({"text": fixed, "asr": round(p / total_p, 4),
                           "matter": matters[0]["code"] if matters else None,
                           "oos": bool(parse.get("out_of_scope"))})
        if not matters:
            continue
        dist = _softmax([float(m.get("score", 0.0)) for m in matters], tau)
        for m, q in zip(matters, dist):
            code = m["code"]
            w = p / total_p * q
            combined[code] = combined.get(code, 0.0) + w
            names[code] = m.get("name", "")
            if w > support.get(code, (-1.0, ""))[0]:
                support[code] = (w, fixed)
    heard = considered[0]["text"]
    if not combined:
        return Decision(text=heard, confidence=0.0, confirm=False, heard=heard, hypotheses=considered)
    ranked = sorted(combined.items(), key=lambda kv: -kv[1])
    alts = [Alternative(code, names[code], score, support[code][1]) for code, score in ranked[:top_k]]
    certainty = 1.0 if asr_confidence is None else asr_certainty(asr_confidence)
    confidence = alts[0].score * (0.5 + 0.5 * certainty)
    doubts = _doubts(heard, alts[0].text, seen.get(alts[0].text) or {}, doubt)
    return Decision(text=alts[0].text, confidence=confidence, alternatives=alts,
                    confirm=confidence < ask_below or (bool(doubts) and ask_below > 0), heard=heard,
                    hypotheses=considered, doubts=doubts)


def _doubts(heard: str, chosen: str, parse: dict[str, Any], doubt: Callable[[str], str | None] | None) -> list[str]:
    """The reasons to ask although the decision is confident (see the module docstring)."""
    out = []
    if parse.get("ambiguous"):
        out.append("ambiguous")
    if sum(ch.isalnum() for ch in heard) < MIN_CHARS:
        out.append("short")
    if doubt is not None:
        for text in dict.fromkeys((heard, chosen)):
            reason = doubt(text)
            if reason and reason not in out:
                out.append(reason)
    return out


#: What the kiosk asks when unsure.
ASK_TEXT = "您是想问下面哪一项吗？"


def confirm_message(decision: Decision) -> dict[str, Any]:
    """The ``/ws/kiosk`` message that asks the visitor to choose: what was heard, the top matters as buttons
    (each with the button payload ``/ask_matter{"matter": "<code>"}`` the NLU understands), 重说 and 找工作人员
    are the page's own buttons."""
    return {"confirm": True, "heard": decision.heard, "message": ASK_TEXT,
            "confidence": round(decision.confidence, 4), "doubts": list(decision.doubts),
            "alternatives": [{**a.as_dict(), "payload": '/ask_matter{"matter": "%s"}' % a.code}
                             for a in decision.alternatives]}
