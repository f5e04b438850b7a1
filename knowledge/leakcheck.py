"""Guard against evaluation queries leaking into training examples or the KB.

The evaluation set (``../shared/eval/citizen_questions.jsonl``) is for measurement only. :func:`find_leaks`
reports every file that contains one of its queries — compared after dropping whitespace and punctuation and
NFKC normalisation, so a copy with different spacing or full-width punctuation is still caught.
:func:`find_near_copies` also catches paraphrases by small edits (a word dropped or swapped).
"""

from __future__ import annotations

import bisect
import difflib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: Queries shorter than this (after normalisation) are too generic to count as copies (``办身份证``).
MIN_QUERY_LENGTH = 6
#: File types searched.
TEXT_SUFFIXES = (".yml", ".yaml", ".json", ".jsonl", ".md", ".txt", ".py", ".csv", ".tsv")


def normalize(text: str) -> str:
    """``text`` in NFKC, without whitespace or punctuation, lower case.

    Args:
        text: any text.
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch).startswith("P"))).lower()


@dataclass(frozen=True)
class Leak:
    """An evaluation query found in a file.

    Attributes:
        file: the file.
        line: 1-based line where the query starts.
        query_id: the evaluation item's ``id``.
        query: the query text.
    """

    file: Path
    line: int
    query_id: str
    query: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: contains evaluation query {self.query_id} {self.query!r}"


def read_queries(path: Path, min_length: int = MIN_QUERY_LENGTH) -> list[tuple[str, str]]:
    """The ``(id, query)`` pairs of an evaluation file whose normalised query has at least ``min_length`` chars.

    Args:
        path: a JSON Lines file with ``id`` and ``query`` per line.
        min_length: shortest query that counts.
    """
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                if len(normalize(rec["query"])) >= min_length:
                    out.append((str(rec.get("id", "?")), rec["query"]))
    return out


def iter_files(roots: Iterable[Path]) -> list[Path]:
    """Every text file (by suffix) under ``roots`` (files or folders; missing ones are skipped), sorted."""
    files: set[Path] = set()
    for root in map(Path, roots):
        if root.is_file():
            files.add(root)
        elif root.is_dir():
            files.update(p for p in root.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
    return sorted(files)


#: Similarity (difflib ratio of normalised texts) from which a phrase counts as a near copy of a query.
NEAR_COPY_RATIO = 0.85


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def phrases_in(path: Path) -> list[str]:
    """The phrases of a file: string values of YAML/JSON (also JSON Lines), else the non-empty lines.

    Args:
        path: the file.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        if path.suffix in (".yml", ".yaml"):
            docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
            return [s for d in docs for s in _strings(d)]
        if path.suffix == ".json":
            return list(_strings(json.loads(text)))
        if path.suffix == ".jsonl":
            return [s for line in text.splitlines() if line.strip() for s in _strings(json.loads(line))]
    except (yaml.YAMLError, json.JSONDecodeError):
        pass
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class NearCopy:
    """A phrase that is almost an evaluation query (a paraphrase by small edits).

    Attributes:
        file: the file.
        phrase: the phrase found there.
        query_id: the evaluation item's ``id``.
        query: the query.
        ratio: similarity of the normalised texts (1.0 = identical).
    """

    file: Path
    phrase: str
    query_id: str
    query: str
    ratio: float

    def __str__(self) -> str:
        return f"{self.file}: {self.phrase!r} ≈ evaluation query {self.query_id} {self.query!r} ({self.ratio:.2f})"


def find_near_copies(queries: list[tuple[str, str]], roots: Iterable[Path],
                     threshold: float = NEAR_COPY_RATIO) -> list[NearCopy]:
    """Phrases under ``roots`` that are nearly one of ``queries`` (see :data:`NEAR_COPY_RATIO`).

    Args:
        queries: ``(id, query)`` pairs.
        roots: files and/or folders.
        threshold: smallest similarity that counts.
    """
    matchers = []
    for qid, q in queries:
        sm = difflib.SequenceMatcher(autojunk=False)
        sm.set_seq2(normalize(q))
        matchers.append((len(sm.b), qid, q, sm, frozenset(sm.b)))
    matchers.sort(key=lambda m: m[0])
    lengths = [m[0] for m in matchers]
    found: list[NearCopy] = []
    for path in iter_files(roots):
        try:
            phrases = phrases_in(path)
        except (UnicodeDecodeError, OSError):
            continue
        for phrase in dict.fromkeys(phrases):
            norm = normalize(phrase)
            if len(norm) < MIN_QUERY_LENGTH or len(norm) > 200:
                continue
            # ratio >= t needs 2*min(la, lb)/(la + lb) >= t: only queries of a similar length can match.
            lo = bisect.bisect_left(lengths, len(norm) * threshold / (2 - threshold))
            hi = bisect.bisect_right(lengths, len(norm) * (2 - threshold) / threshold)
            counts = Counter(norm)
            for size, qid, q, sm, chars in matchers[lo:hi]:
                # cheap upper bound on matching characters: those of the phrase that occur in the query at all
                bound = len(norm) - sum(counts[c] for c in counts.keys() - chars)
                if 2 * bound < threshold * (len(norm) + size):
                    continue
                sm.set_seq1(norm)
                if sm.quick_ratio() >= threshold:
                    ratio = sm.ratio()
                    if ratio >= threshold:
                        found.append(NearCopy(path, phrase, qid, q, round(ratio, 3)))
    return found


def find_leaks(queries: list[tuple[str, str]], roots: Iterable[Path]) -> list[Leak]:
    """Files under ``roots`` that contain any of ``queries``.

    Args:
        queries: ``(id, query)`` pairs (see :func:`read_queries`).
        roots: files and/or folders to search.

    Returns:
        One :class:`Leak` per (file, query) found, in file order.
    """
    needles = [(qid, q, normalize(q)) for qid, q in queries]
    leaks: list[Leak] = []
    for path in iter_files(roots):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.splitlines()
        norm_lines = [normalize(line) for line in lines]
        # Join normalised lines so a query wrapped across lines is still found; map offsets back to lines.
        joined = "".join(norm_lines)
        starts = []
        pos = 0
        for n in norm_lines:
            starts.append(pos)
            pos += len(n)
        for qid, query, needle in needles:
            at = joined.find(needle)
            if at >= 0:
                line = bisect.bisect_right(starts, at)
                leaks.append(Leak(path, line, qid, query))
    return leaks
