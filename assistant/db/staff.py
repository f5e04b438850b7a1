"""Tables of the 金帮办 workbench: staff accounts, their login sessions, failed-login counters (lock-out), who is
online (presence), ticket events (the live queue), notes on tickets, canned replies and call-back requests.

Passwords are stored only as argon2 hashes; session tokens only as SHA-256 digests (a stolen database yields no
usable token). A call-back phone number is stored as given (the helper must be able to call it) and shown to
staff masked; revealing it is an audited action.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class StaffAccount(Base):
    """A helper's account."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: argon2id hash (``$argon2id$v=19$…``).
    password_hash: Mapped[str] = mapped_column(String(255))
    #: ``district`` / ``street`` / ``community``.
    level: Mapped[str] = mapped_column(String(16))
    #: The street or community served (``None`` at district level).
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``agent`` / ``admin``.
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A login: the token is given to the browser (cookie) or the API client (Bearer); only its digest is kept."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    #: The CSRF token paired with the session cookie (double-submit: cookie ``jxe_csrf`` = header ``X-CSRF-Token``).
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffLoginFailure(Base):
    """Failed logins of one key (``user:<name>`` or ``ip:<address>``) in the current window, and the lock."""

    __tablename__ = "staff_login_failures"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffPresence(Base):
    """The last heartbeat of a helper's open /staff page."""

    __tablename__ = "staff_presence"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class TicketEvent(Base):
    """Something happened to a ticket (created, claimed, replied, transferred, closed, citizen wrote …).

    Every replica reads these rows; a notification (PostgreSQL ``NOTIFY`` / Redis pub/sub, or polling on SQLite)
    only says "there is something new".
    """

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    #: ``created`` / ``updated`` / ``claimed`` / ``replied`` / ``transferred`` / ``closed`` / ``note`` / ``rated``
    #: / ``callback``.
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(32), default="")
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TicketNote(Base):
    """A helper's internal note on a ticket (never shown to the citizen)."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CannedReply(Base):
    """A reply template helpers pick from (admins edit the list)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CallbackRequest(Base):
    """A citizen's phone number left for a call-back when no helper was online."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_callback_requests_open", "ticket_id", "done_at"),)
