"""Matter-routing evaluation in the format of ``../shared/eval`` (JSON Lines: ``id``, ``query``, ``kind``,
``accept``, ``accept_keywords``). The scoring rule is the reference scorer's (``score.py``): a matter item is
correct at k when one of the top-k routed matters has an accepted code or a name containing an accepted keyword;
an out-of-scope item is correct when nothing is routed; a prediction flagged ``out_of_scope`` routes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path


class EvalFileError(ValueError):
    """The queries file is unreadable or not in the expected format."""


def load_queries(path: Path) -> list[dict]:
    """Read an evaluation file.

    Args:
        path: JSON Lines file.

    Raises:
        EvalFileError: unreadable, bad JSON (with the line number) or a record without ``id``/``query``.
    """
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: {exc}") from exc
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise EvalFileError(f"{path}:{no}: not JSON: {exc}") from exc
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not isinstance(rec.get("query"), str):
            raise EvalFileError(f"{path}:{no}: a record needs string fields `id` and `query`")
        rec.setdefault("kind", "matter")
        rec.setdefault("accept", [])
        rec.setdefault("accept_keywords", [])
        items.append(rec)
    return items


def predict(items: Iterable[dict], parse: Callable[[str], dict], k: int = 5) -> list[dict]:
    """One prediction per item: ``{"id", "intent", "out_of_scope", "matters"}`` (top-k ``{code, name, score}``).

    Args:
        items: evaluation records.
        parse: a function text → parse result (``NLU.parse`` or another system's adapter).
        k: how many matters to keep.
    """
    out = []
    for item in items:
        r = parse(item["query"])
        out.append({"id": item["id"], "intent": r["intent"]["name"], "out_of_scope": bool(r["out_of_scope"]),
                    "matters": list(r["matters"])[:k]})
    return out


def _hit(item: dict, matters: list[dict], k: int) -> bool:
    for m in matters[:k]:
        if m.get("code") in item["accept"]:
            return True
        name = m.get("name") or ""
        if any(kw and kw in name for kw in item["accept_keywords"]):
            return True
    return False


def score(items: list[dict], preds: list[dict]) -> dict:
    """The reference scorer's figures: ``top1``, ``top3``, ``oos_recall``, ``matter_flagged_oos``,
    ``combined_top1`` (fractions, 4 decimals) and counts."""
    by_id = {p["id"]: p for p in preds}
    matter = [i for i in items if i["kind"] == "matter" and i["id"] in by_id]
    oos = [i for i in items if i["kind"] == "out_of_scope" and i["id"] in by_id]

    def routed(p: dict) -> list[dict]:
        return [] if p.get("out_of_scope") else (p.get("matters") or [])

    top1 = sum(_hit(i, routed(by_id[i["id"]]), 1) for i in matter)
    top3 = sum(_hit(i, routed(by_id[i["id"]]), 3) for i in matter)
    oos_ok = sum(1 for i in oos if not routed(by_id[i["id"]]))
    flagged = sum(1 for i in matter if by_id[i["id"]].get("out_of_scope"))

    def frac(x: int, d: int) -> float | None:
        return round(x / d, 4) if d else None

    return {"items": len(items), "missing": sum(1 for i in items if i["id"] not in by_id),
            "top1": frac(top1, len(matter)), "top3": frac(top3, len(matter)), "oos_recall": frac(oos_ok, len(oos)),
            "matter_flagged_oos": frac(flagged, len(matter)), "combined_top1": frac(top1 + oos_ok, len(items))}
