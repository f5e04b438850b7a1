"""Reads and writes of the triage tables (:mod:`assistant.db.triage`); synchronous (async callers use a thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, update

from assistant.db.base import utcnow
from assistant.db.session import Database
from assistant.db.triage import LearnedExampleRow, TriageItem
from assistant.privacy import mask_pii

#: An item identical to an open one of the same conversation (same text, same reason) within this window is not
#: recorded twice (Rasa and the fallback path may both parse a message; a citizen may send it twice).
DEDUP_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class OpenItem:
    """An open triage item as the grouping reads it."""

    id: int
    text: str
    reason: str
    created_at: Any
    matter_code: str | None
    matter_name: str | None
    intent: str
    vector: np.ndarray | None
    status: str
    message: str


def to_bytes(vec: np.ndarray | None) -> bytes | None:
    """A vector as stored (float32 bytes)."""
    return None if vec is None else np.asarray(vec, dtype="float32").tobytes()


def from_bytes(raw: bytes | None) -> np.ndarray | None:
    """A stored vector."""
    return None if not raw else np.frombuffer(raw, dtype="float32")


def add_item(db: Database, *, session_id: str, channel: str, text: str, reason: str, intent: str = "",
             confidence: float = 0.0, matter_code: str | None = None, matter_name: str | None = None,
             matter_score: float = 0.0, vector: np.ndarray | None = None) -> int | None:
    """Record one triage item (text masked here); ``None`` when it duplicates a recent open one."""
    masked = mask_pii(text or "").strip()
    if not masked:
        return None
    with db.session() as s:
        dup = s.scalars(select(TriageItem.id).where(
            TriageItem.session_id == session_id, TriageItem.text == masked, TriageItem.reason == reason,
            TriageItem.status == "open", TriageItem.created_at >= utcnow() - DEDUP_WINDOW).limit(1)).first()
        if dup is not None:
            return None
        row = TriageItem(session_id=session_id or "", channel=channel or "", text=masked[:2000], reason=reason,
                         intent=intent or "", confidence=float(confidence or 0.0), matter_code=matter_code,
                         matter_name=matter_name, matter_score=float(matter_score or 0.0), vector=to_bytes(vector),
                         status="open")
        s.add(row)
        s.flush()
        return row.id


def open_items(db: Database, limit: int = 5000) -> list[OpenItem]:
    """The newest ``limit`` items still to teach (``open`` and ``held``), oldest first."""
    with db.session() as s:
        rows = s.scalars(select(TriageItem).where(TriageItem.status.in_(("open", "held")))
                         .order_by(TriageItem.id.desc()).limit(limit)).all()
        return [OpenItem(r.id, r.text, r.reason, r.created_at, r.matter_code, r.matter_name, r.intent,
                         from_bytes(r.vector), r.status, (r.resolution or {}).get("message", "") if r.status == "held"
                         else "") for r in reversed(rows)]


def set_vectors(db: Database, vectors: dict[int, np.ndarray]) -> None:
    """Store vectors computed later (items recorded while the NLU was loading)."""
    with db.session() as s:
        for item_id, vec in vectors.items():
            s.execute(update(TriageItem).where(TriageItem.id == item_id).values(vector=to_bytes(vec)))


def mark(db: Database, ids: list[int], status: str, resolution: dict[str, Any], actor: str) -> None:
    """Set the status and resolution of items."""
    with db.session() as s:
        s.execute(update(TriageItem).where(TriageItem.id.in_(ids)).values(
            status=status, resolution=resolution, resolved_by=actor, resolved_at=utcnow()))


def item_status(db: Database, item_id: int) -> str | None:
    """An item's status, ``None`` when there is no such item."""
    with db.session() as s:
        return s.scalars(select(TriageItem.status).where(TriageItem.id == item_id)).first()


def add_learned(db: Database, rows: list[dict[str, Any]], status: str, batch: str, check: dict[str, Any],
                actor: str) -> None:
    """Store learned examples (``{"text", "kind", "label", "triage_item_id"}``) of one batch."""
    with db.session() as s:
        for r in rows:
            s.add(LearnedExampleRow(text=r["text"], kind=r["kind"], label=r.get("label") or "", status=status,
                                    batch=batch, check=check, created_by=actor,
                                    triage_item_id=r.get("triage_item_id")))


def live_learned(db: Database) -> list[dict[str, Any]]:
    """Every served learned example, oldest first."""
    with db.session() as s:
        rows = s.scalars(select(LearnedExampleRow).where(LearnedExampleRow.status == "live")
                         .order_by(LearnedExampleRow.id)).all()
        return [{"id": r.id, "text": r.text, "kind": r.kind, "label": r.label, "batch": r.batch,
                 "created_by": r.created_by, "created_at": r.created_at} for r in rows]


def learned_version(db: Database) -> str:
    """An identity of the served learned examples that changes with every added, held or removed one."""
    with db.session() as s:
        n, top = s.execute(select(func.count(LearnedExampleRow.id), func.max(LearnedExampleRow.id))
                           .where(LearnedExampleRow.status == "live")).one()
        return f"{int(n or 0)}:{int(top or 0)}"
