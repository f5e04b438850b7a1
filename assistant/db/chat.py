"""Tables of the spine: conversations, their messages, their dialogue state, and human-helper (金帮办) tickets.

Text stored here is what staff see, so user text is stored masked (:func:`assistant.privacy.mask_pii`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class Conversation(Base):
    """One citizen conversation (a chat session on one channel)."""

    __tablename__ = "conversations"

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matter_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    #: SHA-256 (hex) of the citizen's session token (``assistant.api.citizen``); the token itself is never stored.
    #: ``None``: a conversation no citizen client holds a token for (WeChat official account, which is bound to
    #: the OpenID; or one started before session tokens existed) — closed to the citizen API.
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: SHA-256 (hex) of the client's ``message_id`` of the turn that started the conversation: a retry of that
    #: turn, whose answer (with the token) was lost, may get a token again (``assistant.api.citizen``).
    opened_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Message(Base):
    """One message in a conversation: ``role`` is ``user``, ``bot`` or ``staff``."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("conversations.session_id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    #: Masked text (user turns) or the text of the reply parts (bot turns) or the staff member's message.
    text: Mapped[str] = mapped_column(Text, default="")
    #: Bot turns: the reply parts as sent; staff turns: ``{"staff_name": …, "ticket_id": …}``.
    payload: Mapped[Any] = mapped_column(JSON, nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: User turns: how the assistant answered — ``matter`` (a matter card or checklist), ``clarify`` (options to
    #: pick), ``fallback`` (not understood / out of scope), ``handoff`` (a ticket), ``other``; see
    #: :func:`assistant.db.conversations.turn_outcome`. ``None`` for turns stored before it was recorded.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: User turns answered with a matter: its catalogue code.
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_messages_session_role_id", "session_id", "role", "id"),
                      Index("ix_messages_role_created_at", "role", "created_at"))


class HandoffTicket(Base):
    """A request for a human helper, with the (masked) transcript, the matter and the level that serves it."""

    __tablename__ = "handoff_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matter_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: 区政务大厅 / 街道便民服务中心 / 社区便民服务站.
    level: Mapped[str] = mapped_column(String(32), default="区政务大厅")
    #: open → answered (a staff reply was sent) → closed.
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    #: ``[{"role", "text", "at"}]``, texts masked.
    transcript: Mapped[Any] = mapped_column(JSON, default=list)
    staff_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The street or community that should see the ticket first (``None``: the level as a whole).
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The staff username who claimed it, and when.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: When the first staff reply reached the citizen (waiting time = first_reply_at - created_at).
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Labels a helper put on the ticket (``["政策咨询", …]``).
    labels: Mapped[Any] = mapped_column(JSON, default=list)
    #: The helper's closing summary.
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The citizen's rating of the help, 1–5, after close.
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DialogueStateRow(Base):
    """What the dialogue remembers of a conversation (``assistant.dialogue.state.DialogueState`` as JSON)."""

    __tablename__ = "dialogue_states"

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[Any] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class TurnKey(Base):
    """A client's message id for a turn (``POST /api/v1/chat`` ``message_id``): a retried request gets the stored
    answer instead of a second turn. ``status`` is ``pending`` while the first request runs, then ``done``."""

    __tablename__ = "turn_keys"

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
