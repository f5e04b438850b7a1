"""How pre-service messages reach people: a small channel interface.

- :class:`WebInbox` — a message in the citizen's conversation that the chat page polls
  (``GET /api/v1/chat/{session}/messages``), stored like a staff reply (``messages`` row, role ``staff``). It
  is a database write, so it can share the transaction that records the send (exactly once).
- :class:`WeChatChannel` — WeChat customer-service messages through the app's outbox (``assistant.outbox``; the
  WeChat channel registers its sender there); when no sender is registered, or WeChat refuses (the 48-hour
  window has closed), the send is recorded as ``pending`` for staff to follow up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from assistant.db.chat import Message
from assistant.db.conversations import ConversationStore
from assistant.logging import get_logger, log_event

log = get_logger(__name__)

#: The sender name shown in the chat page for pre-service messages.
SENDER_NAME = "金小二·预服务"


@dataclass
class DeliveryResult:
    """What happened to one message.

    Attributes:
        status: ``sent`` (delivered), ``pending`` (no way to deliver now; staff follow up) or ``failed``
            (an error; retried later).
        ref: an id of the delivered message, if any.
        detail: why, for the record.
    """

    status: Literal["sent", "pending", "failed"]
    ref: str | None = None
    detail: str = ""


def parts_text(parts: list[dict[str, Any]]) -> str:
    """Plain text of reply parts (text parts, checklists as lines), for channels that take text only."""
    lines: list[str] = []
    for p in parts:
        t = p.get("type")
        if t in {"text", "notice", "staff"}:
            lines.append(str(p.get("text", "")))
        elif t == "checklist":
            lines.append(f"【{p.get('matter', {}).get('name', '')}】材料清单：")
            for i, it in enumerate(p.get("items", []), 1):
                cond = "（特定情形）" if it.get("requirement") == "conditional" else ""
                lines.append(f"{i}. {it.get('name', '')}{cond}")
    return "\n".join(x for x in lines if x)


class Channel(Protocol):
    """A way to reach a person."""

    name: str

    async def send(self, session_id: str | None, contact: str | None, parts: list[dict[str, Any]],
                   kind: str) -> DeliveryResult:
        """Send reply parts.

        Args:
            session_id: the person's conversation id (``None`` when unknown).
            contact: a phone number or openid when the channel needs one.
            parts: reply parts (``docs/architecture.md``).
            kind: what the message is (``reminder``, ``welcome``) — recorded with it.
        """
        ...


class WebInbox:
    """The chat page's inbox: a ``staff``-role message in the conversation.

    Args:
        db: the app database.
    """

    name = "web"

    def __init__(self, db: Any):
        self.db = db

    def write(self, s: Session, session_id: str, parts: list[dict[str, Any]], kind: str) -> str:
        """Add the message inside an open transaction ``s``; returns the message id."""
        ConversationStore._ensure(s, session_id, "web")
        m = Message(session_id=session_id, role="staff", text=parts_text(parts),
                    payload={"staff_name": SENDER_NAME, "kind": kind, "parts": parts})
        s.add(m)
        s.flush()
        return str(m.id)

    async def send(self, session_id: str | None, contact: str | None, parts: list[dict[str, Any]],
                   kind: str) -> DeliveryResult:
        """Write the message in its own transaction (see :meth:`write` to share one)."""
        if not session_id:
            return DeliveryResult("pending", None, "no conversation to deliver to")
        with self.db.session() as s:
            ref = self.write(s, session_id, parts, kind)
        return DeliveryResult("sent", ref)


class WeChatChannel:
    """WeChat, through the app's outbox (the WeChat channel registers its customer-service sender there).

    Args:
        services: the app's ``Services``.
    """

    name = "wechat"

    def __init__(self, services: Any):
        self.services = services

    async def send(self, session_id: str | None, contact: str | None, parts: list[dict[str, Any]],
                   kind: str) -> DeliveryResult:
        if not session_id:
            return DeliveryResult("pending", None, "no WeChat conversation known")
        outbox = self.services.outbox
        if not outbox.can_push("wechat_mp"):
            return DeliveryResult("pending", None, "WeChat delivery not configured")
        try:
            outcome = await outbox.deliver("wechat_mp", session_id, [{"type": "text", "text": parts_text(parts)}])
        except Exception as exc:  # the WeChat API or network: retried on a later run
            log_event(log, "preservice.delivery.failed", channel="wechat", session=session_id,
                      error=type(exc).__name__)
            return DeliveryResult("failed", None, f"{type(exc).__name__}")
        if outcome == "delivered":
            return DeliveryResult("sent", None, "wechat customer-service message")
        if outcome == "failed":
            return DeliveryResult("failed", None, "WeChat API error")
        return DeliveryResult("pending", None, "not a WeChat conversation" if outcome is None
                              else f"WeChat: {outcome}")


class NoChannel:
    """No channel chosen: recorded as pending for staff to phone."""

    name = "none"

    async def send(self, session_id: str | None, contact: str | None, parts: list[dict[str, Any]],
                   kind: str) -> DeliveryResult:
        return DeliveryResult("pending", None, "no channel chosen; staff follow up")
