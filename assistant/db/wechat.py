"""Tables of the WeChat channels: inbound message de-duplication, customer-service deliveries, WeChat users.

* ``wechat_inbound`` — one row per WeChat message (key = ``MsgId``, or ``FromUserName:CreateTime[:Event]`` for
  events): its state and the rendered answer, so a retry of the same message is answered from here and never
  computed or delivered twice.
* ``wechat_deliveries`` — every customer-service send (``message/custom/send``) with its outcome
  (``sent`` / ``failed`` / ``undeliverable`` with WeChat's errcode).
* ``wechat_users`` — an OpenID's session id, channel, subscription state and the last numbered menu shown
  (so "回复数字" works).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, Float
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db.base import Base, utcnow


class WeChatInbound(Base):
    """A received WeChat message and what became of its answer."""

    __tablename__ = "wechat_inbound"

    dedup_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="wechat_mp")
    openid: Mapped[str] = mapped_column(String(128), index=True)
    msg_type: Mapped[str] = mapped_column(String(32), default="text")
    #: processing → answered (passive reply) | queued (customer-service delivery) → delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="processing")
    #: How the answer went out: ``passive`` or ``custom`` (customer-service API); null while processing.
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: The rendered answer: a list of WeChat text messages.
    reply_chunks: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: Mini-program only: answered with ``transfer_customer_service``.
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    #: While ``processing``: until when the replica computing the answer holds it (renewed about every second by
    #: that replica; ``updated_at`` cannot serve, retries bump it). A retry finding a live lease leaves the answer
    #: to the owner; a lapsed (or missing) lease means the owner died and the message is taken over.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WeChatDelivery(Base):
    """One customer-service message sent (or attempted) to a WeChat user."""

    __tablename__ = "wechat_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str | None] = mapped_column(String(160), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(32), default="wechat_mp")
    openid: Mapped[str] = mapped_column(String(128), index=True)
    #: Position of this message within the answer (0-based), so a retry resends only what is missing.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[str] = mapped_column(Text, default="")
    #: sent | failed | undeliverable
    status: Mapped[str] = mapped_column(String(16), default="sent")
    errcode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    errmsg: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WeChatUser(Base):
    """A WeChat user (official-account or mini-program OpenID) and their chat session."""

    __tablename__ = "wechat_users"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="wechat_mp")
    session_id: Mapped[str] = mapped_column(String(128), unique=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The last numbered options shown: ``[{"title", "payload"}]``.
    last_buttons: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WeChatToken(Base):
    """The access token of an AppID, shared by every process (one refresher at a time: the row is locked while a
    new token is fetched)."""

    __tablename__ = "wechat_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(512))
    #: Seconds since the epoch after which the token is not used (WeChat's expiry minus a margin).
    expires_at: Mapped[float] = mapped_column(Float)


class WeChatNonce(Base):
    """A signed request seen inside the replay window: its ``timestamp:nonce:signature`` and a hash of its body. The
    same signature with another body (a captured signature replayed with another sender) is refused; the same body
    again is WeChat's own retry (answered from ``wechat_inbound``)."""

    __tablename__ = "wechat_nonces"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_sha: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
