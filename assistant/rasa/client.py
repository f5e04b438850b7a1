"""The app's HTTP client of the Rasa server: the REST channel (one turn), the tracker and ``/status``.

Every failure to reach Rasa is a :class:`RasaUnavailable`; the chat turn then runs the same dialogue without
Rasa (``assistant.dialogue.degraded``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from assistant.settings import Settings

__all__ = ["RasaUnavailable", "RasaClient"]


class RasaUnavailable(RuntimeError):
    """The Rasa server could not be reached or did not answer usefully (connection refused, timeout, 5xx).

    Attributes:
        reason: a short machine-readable reason (``"connect"``, ``"timeout"``, ``"http_503"``, ``"bad_json"`` …).
    """

    def __init__(self, message: str, reason: str = "unavailable"):
        super().__init__(message)
        self.reason = reason


class RasaClient:
    """Async client of the Rasa server's HTTP API (REST channel and ``--enable-api`` endpoints)."""

    def __init__(self, base_url: str | Settings, timeout_s: float | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, *, timeout: float | None = None,
                 token: str | None = None):
        """Args:
            base_url: the server, e.g. ``http://127.0.0.1:5005``, or the settings (then ``settings.rasa_url``,
                ``settings.rasa_timeout_s`` and ``settings.rasa_auth_token`` are used).
            timeout_s: seconds for each request (default ``settings.rasa_timeout_s`` or 10).
            transport: an httpx transport (tests); default the network.
            timeout: alias of ``timeout_s``.
            token: the server's ``--auth-token``, sent as ``?token=`` to its API endpoints (tracker, status);
                Rasa's REST channel webhook does not check it, so it is not sent there.
        """
        if isinstance(base_url, Settings):
            timeout_s = timeout_s or timeout or base_url.rasa_timeout_s
            token = token if token is not None else base_url.rasa_auth_token
            base_url = base_url.rasa_url
        self.token = token or None
        self.base_url = str(base_url).rstrip("/")
        self.timeout_s = float(timeout_s or timeout or 10.0)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "RasaClient":
        """A client for ``settings.rasa_url`` with ``settings.rasa_timeout_s``."""
        return cls(settings)

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            # A client's connection pool belongs to one event loop (tests run several).
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s,
                                             transport=self._transport, trust_env=False)
            self._loop = loop
        return self._client

    async def _request(self, method: str, path: str, *, api: bool = True, **kwargs: Any) -> Any:
        if api and self.token:
            kwargs["params"] = {**kwargs.get("params", {}), "token": self.token}
        try:
            resp = await self._http().request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise RasaUnavailable(f"Rasa at {self.base_url} timed out after {self.timeout_s:g} s", "timeout") from exc
        except httpx.TransportError as exc:
            raise RasaUnavailable(f"Rasa at {self.base_url} is unreachable: {exc!r}", "connect") from exc
        if resp.status_code >= 400:
            raise RasaUnavailable(f"Rasa answered {resp.status_code} to {method} {path}: {resp.text[:200]}",
                                  f"http_{resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise RasaUnavailable(f"Rasa answered non-JSON to {method} {path}", "bad_json") from exc

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one user message through the REST channel and return the bot's messages.

        Args:
            sender: the conversation id (the chat session id).
            text: the user's text (or a button payload such as ``/ask_materials{"matter": "…"}``).
            metadata: stored on the user event; custom actions read ``channel`` from it.

        Returns:
            Rasa's messages: ``{"recipient_id", "text"}``, ``{"recipient_id", "custom": <reply part>}``,
            ``{"recipient_id", "text", "buttons"}`` …

        Raises:
            RasaUnavailable: connection error, timeout, HTTP error or a body that is not a JSON list.
        """
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        result = await self._request("POST", "/webhooks/rest/webhook", api=False, json=body)
        if not isinstance(result, list):
            raise RasaUnavailable("Rasa's REST webhook did not answer with a list", "bad_json")
        return result

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker (slots, latest message, events).

        Args:
            sender: the conversation id.

        Raises:
            RasaUnavailable: as for :meth:`send`.
        """
        return await self._request("GET", f"/conversations/{quote(sender, safe='')}/tracker")

    async def append_bot_event(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> bool:
        """Append a bot utterance to the conversation's tracker (a helper's message, so Rasa's transcript is
        whole).

        Returns:
            ``True`` when Rasa took it; ``False`` when Rasa is unreachable (the citizen still gets the message
            from the app's database).
        """
        event = {"event": "bot", "text": text, "timestamp": time.time(), "metadata": metadata or {}}
        try:
            await self._request("POST", f"/conversations/{quote(sender, safe='')}/tracker/events", json=[event])
        except RasaUnavailable:
            return False
        return True

    async def status(self) -> dict[str, Any]:
        """Rasa's ``/status`` (loaded model id and fingerprint).

        Raises:
            RasaUnavailable: as for :meth:`send`.
        """
        return await self._request("GET", "/status")

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None and not self._client.is_closed:
            try:
                await self._client.aclose()
            except RuntimeError:  # its event loop is gone
                pass
        self._client = None
