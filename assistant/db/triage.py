"""Tables of the triage inbox (teach the assistant): the turns the assistant got wrong or was unsure of, and the
examples helpers taught it.

Texts here are what staff see: citizen text is stored masked (:func:`assistant.privacy.mask_pii`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class TriageItem(Base):
    """One citizen message the assistant got wrong or was unsure of (recorded where the signal arises)."""

    __tablename__ = "triage_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    session_id: Mapped[str] = mapped_column(String(128), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    #: The citizen's message, masked.
    text: Mapped[str] = mapped_column(Text, default="")
    #: Why it is here: ``fallback``, ``no_match``, ``low_confidence``, ``ambiguous``, ``clarify_unpicked``,
    #: ``thumbs_down``, ``handoff_after_answer``.
    reason: Mapped[str] = mapped_column(String(32))
    #: What the NLU made of it: intent, its confidence, and the best matter.
    intent: Mapped[str] = mapped_column(String(64), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matter_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    matter_score: Mapped[float] = mapped_column(Float, default=0.0)
    #: The sentence vector of the masked text (float32 bytes; for grouping near-duplicates), when known.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: ``open`` → ``resolved`` (taught), or ``held`` (the batch failed the regression check; resolve again).
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: ``{"kind": "matter"|"intent"|"out_of_scope", "label": …, "batch": …, "message": …}``.
    resolution: Mapped[Any] = mapped_column(JSON, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_triage_items_status_id", "status", "id"),)


class LearnedExampleRow(Base):
    """A text a helper taught the assistant: served by every replica's NLU once its batch is ``live``."""

    __tablename__ = "learned_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The taught text (masked, as the triage inbox showed it).
    text: Mapped[str] = mapped_column(Text)
    #: ``matter``, ``intent`` or ``out_of_scope``.
    kind: Mapped[str] = mapped_column(String(16))
    #: The matter code or the intent name (``""`` for out of scope).
    label: Mapped[str] = mapped_column(String(64), default="")
    #: ``live`` (served) or ``held`` (its batch lowered the held-out score; not served).
    status: Mapped[str] = mapped_column(String(16), default="live", index=True)
    #: The batch (one resolve) it came with, and that batch's regression check.
    batch: Mapped[str] = mapped_column(String(32), default="")
    check: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    triage_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
