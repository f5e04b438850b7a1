"""Pinyin-based correction of ASR output to the KB lexicon (营业执政→营业执照, 养老经→养老金, 公鸡金→公积金).

Speech recognisers confuse characters that sound alike; for a government-service assistant the words that matter
are the service terms, so a window of the transcript whose pinyin matches a lexicon term (exactly, or with
near-phones) but whose characters differ is replaced by the term.

Matching, per window of the transcript with as many characters as a term:

* syllables are compared without tones, after folding the near-phones that Mandarin ASR and south-western
  (Sichuanese) speech mix up: zh/z, ch/c, sh/s, n/l, f/h before u, -ng/-n (ang/an, eng/en, ing/in);
* a syllable with the same folded form costs 0; one with the same initial or the same final costs 0.5;
  anything else 1. Allowed total: 0 for terms of 2–3 characters, 0.5 for 4–6, 1 for longer ones;
* the window must share characters with the term (≥ 1 for short terms, ≥ half for 4+), must not be a lexicon
  term itself and must not cut through one found in the text (exact occurrences of terms of weight ≥ 1 are
  protected); a window
  that contains a protected term may only differ from the longer term by exact (folded) homophones; a short
  everyday service word (weight ≥ 2) may replace a window with no common character when the tones agree too
  (餐宝→参保), and a 3-character one may differ by one half-matching syllable when the other two characters are
  the same (让老金→养老金); low-weight words taken from matter names need identical tones (一下 is not 以下);
* longer terms win, then lower cost, then more identical tones, then the term's weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pypinyin import Style, lazy_pinyin

from voice.lexicon import Lexicon

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
             "c", "s", "y", "w")
_FOLD_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l"}
_FOLD_FINAL = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}


def split_syllable(syl: str) -> tuple[str, str]:
    """Split a toneless pinyin syllable into (initial, final); non-pinyin input gives ("", input)."""
    for ini in _INITIALS:
        if syl.startswith(ini) and len(syl) > len(ini):
            return ini, syl[len(ini):]
    return "", syl


def fold(syl: str) -> tuple[str, str]:
    """The near-phone-folded (initial, final) of a toneless syllable."""
    ini, fin = split_syllable(syl)
    if ini in ("j", "q", "x", "y") and fin.startswith("u"):
        fin = "v" + fin[1:]  # 取 qu is qü: not the u of 户 hu
    ini = _FOLD_INITIAL.get(ini, ini)
    if ini == "h" and fin.startswith("u"):
        ini = "f"  # 湖/福: Sichuanese hu ~ fu
    return ini, _FOLD_FINAL.get(fin, fin)


def syllable_cost(a: tuple[str, str], b: tuple[str, str]) -> float:
    """0 for the same folded syllable, 0.5 for a shared initial or final, else 1."""
    if a == b:
        return 0.0
    if (a[0] and a[0] == b[0]) or a[1] == b[1]:
        return 0.5
    return 1.0


def _allowed_cost(n: int) -> float:
    return 0.0 if n <= 3 else 0.5 if n <= 6 else 1.0


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Fix:
    """One replacement: ``original`` at ``start`` became ``term``."""

    start: int
    original: str
    term: str
    cost: float


@dataclass
class Corrected:
    """The outcome of :meth:`PinyinCorrector.correct`."""

    text: str
    fixes: list[Fix] = field(default_factory=list)


class PinyinCorrector:
    """Maps near-homophones in ASR output back to lexicon terms.

    Args:
        lexicon: the terms to correct to (see :class:`voice.lexicon.Lexicon`).
    """

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        # (length, position, folded syllable) -> [(term, toned syllables, folded syllables)]
        self._index: dict[tuple[int, int, tuple[str, str]], list[tuple[str, list[str], list[tuple[str, str]]]]] = {}
        self._lengths: set[int] = set()
        for term in lexicon.terms:
            if not all(_is_han(c) for c in term) or len(term) < 2:
                continue
            toned = lazy_pinyin(term, style=Style.TONE3, neutral_tone_with_five=True)
            if len(toned) != len(term):
                continue
            folded = [fold(s.rstrip("12345")) for s in toned]
            entry = (term, toned, folded)
            n = len(term)
            self._lengths.add(n)
            for pos in range(min(3, n)):
                self._index.setdefault((n, pos, folded[pos]), []).append(entry)

    def correct(self, text: str) -> Corrected:
        """Correct ``text``; returns the new text and the replacements made.

        Args:
            text: an ASR transcript (any characters; only runs of Han characters are examined).
        """
        if not text or not self._lengths:
            return Corrected(text or "")
        toned = _pinyin_per_char(text)
        folded = [fold(s.rstrip("12345")) if s else ("", "") for s in toned]
        n = len(text)
        protected = [False] * n
        spans: list[tuple[int, int]] = []
        for length in sorted(self._lengths, reverse=True):
            for i in range(0, n - length + 1):
                if self.lexicon.terms.get(text[i:i + length], 0.0) >= 1.0:
                    spans.append((i, i + length))
                    for k in range(i, i + length):
                        protected[k] = True
        candidates: list[tuple[float, ...]] = []
        for length in self._lengths:
            base_allowed = _allowed_cost(length)
            need_same = 1 if length <= 3 else (length + 1) // 2
            for i in range(0, n - length + 1):
                window = text[i:i + length]
                if not all(toned[k] for k in range(i, i + length)):
                    continue
                if window in self.lexicon.terms:
                    continue
                # may not cut through a protected span (containing it whole is fine)
                if any((s < i < e) or (s < i + length < e) for s, e in spans):
                    continue
                seen: set[str] = set()
                for pos in range(min(3, length)):
                    for term, t_toned, t_folded in self._index.get((length, pos, folded[i + pos]), ()):
                        if term in seen:
                            continue
                        seen.add(term)
                        same = sum(1 for a, b in zip(window, term) if a == b)
                        weight = self.lexicon.terms[term]
                        exact_tones = all(toned[i + k] == t_toned[k] for k in range(length))
                        if same == length:
                            continue
                        if same < need_same and not (exact_tones and length <= 3 and weight >= 2.0):
                            continue
                        if weight < 1.0 and not exact_tones:
                            continue
                        allowed = base_allowed
                        if length == 3 and same == 2 and weight >= 3.0:
                            allowed = 0.5  # 让老金→养老金: one half-matching syllable in an everyday service word
                        cost = 0.0
                        for k in range(length):
                            cost += syllable_cost(folded[i + k], t_folded[k])
                            if cost > allowed:
                                break
                        if cost > allowed:
                            continue
                        if cost and any(protected[i:i + length]):
                            # a window that extends a correctly heard term may only add pure homophones
                            continue
                        tones = sum(1 for k in range(length) if toned[i + k] == t_toned[k])
                        candidates.append((length, -cost, tones, self.lexicon.terms[term], -i, term, cost))
        candidates.sort(reverse=True)
        taken = [False] * n
        fixes: list[Fix] = []
        for length, _negcost, _tones, _w, negi, term, cost in candidates:
            i = -int(negi)
            length = int(length)
            if any(taken[i:i + length]):
                continue
            for k in range(i, i + length):
                taken[k] = True
            fixes.append(Fix(start=i, original=text[i:i + length], term=str(term), cost=float(cost)))
        if not fixes:
            return Corrected(text)
        out = list(text)
        for fx in fixes:
            out[fx.start:fx.start + len(fx.term)] = list(fx.term)
        fixes.sort(key=lambda f: f.start)
        return Corrected("".join(out), fixes)


def _pinyin_per_char(text: str) -> list[str]:
    """Toned pinyin (TONE3) for each character of ``text``; "" for non-Han characters.

    Runs of Han characters are converted together so pypinyin's phrase dictionary picks heteronym readings.
    """
    out = [""] * len(text)
    i = 0
    while i < len(text):
        if _is_han(text[i]):
            j = i
            while j < len(text) and _is_han(text[j]):
                j += 1
            syls = lazy_pinyin(text[i:j], style=Style.TONE3, neutral_tone_with_five=True)
            if len(syls) == j - i:
                out[i:j] = syls
            i = j
        else:
            i += 1
    return out
