"""The KB's own file format: one ``Matter`` as JSON per line (``knowledge/data/*.jsonl``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import Issue, display_path
from knowledge.schema import Matter


def dumps_matter(matter: Matter) -> str:
    """One line of the KB file: the matter as compact JSON, keys in schema order, no ASCII escaping."""
    return json.dumps(matter.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def write_matters(path: Path, matters: Iterable[Matter]) -> int:
    """Write ``matters`` to ``path`` (one JSON object per line, in the given order).

    Args:
        path: the ``.jsonl`` file to (over)write; parent folders are created.
        matters: the matters, already in the order wanted in the file.

    Returns:
        The number of matters written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for matter in matters:
            fh.write(dumps_matter(matter) + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_matters(path: Path) -> tuple[list[tuple[int, Matter]], list[Issue]]:
    """Read a KB ``.jsonl`` file.

    Args:
        path: the file.

    Returns:
        ``(matters, issues)``: each valid matter with its line number, and one issue per invalid field or line.
    """
    path = Path(path)
    shown = display_path(path)
    matters: list[tuple[int, Matter]] = []
    issues: list[Issue] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                matters.append((lineno, Matter.model_validate_json(line)))
            except ValidationError as exc:
                for err in exc.errors():
                    if err["type"] == "json_invalid":
                        issues.append(Issue(shown, lineno, "-", f"not valid JSON: {err['msg']}"))
                    else:
                        loc = ".".join(str(p) for p in err["loc"]) or "-"
                        issues.append(Issue(shown, lineno, loc, err["msg"]))
    return matters, issues
