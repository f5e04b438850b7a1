"""Guard against evaluation queries leaking into training examples or the KB.

The evaluation set (``../shared/eval/citizen_questions.jsonl``) is for measurement only. :func:`find_leaks`
reports every file that contains one of its queries — compared after dropping whitespace and punctuation and
NFKC normalisation, so a copy with different spacing or full-width punctuation is still caught.
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
