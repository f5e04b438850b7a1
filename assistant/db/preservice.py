"""Tables of the pre-service feature (预服务): registered licences and their reminders, home-visit bookings and
newly registered firms queued for their street's service specialist.

Personal data (phones, addresses, ID numbers) lives only in the rows that need it (``ps_bookings.phone`` /
``address``, ``ps_licences.contact``); everything logged or shown in lists is masked.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class Licence(Base):
    """A licence a firm (or person) registered for expiry reminders (许可延续提示)."""

    __tablename__ = "ps_licences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The conversation that registered it (reminders to the web inbox go there); ``None`` for uploads without one.
    session_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    #: Key of the licence type in the district's renewal list (``food_business`` …).
    licence_type: Mapped[str] = mapped_column(String(64))
    licence_name: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(255))
    expiry_date: Mapped[date] = mapped_column(Date, index=True)
    #: ``web`` (chat inbox), ``wechat`` (WeChat user of the session), ``none`` (staff follow up by phone).
    channel: Mapped[str] = mapped_column(String(16), default="web")
    #: A phone number or openid when the channel needs one (personal data: never logged unmasked).
    contact: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: ``chat`` or ``upload``.
    source: Mapped[str] = mapped_column(String(16), default="chat")
    #: ``active`` or ``cancelled``.
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("licence_type", "number", name="uq_ps_licences_type_number"),)


class Reminder(Base):
    """One reminder of one licence at one offset (days before expiry): claimed, then sent / pending / failed.

    The unique key (licence, expiry date, offset) makes a second send of the same reminder impossible, across
    restarts and concurrent schedulers; a licence renewed to a new expiry date gets a fresh set.
    """

    __tablename__ = "ps_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_id: Mapped[int] = mapped_column(Integer, ForeignKey("ps_licences.id", ondelete="CASCADE"), index=True)
    offset_days: Mapped[int] = mapped_column(Integer)
    expiry_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    #: ``claimed`` (being sent) → ``sent`` | ``pending`` (no channel could deliver yet) | ``failed`` |
    #: ``skipped`` (a later offset was also due: only the most recent one is sent on catch-up).
    status: Mapped[str] = mapped_column(String(16), default="claimed", index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    detail: Mapped[str] = mapped_column(String(255), default="")
    #: Id of the inbox message (web) or the delivery result (WeChat).
    message_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (UniqueConstraint("licence_id", "expiry_date", "offset_days",
                                       name="uq_ps_reminders_licence_expiry_offset"),)


class Booking(Base):
    """A home-visit booking (上门办) for someone who cannot come to a hall."""

    __tablename__ = "ps_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The number the citizen quotes: ``SM-7K4M-Q2XD-9PRT-B6`` (70 random bits, ``assistant.preservice.numbers``);
    #: bookings made before that format keep ``SM`` + yyMMdd + 4 characters.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    person_name: Mapped[str] = mapped_column(String(64))
    #: Why the person cannot come (高龄 / 患病 / 残疾 …), free text as given.
    person_note: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    street: Mapped[str] = mapped_column(String(32), index=True)
    matter_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matter_name: Mapped[str] = mapped_column(String(255))
    visit_date: Mapped[date] = mapped_column(Date)
    #: ``上午`` or ``下午``.
    half_day: Mapped[str] = mapped_column(String(8))
    #: ``booked`` → ``confirmed`` → ``done``; or ``cancelled``.
    status: Mapped[str] = mapped_column(String(16), default="booked", index=True)
    staff_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class NewFirm(Base):
    """A newly registered firm pushed to its street's service specialist (吹哨报到)."""

    __tablename__ = "ps_new_firms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    #: 统一社会信用代码 (18 characters).
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    address: Mapped[str] = mapped_column(String(255))
    industry: Mapped[str] = mapped_column(String(64), default="")
    registration_date: Mapped[date] = mapped_column(Date)
    #: The matched street, ``""`` when the address matched none (queued for the district hall then).
    street: Mapped[str] = mapped_column(String(32), index=True, default="")
    #: A session id or WeChat openid to send the welcome message to, if known.
    contact_session: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: ``open`` → ``contacted`` → ``done``.
    queue_status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: ``sent`` | ``pending`` | ``no_channel``.
    welcome_status: Mapped[str] = mapped_column(String(16), default="no_channel")
    staff_note: Mapped[str] = mapped_column(Text, default="")
    #: When and by whom the street's specialist acknowledged the push (吹哨报到: within
    #: ``settings.firm_ack_hours``).
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: When the escalation check handed an unacknowledged firm to the district.
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_ps_new_firms_street_status", "street", "queue_status"),)
