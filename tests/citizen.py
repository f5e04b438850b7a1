"""What a citizen's client does with session tokens, for the tests: keep the ``session_token`` a conversation's
first answer (or the mini-program login) returns, and send it as ``X-Session-Token`` with every later request
for that conversation — as chat.js, widget.js, kiosk.js and the mini-program do.

``keep_session_tokens(client)`` installs this on an ``httpx.Client`` (``TestClient``) or ``httpx.AsyncClient``;
``citizen_client(app)`` is a ``TestClient`` with it. A request that already carries a token (header or body
``session_token``) is left alone, so tests of the check itself can present none or a wrong one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

__all__ = ["SessionTokens", "keep_session_tokens", "citizen_client", "HEADER"]

HEADER = "X-Session-Token"
_PATH_SESSION = re.compile(r"^/api/v1/(?:chat/([^/]+)(?:/messages|/rating|/callback)?|mp/sessions/([^/]+)/handoff)$")


class SessionTokens:
    """The tokens a client holds, by session id."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def __getitem__(self, session_id: str) -> str:
        return self.tokens[session_id]

    def headers(self, session_id: str) -> dict[str, str]:
        """``{"X-Session-Token": …}`` for a session this client holds a token for (else ``{}``)."""
        token = self.tokens.get(session_id)
        return {HEADER: token} if token else {}

    @staticmethod
    def _session_of(request: httpx.Request) -> tuple[str | None, bool]:
        """(session id, whether the request brings its own token)."""
        m = _PATH_SESSION.match(request.url.path)
        if m:
            return m.group(1) or m.group(2), False
        if "json" not in request.headers.get("content-type", ""):
            return None, False
        try:
            body = json.loads(request.content or b"null")
        except Exception:  # noqa: BLE001 - a streamed body (not read yet) or not JSON: nothing to add
            return None, False
        if isinstance(body, dict) and isinstance(body.get("session_id"), str):
            return body["session_id"], bool(body.get("session_token"))
        return None, False

    def on_request(self, request: httpx.Request) -> None:
        session_id, own = self._session_of(request)
        if session_id and not own and HEADER not in request.headers and session_id in self.tokens:
            request.headers[HEADER] = self.tokens[session_id]

    def on_body(self, body: Any) -> None:
        if isinstance(body, dict) and body.get("session_token") and isinstance(body.get("session_id"), str):
            self.tokens[body["session_id"]] = body["session_token"]

    def on_response(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            response.read()
            self.on_body(response.json())

    async def aon_request(self, request: httpx.Request) -> None:
        self.on_request(request)

    async def aon_response(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            await response.aread()
            self.on_body(response.json())


def keep_session_tokens(client: httpx.Client | httpx.AsyncClient) -> SessionTokens:
    """Make ``client`` keep and send session tokens like a citizen's client; returns the token store
    (``client.session_tokens`` too)."""
    tokens = SessionTokens()
    if isinstance(client, httpx.AsyncClient):
        client.event_hooks = {"request": [tokens.aon_request], "response": [tokens.aon_response]}
    else:
        client.event_hooks = {"request": [tokens.on_request], "response": [tokens.on_response]}
    client.session_tokens = tokens
    return tokens


def citizen_client(app: Any, **kwargs: Any) -> TestClient:
    """A ``TestClient`` over ``app`` that keeps session tokens (use it as a context manager)."""
    client = TestClient(app, **kwargs)
    keep_session_tokens(client)
    return client
