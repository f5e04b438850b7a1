"""Messages to citizens outside a turn (a helper's reply, a licence reminder): one delivery interface.

Channels that can push a message (WeChat's customer-service API) register a sender for their channel names when
the app is built; the staff routes and pre-service only call :meth:`Outbox.deliver` / :meth:`Outbox.schedule`
with the conversation's channel and never import a channel module. Channels that the citizen polls (web chat,
widget, kiosk) need no sender: the message is already in the conversation's store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from assistant.logging import get_logger, log_event

log = get_logger(__name__)

#: ``(session_id, parts) -> outcome`` — ``"delivered"``, ``"undeliverable"``, ``"failed"``, or ``None`` when the
#: session is not one of this channel's.
Sender = Callable[[str, list[dict[str, Any]]], Awaitable[str | None]]
#: ``(session_id, parts) -> scheduled?`` — a channel's own background delivery.
Spawner = Callable[[str, list[dict[str, Any]]], bool]


class Outbox:
    """The registry of push senders, by channel name."""

    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}
        self._spawners: dict[str, Spawner] = {}
        self._tasks: set[asyncio.Task] = set()

    def register(self, channels: Iterable[str], sender: Sender, spawner: "Spawner | None" = None) -> None:
        """Deliver messages of conversations on ``channels`` with ``sender``; ``spawner`` (optional) is how the
        channel runs a background delivery itself (it then also owns retries and shutdown)."""
        for name in channels:
            self._senders[name] = sender
            if spawner is not None:
                self._spawners[name] = spawner

    def can_push(self, channel: str) -> bool:
        """Whether a sender is registered for ``channel``."""
        return channel in self._senders

    async def deliver(self, channel: str, session_id: str, parts: list[dict[str, Any]]) -> str | None:
        """Send ``parts`` to the citizen of ``session_id`` now.

        Returns:
            The sender's outcome, or ``None`` when no sender is registered for ``channel`` (the citizen reads
            the message from the conversation store).
        """
        sender = self._senders.get(channel)
        if sender is None:
            return None
        return await sender(session_id, parts)

    def schedule(self, channel: str, session_id: str, parts: list[dict[str, Any]]) -> bool:
        """Like :meth:`deliver`, in the background (call from a coroutine).

        Returns:
            ``True`` when a sender for ``channel`` took the message.
        """
        if channel not in self._senders:
            return False
        if channel in self._spawners:
            return self._spawners[channel](session_id, parts)

        async def _run() -> None:
            try:
                outcome = await self.deliver(channel, session_id, parts)
                log_event(log, "outbox.delivered", channel=channel, session=session_id, outcome=outcome)
            except Exception:
                log.exception("outbox.failed")

        task = asyncio.get_running_loop().create_task(_run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True
