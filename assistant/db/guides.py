"""Tables of the guidebook admin: every version of a guide edited in the staff workbench, and the guidebook's
revision counter.

A guide's current version is its newest row in ``guide_versions`` (``data`` is the whole guide as served from then
on; ``None`` means "as the guide file / catalogue says"). Rows are never changed or deleted: a revert is a new row
that copies an older one. Every change bumps ``guidebook_revision.revision`` in the same transaction, which each
app process polls to apply the changes without a restart (:mod:`assistant.guidebook`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow
from assistant.db.session import Database

ACTIONS = ("edit", "verify", "revert", "import")


class GuideVersion(Base):
    """One version of one guide."""

    __tablename__ = "guide_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The staff username (``service`` for the service credential).
    actor: Mapped[str] = mapped_column(String(64))
    #: ``edit`` / ``verify`` / ``revert`` / ``import``.
    action: Mapped[str] = mapped_column(String(16))
    #: The whole guide (``Matter`` fields) from this version on; ``None``: the guide file's own version.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: For ``verify``: the source checked against; for ``import``: the file and row.
    note: Mapped[str] = mapped_column(Text, default="")
    #: For ``revert``: the version copied (0 = the guide file's version).
    reverted_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Who marked this version's content verified and when (copied by a revert); ``None`` when not verified here.
    verified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GuidebookRevision(Base):
    """One row (``id`` 1): a counter bumped by every guide change."""

    __tablename__ = "guidebook_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Version:
    """A guide version as the API shows it (``data`` included only where asked for)."""

    id: int
    code: str
    at: str
    actor: str
    action: str
    note: str
    reverted_to: int | None
    verified_by: str | None
    verified_at: str | None
    data: dict[str, Any] | None = None
    #: Whether the version holds its own guide (``False``: the guide file's version).
    has_data: bool = True

    def public(self) -> dict[str, Any]:
        """The version without its data."""
        return {"id": self.id, "code": self.code, "at": self.at, "actor": self.actor, "action": self.action,
                "note": self.note, "reverted_to": self.reverted_to, "verified_by": self.verified_by,
                "verified_at": self.verified_at, "has_data": self.has_data}


@dataclass(frozen=True)
class Change:
    """One guide change to save.

    Attributes:
        code: the matter code.
        data: the whole guide from now on (``None``: back to the guide file's version).
        action: one of :data:`ACTIONS`.
        note: the verify source, the import file and row, …
        reverted_to: for a revert, the version copied.
        verified_by / verified_at: who verified this content and when (``None``: not verified in the workbench).
        expected: the version the editor started from (0 = none yet); ``None`` skips the check.
    """

    code: str
    data: dict[str, Any] | None
    action: str
    note: str = ""
    reverted_to: int | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None
    expected: int | None = None


class Conflict(Exception):
    """The guide changed since the editor opened it: ``code``, ``expected`` and ``current`` version ids."""

    def __init__(self, code: str, expected: int, current: int):
        super().__init__(f"{code}: expected version {expected}, current {current}")
        self.code, self.expected, self.current = code, expected, current


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.isoformat() if t.tzinfo else t.isoformat() + "Z"


def _view(v: GuideVersion, with_data: bool = False) -> Version:
    return Version(v.id, v.code, _iso(v.at) or "", v.actor, v.action, v.note or "", v.reverted_to, v.verified_by,
                   _iso(v.verified_at), v.data if with_data else None, v.data is not None)


class GuideStore:
    """Guide versions and the guidebook revision in the app's database."""

    def __init__(self, db: Database):
        self.db = db

    def revision(self) -> int:
        """The guidebook revision (0 before any change)."""
        with self.db.session() as s:
            return int(s.scalar(select(GuidebookRevision.revision).where(GuidebookRevision.id == 1)) or 0)

    def current(self) -> dict[str, Version]:
        """The newest version of every guide that has one, with its data, by code."""
        with self.db.session() as s:
            newest = select(func.max(GuideVersion.id)).group_by(GuideVersion.code)
            rows = s.scalars(select(GuideVersion).where(GuideVersion.id.in_(newest)))
            return {v.code: _view(v, True) for v in rows}

    def latest(self, code: str) -> Version | None:
        """The newest version of guide ``code`` (with its data), or ``None``."""
        with self.db.session() as s:
            v = s.scalars(select(GuideVersion).where(GuideVersion.code == code)
                          .order_by(GuideVersion.id.desc()).limit(1)).first()
            return _view(v, True) if v is not None else None

    def history(self, code: str, limit: int = 100) -> list[Version]:
        """The versions of guide ``code``, newest first (without data)."""
        with self.db.session() as s:
            rows = s.scalars(select(GuideVersion).where(GuideVersion.code == code)
                             .order_by(GuideVersion.id.desc()).limit(limit))
            return [_view(v) for v in rows]

    def version(self, version_id: int) -> Version | None:
        """One version with its data."""
        with self.db.session() as s:
            v = s.get(GuideVersion, version_id)
            return _view(v, True) if v is not None else None

    def save(self, changes: list[Change], actor: str) -> list[int]:
        """Save changes in one transaction and bump the revision once.

        Args:
            changes: the changes (at most one per code).
            actor: the staff username.

        Returns:
            The new version ids, in order.

        Raises:
            Conflict: a change's ``expected`` version is not the guide's newest (nothing is saved).
        """
        if not changes:
            return []
        with self.db.session() as s:
            # the counter row first: its row lock makes concurrent saves take turns (the check below is then safe)
            bumped = s.execute(update(GuidebookRevision).where(GuidebookRevision.id == 1)
                               .values(revision=GuidebookRevision.revision + 1)).rowcount
            if not bumped:
                s.add(GuidebookRevision(id=1, revision=1))
            for c in changes:
                if c.expected is not None:
                    cur = s.scalar(select(func.max(GuideVersion.id)).where(GuideVersion.code == c.code)) or 0
                    if cur != c.expected:
                        raise Conflict(c.code, c.expected, cur)
            rows = [GuideVersion(code=c.code, actor=actor, action=c.action, data=c.data, note=c.note,
                                 reverted_to=c.reverted_to, verified_by=c.verified_by, verified_at=c.verified_at)
                    for c in changes]
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]
