"""Table of the staff audit log: every staff action that reads or changes a citizen's data (who, what, when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow
from assistant.db.session import Database


class AuditEntry(Base):
    """One staff action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: The staff username (``service`` for the service credential).
    actor: Mapped[str] = mapped_column(String(64), index=True)
    #: What was done, dotted: ``ticket.view``, ``ticket.reply``, ``booking.confirm``, ``guide.edit`` …
    action: Mapped[str] = mapped_column(String(64))
    #: What it was done to: ``ticket:12``, ``session:<keyed hash>``, ``matter:<code>`` …
    target: Mapped[str] = mapped_column(String(128), default="")
    #: Small structured detail (never raw personal data).
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def record(db: Database, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log (its own transaction).

    Args:
        db: the app's database.
        actor: the staff username.
        action: what was done (``ticket.view`` …).
        target: what it was done to (``ticket:12`` …).
        detail: optional small structured detail, without personal data.
    """
    with db.session() as s:
        s.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


def entries(db: Database, actor: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit entries (optionally one actor's), newest first."""
    with db.session() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if actor:
            q = q.where(AuditEntry.actor == actor)
        return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                 "target": e.target, "detail": e.detail} for e in s.scalars(q)]
