"""Table of 👍/👎 feedback on the assistant's answers (widget, web chat, mini-program)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class Feedback(Base):
    """One rating of one answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(128), index=True)
    #: The client's reference of the rated answer (widget: turn number; may be a message id).
    message_ref: Mapped[str] = mapped_column(String(64), default="")
    #: ``up`` or ``down``.
    rating: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="widget")
    #: The rated answer's text (masked), so a rating is readable without the transcript.
    answer_text: Mapped[str] = mapped_column(Text, default="")
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
