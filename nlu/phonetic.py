"""Pinyin-aware matter matching: text typed or heard with same-sounding characters (设保卡 for 社保卡, 营叶执照
for 营业执照) and Sichuan-accent confusions still finds its matter.

Every text is turned into toneless pinyin syllables (pypinyin, runs of Han characters converted together so the
phrase dictionary picks heteronym readings) and each syllable is *accent-folded* — the sounds that south-western
Mandarin and speech recognisers mix up are mapped onto one form:

* initials zh/z, ch/c, sh/s and n/l;
* f/h before u, in the Sichuanese way: 湖 hu → fu, 花 hua → fa, 欢 huan → fan, 黄 huang → fang, 灰 hui → fei,
  火 huo → fo, 婚 hun → fen;
* finals -ng/-n: ang/an, eng/en, ing/in (also iang/ian, uang/uan).

Two matchers use the folded syllables:

* a BM25 over folded syllable bigrams of one document per matter (name, aliases, colloquial phrasings, example
  questions): a homophone typo leaves most bigrams intact, so the right matter still ranks;
* a fuzzy alignment of the query against each candidate matter's names and aliases (approximate substring
  match; a syllable costs 0 when it folds to the same form, 0.5 when it shares the initial or the final, else 1).

:class:`PhoneticIndex` combines them (``search(text, k) -> [(code, score)]``, score in [0, 1]); the NLU fuses the
score into its ranking, and the voice channel can route ASR hypotheses with it. The helpers
(:func:`folded_syllables`, :func:`fold_syllable`, :func:`syllable_cost`, :func:`align_cost`) are public.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pypinyin import Style, lazy_pinyin

from nlu.bm25 import BM25
from nlu.text import normalize

#: Bump when the cached index's content changes (folding rules, terms).
CACHE_VERSION = 1
#: Characters of a text the phonetic search reads (the names people mention come early; keeps it fast).
MAX_CHARS = 80
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_NAME_PARTS = re.compile(r"[（）()【】\[\]、，,；;：:/\s]+")
# Two-letter initials first so that "zh" is not read as "z" + "h…".
_INITIAL = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(.*)$")
_FOLD_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "h": "f"}
_FOLD_FINAL = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}
# Sichuanese hu- → f-: the u glide goes (花 hua → fa, 灰 hui → fei, 婚 hun → fen).
_HU_FINAL = {"u": "u", "ua": "a", "uai": "ai", "uan": "an", "uang": "an", "ui": "ei", "uo": "o", "un": "en"}


@lru_cache(maxsize=4096)
def split_initial(syllable: str) -> tuple[str, str]:
    """``(initial, final)`` of a toneless pinyin syllable (``("", syllable)`` for zero-initial ones)."""
    ini, fin = _INITIAL.match(syllable).groups()
    if not fin:  # "n", "m", "ng" interjections: all final
        return "", syllable
    return ini or "", fin


@lru_cache(maxsize=4096)
def fold_syllable(syllable: str) -> str:
    """The accent-folded form of a toneless pinyin syllable: ``"zhang"`` → ``"zan"``, ``"neng"`` → ``"len"``,
    ``"huan"`` → ``"fan"``, ``"shi"`` → ``"si"``; ``"lü"`` is written ``"lv"``."""
    ini, fin = split_initial(syllable.replace("ü", "v"))
    if ini in ("j", "q", "x", "y") and fin.startswith("u"):
        fin = "v" + fin[1:]  # 居 ju is jü, not the u of 户 hu
    if ini in ("h", "f") and fin in _HU_FINAL:
        return "f" + _FOLD_FINAL.get(_HU_FINAL[fin], _HU_FINAL[fin])
    return _FOLD_INITIAL.get(ini, ini) + _FOLD_FINAL.get(fin, fin)


def syllables(text: str) -> list[list[str]]:
    """Toneless pinyin of each run of Han characters in ``text`` (one list per run, one syllable per character).

    Args:
        text: any text; characters other than Han ideographs separate runs and are dropped.
    """
    out = []
    for run in _HAN_RUN.findall(text or ""):
        syls = lazy_pinyin(run, style=Style.NORMAL, errors=lambda x: ["?"] * len(x))
        if len(syls) == len(run):
            out.append(syls)
    return out


def folded_syllables(text: str) -> list[list[str]]:
    """Accent-folded pinyin of each Han run of ``text``: ``"营叶执照"`` and ``"营业执照"`` both give
    ``[["yin", "ye", "zi", "zao"]]``."""
    return [[fold_syllable(s) for s in run] for run in syllables(text)]


def folded_pinyin(text: str) -> str:
    """The folded syllables of ``text`` joined by spaces (runs separated by ``" | "``): a readable key for
    comparing two texts by sound."""
    return " | ".join(" ".join(run) for run in folded_syllables(text))


@lru_cache(maxsize=65536)
def syllable_cost(a: str, b: str) -> float:
    """The substitution cost of two folded syllables: 0 when equal, 0.5 when they share the initial (non-empty) or
    the final, else 1."""
    if a == b:
        return 0.0
    ia, fa = split_initial(a)
    ib, fb = split_initial(b)
    return 0.5 if (ia and ia == ib) or fa == fb else 1.0


def align_cost(term: Sequence[str], text: Sequence[str]) -> float:
    """The cheapest approximate occurrence of ``term`` inside ``text`` (both folded syllable lists): substitutions
    cost :func:`syllable_cost`, a syllable missing from or added to the term costs 1, and the text around the
    occurrence is free."""
    if not term:
        return 0.0
    prev = [float(j) for j in range(len(term) + 1)]  # row for an empty text prefix: deleting term syllables
    best = prev[-1]
    for s in text:
        cur = [0.0]
        for j, t in enumerate(term, 1):
            cur.append(min(prev[j - 1] + syllable_cost(t, s), prev[j] + 1.0, cur[j - 1] + 1.0))
        prev = cur
        best = min(best, cur[-1])
    return best


def bigram_terms(text: str) -> list[str]:
    """BM25 terms of a text by sound: folded syllable bigrams of each Han run (a one-character run gives its
    syllable)."""
    return _bigrams(folded_syllables(text))


def _bigrams(runs: list[list[str]]) -> list[str]:
    out = []
    for run in runs:
        if len(run) == 1:
            out.append(run[0])
        out.extend(f"{a}_{b}" for a, b in zip(run, run[1:]))
    return out


def _positions(syls: Sequence[str]) -> dict[str, list[int]]:
    where: dict[str, list[int]] = {}
    for i, x in enumerate(syls):
        where.setdefault(x, []).append(i)
    return where


def matter_terms(matter) -> list[str]:
    """The names a matter is called by (normalised, 2–16 Han characters): the name, the name without its
    bracketed part, the name's parts, the aliases."""
    out: list[str] = []
    short = _PAREN.sub("", matter.name)
    for t in (matter.name, short, *_NAME_PARTS.split(matter.name), *matter.aliases):
        for run in _HAN_RUN.findall(normalize(t)):
            if 2 <= len(run) <= 16 and run not in out:
                out.append(run)
    return out


@dataclass(frozen=True)
class PhoneticHit:
    """One phonetic search result: ``code``, ``score`` in [0, 1], and the name or alias that matched best."""

    code: str
    score: float
    term: str = ""


class PhoneticIndex:
    """Matters indexed by accent-folded pinyin.

    Args:
        codes: the matter codes, one per document.
        documents: one text per matter (what BM25 sees: name, aliases, colloquial phrasings, examples).
        terms: per matter, the names it is called by (what the fuzzy alignment compares against).

    Build from a KB with :meth:`from_matters` (or :meth:`load_or_build` with a cache folder); query with
    :meth:`search` (pairs) or :meth:`hits`.
    """

    def __init__(self, codes: list[str], documents: list[str], terms: list[list[str]]):
        self._setup(codes, [bigram_terms(d) for d in documents],
                    [[(t, [s for run in folded_syllables(t) for s in run]) for t in ts] for ts in terms])

    def _setup(self, codes: list[str], doc_terms: list[list[str]], terms: list[list[tuple[str, list[str]]]],
               bm25: BM25 | None = None) -> None:
        self.codes = list(codes)
        self.doc_terms = doc_terms
        self.bm25 = bm25 if bm25 is not None else BM25(doc_terms)
        self.terms = terms
        self.position = {c: i for i, c in enumerate(self.codes)}

    @classmethod
    def from_matters(cls, matters: Iterable) -> "PhoneticIndex":
        """Index ``knowledge.schema.Matter`` objects (names, aliases, colloquial phrasings, example questions)."""
        matters = list(matters)
        docs = [" ".join([m.name, m.name, *m.aliases, *m.colloquial, *m.examples]) for m in matters]
        return cls([m.code for m in matters], docs, [matter_terms(m) for m in matters])

    @classmethod
    def load_or_build(cls, matters: Sequence, cache_dir: Path | None, fingerprint: str) -> "PhoneticIndex":
        """The index of ``matters``, read from ``cache_dir`` when it was built for this KB ``fingerprint`` before
        (pinyin conversion of the whole KB is most of the build), else built and written there."""
        path = cache_dir / f"phonetic-v{CACHE_VERSION}-{fingerprint}.json" if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if len(data["codes"]) == len(matters):
                    index = cls.__new__(cls)
                    index._setup(data["codes"], data["doc_terms"],
                                 [[(t, list(s)) for t, s in ts] for ts in data["terms"]])
                    return index
            except (OSError, ValueError, KeyError, TypeError):
                pass  # rebuilt below
        index = cls.from_matters(matters)
        if path is not None:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps({"codes": index.codes, "doc_terms": index.doc_terms, "terms": index.terms},
                                      ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        return index

    def with_matters(self, changed: dict[int, object]) -> "PhoneticIndex":
        """A new index where the matters at some positions (position → ``Matter``, same code) are re-indexed;
        the others are reused as they are."""
        doc_terms = list(self.doc_terms)
        terms = list(self.terms)
        for i, m in changed.items():
            doc_terms[i] = bigram_terms(" ".join([m.name, m.name, *m.aliases, *m.colloquial, *m.examples]))
            terms[i] = [(t, [s for run in folded_syllables(t) for s in run]) for t in matter_terms(m)]
        index = type(self).__new__(type(self))
        index._setup(self.codes, doc_terms, terms,
                     self.bm25.with_docs({i: (self.doc_terms[i], doc_terms[i]) for i in changed}))
        return index

    def sparse(self, text: str) -> dict[int, float]:
        """Normalised BM25 scores (document position → [0, 1]) of ``text``'s folded syllable bigrams."""
        q = _bigrams(folded_syllables(normalize(text)))
        return self.bm25.normalized(q) if q else {}

    def name_match(self, position: int, query: Sequence[str],
                   where: dict[str, list[int]] | None = None) -> tuple[float, str]:
        """How well one matter's best name or alias occurs (by sound) in the folded ``query`` syllables:
        ``1 - cost / length`` (0 when the cost reaches half the length; terms of 2 syllables must match exactly
        after folding), and that term.

        Args:
            position: the matter's position.
            query: the folded syllables of the text.
            where: syllable → its positions in ``query`` (computed when not given).
        """
        if where is None:
            where = _positions(query)
        best, which = 0.0, ""
        for term, syls in self.terms[position]:
            n = len(syls)
            # longer names say more: a full 8-syllable name outweighs a 2-syllable part
            size = min(1.0, 0.4 + 0.1 * n)
            if n < 2 or n > len(query) + 1 or size <= best:
                continue
            if n - sum(1 for x in syls if x in where) > n / 2:
                continue  # fewer than half of its syllables were heard at all: cannot match
            # align only around the places where one of its syllables was heard exactly (nearby places merged)
            starts = sorted({i - j for j, x in enumerate(syls) for i in where.get(x, ())})
            cost, lo, hi = float(n), starts[0], starts[0]
            for st in [*starts[1:], None]:
                if st is not None and st <= hi + n:
                    hi = st
                    continue
                cost = min(cost, align_cost(syls, query[max(0, lo - 1):hi + n + 1]))
                if st is not None:
                    lo = hi = st
            limit = 0.0 if n == 2 else n / 2
            if cost > limit or (n > 2 and cost >= limit):
                continue
            sim = (1.0 - cost / n) * size
            if sim > best:
                best, which = sim, term
        return best, which

    def hits(self, text: str, k: int = 5, pool: int = 20) -> list[PhoneticHit]:
        """The ``k`` best matters for ``text`` by sound.

        Args:
            text: a typed message or an ASR hypothesis.
            k: how many hits.
            pool: how many BM25 candidates get the fuzzy name alignment.

        Returns:
            Hits best first; ``score`` = mean of the bigram BM25 score and the name-match score.
        """
        runs = folded_syllables(normalize(text)[:MAX_CHARS])
        q = _bigrams(runs)
        if not q:
            return []
        sparse = self.bm25.normalized_array(q)
        cands = np.flatnonzero(sparse)
        if not len(cands):
            return []
        cands = cands[np.argsort(-sparse[cands], kind="stable")[:pool]].tolist()
        query = [s for run in runs for s in run]
        where = _positions(query)
        out = []
        for d in cands:
            nm, term = self.name_match(d, query, where)
            out.append(PhoneticHit(self.codes[d], 0.5 * float(sparse[d]) + 0.5 * nm, term))
        out.sort(key=lambda h: (-h.score, h.code))
        return out[:k]

    def search(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """``[(code, score)]`` of the ``k`` best matters for ``text`` by sound (see :meth:`hits`)."""
        return [(h.code, h.score) for h in self.hits(text, k)]

    def scores(self, text: str, pool: int = 20) -> dict[int, float]:
        """Phonetic score by matter position for the ``pool`` best candidates (what the NLU fuses)."""
        return {self.position[h.code]: h.score for h in self.hits(text, pool, pool)}


def chars_by_sound(texts: Iterable[str]) -> dict[str, list[str]]:
    """The Han characters of ``texts`` grouped by folded syllable (``"se"`` → ``["社", "设", "射", …]``)."""
    chars = sorted({c for t in texts for c in t if "\u4e00" <= c <= "\u9fff"})
    out: dict[str, list[str]] = {}
    # a list is read word by word: each character gets its own most common reading
    for c, syl in zip(chars, lazy_pinyin(chars, style=Style.NORMAL)) if chars else ():
        out.setdefault(fold_syllable(syl), []).append(c)
    return out


def sound_alike_typo(text: str, by_sound: dict[str, list[str]], rng) -> str | None:
    """``text`` with one Han character replaced by another that folds to the same syllable (what a homophone typo
    or a misheard accent gives: 社保卡 → 设保卡); ``None`` when no character has such a neighbour.

    Args:
        text: a normalised text.
        by_sound: :func:`chars_by_sound` of a vocabulary.
        rng: a ``random.Random``.
    """
    positions = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff"]
    rng.shuffle(positions)
    for i in positions:
        syl = lazy_pinyin(text[i], style=Style.NORMAL)[0]
        alts = [c for c in by_sound.get(fold_syllable(syl), ()) if c != text[i]]
        if alts:
            return text[:i] + rng.choice(alts) + text[i + 1:]
    return None
