"""A question asked in everyday words, said again in the catalogue's.

A catalogue entry without a guide has nothing but its official name, and people do not ask in official words: they
say «驾校» for 机动车驾驶员培训, «寺庙» for 宗教活动场所, «期房» for 商品房预售. ``data/everyday_words.yml`` (written by
hand from the catalogue's names, never from the evaluation set) maps a term of the names to the everyday words for
the same thing. A message that says such a word is searched a second time with the word put back into the
catalogue's term («我们寺庙想扩建大殿» → «我们宗教活动场所想扩建大殿»), and each matter keeps the better of its two
scores (:meth:`nlu.engine.NLU.parse`). The index is not touched: a message that says none of these words is searched
exactly as before, and nothing is retrained when the file changes.

A word the KB already says (a matter's name or alias, or a guide's own phrasings: 医保, 社保卡, 小卖部, 公交) is not
put back: the search finds its matters by it already, and saying it in official words would only move them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

#: The hand-written words.
EVERYDAY_FILE = Path(__file__).resolve().parent / "data" / "everyday_words.yml"
#: The most texts a message is said again as (each is one more search).
MAX_REWRITES = 2
#: What may come between the halves of a longer everyday word («捡到个小孩», «毕业证要公证»).
_BETWEEN = "[\u4e00-\u9fff]{0,2}?"


@dataclass(frozen=True)
class EverydayWords:
    """Everyday words and the catalogue terms each stands for (longest words first)."""

    terms_of: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, path: Path = EVERYDAY_FILE, known: Iterable[str] = ()) -> "EverydayWords":
        """The words of ``path`` (none when it is missing), without the ``known`` ones: what the KB already says
        (:func:`said_by_kb`; a word inside one of them is known). The file is read once per process.

        Raises:
            ValueError: the file is not a ``words:`` mapping of terms to lists of words (the message says where).
        """
        said = " ".join(known)
        terms_of: dict[str, list[str]] = {}
        for term, word in _read(path):
            if word not in said:
                terms_of.setdefault(word, []).append(term)
        ordered = sorted(terms_of, key=len, reverse=True)
        return cls({w: tuple(terms_of[w]) for w in ordered})

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern]:
        # (a word of four characters or more is said with a little between two of its parts too: «捡到个小孩» says
        # 捡到小孩, «毕业证要公证» says 毕业证公证)
        return {w: re.compile(re.escape(w) if len(w) < 4 else "|".join(
            f"{re.escape(w[:i])}{_BETWEEN}{re.escape(w[i:])}" for i in range(2, len(w) - 1)))
            for w in self.terms_of}

    def rewrites(self, text: str) -> list[str]:
        """``text`` with its everyday words put back into the catalogue's terms (none when it says none): first
        each word as its first term, then the first word as its other terms, at most :data:`MAX_REWRITES`."""
        found: list[tuple[str, re.Match]] = []
        rest = text
        for word, pattern in self._patterns.items():  # (longest first: «宠物医院», not «医院» inside it)
            m = pattern.search(rest)
            if m:
                found.append((word, m))
                rest = rest[:m.start()] + " " * (m.end() - m.start()) + rest[m.end():]
        if not found:
            return []
        out = [_put_back(text, [(m, self.terms_of[w][0]) for w, m in found])]
        word, m = found[0]
        out += [_put_back(text, [(m, term)]) for term in self.terms_of[word][1:]]
        return list(dict.fromkeys(out))[:MAX_REWRITES]


@lru_cache(maxsize=8)
def read_word_lists(path: Path, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(name, words)`` for every entry under ``key:`` of a hand-written word file (a mapping of names to lists
    of words), in its order, each word stripped (none when the file is missing). Read once per process.

    Raises:
        ValueError: the file is not such a mapping (the message says where).
    """
    if not path.is_file():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: expected a mapping under '{key}:'")
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, words in entries.items():
        # (a word YAML reads as a number, «12306», is a word too)
        if not isinstance(words, list) or not all(isinstance(w, (str, int)) and str(w).strip() for w in words):
            raise ValueError(f"{path}: {key} of {name!r}: expected a list of words")
        out.append((str(name), tuple(str(w).strip() for w in words)))
    return tuple(out)


def _read(path: Path) -> list[tuple[str, str]]:
    """``(term, word)`` for every everyday word of the file, in its order."""
    return [(term, w) for term, words in read_word_lists(path, "words") for w in words if w != term and len(w) >= 2]


def said_by_kb(matters: Iterable) -> list[str]:
    """What the KB already says things by: every matter's name and aliases, and the authored guides' phrasings."""
    out: list[str] = []
    for m in matters:
        out += [m.name, *m.aliases]
        if getattr(m, "source", "") == "authored":
            out += [*m.colloquial, *m.examples]
    return out


def _put_back(text: str, spans: list[tuple[re.Match, str]]) -> str:
    """``text`` with each matched span said as its term (spans do not overlap)."""
    for m, term in sorted(spans, key=lambda x: x[0].start(), reverse=True):
        text = text[:m.start()] + term + text[m.end():]
    return text
