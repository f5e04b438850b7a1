"""HTTP hardening that applies to every request: security headers on every response and a byte cap on every
request body (counted as it arrives, so a chunked body without ``Content-Length`` is capped too).

Both are plain ASGI middlewares (no buffering, WebSockets pass through), installed by ``create_app``:

* :class:`SecurityHeadersMiddleware` — ``Content-Security-Policy`` (:data:`CSP`: scripts and styles only from
  this origin, nothing inline, no framing), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: strict-origin-when-cross-origin``, ``Permissions-Policy`` (microphone for the kiosk page
  only from this origin) and, when the app is served over HTTPS (``settings.behind_tls``),
  ``Strict-Transport-Security``. The widget is a script on other sites' pages, not a frame, so no page of the
  app needs to be framed.
* :class:`BodySizeLimitMiddleware` — 413 ``{"error": "body_too_large", …}`` as soon as the bytes received exceed
  the cap of the path (:func:`body_limits`), before the rest of the body is read.

And two checks the speech WebSockets and the daily caps use: :func:`origin_allowed` (the page that opens a
WebSocket is the app's own or one of ``settings.allowed_origins``) and :func:`device_key_presented` (a kiosk
presents ``settings.kiosk_device_key``).

See docs/security.md for what each control stops.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.logging import get_logger, log_event
from assistant.settings import Settings

__all__ = ["CSP", "DOCS_CSP", "SecurityHeadersMiddleware", "BodySizeLimitMiddleware", "BodyTooLarge", "body_limits",
           "security_headers", "install", "MAX_CHAT_BODY_BYTES", "MAX_UPLOAD_BODY_BYTES",
           "MAX_ACTION_BODY_BYTES", "KIOSK_KEY_HEADER", "device_key_presented", "origin_allowed"]

log = get_logger(__name__)

#: The Content-Security-Policy of every response. No ``'unsafe-inline'`` anywhere: every script and style of the
#: pages is a file under ``/static`` (or ``/widget.js``); the kiosk's WebSocket is same-origin (``'self'``).
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: The policy of FastAPI's own API docs (``/docs``, ``/redoc``; served only outside production): their pages load
#: Swagger UI / ReDoc from a CDN and start them with an inline script.
DOCS_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "font-src 'self' https://fonts.gstatic.com",
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
#: The paths of the API docs pages.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

#: Largest chat request body read at all (the text itself is capped at ``chat.MAX_ACCEPTED_CHARS`` characters).
MAX_CHAT_BODY_BYTES = 256 * 1024
#: Largest upload request body (the file itself is capped at ``preservice.uploads.MAX_BYTES``; the rest is the
#: multipart envelope).
MAX_UPLOAD_BODY_BYTES = 6 * 1024 * 1024
#: Largest custom-action call from Rasa (the tracker with every event of the conversation).
MAX_ACTION_BODY_BYTES = 16 * 1024 * 1024

_BODY_TOO_LARGE = "请求内容太大，请分几次发送。/ the request body is too large"


def security_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers :class:`SecurityHeadersMiddleware` adds, in order (HSTS only when ``settings.behind_tls``)."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "microphone=(self), camera=(), geolocation=(), payment=()"),
    ]
    if settings.behind_tls:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every HTTP response (a header the route already set is kept); the API docs
    pages, which exist only outside production, get :data:`DOCS_CSP` instead of :data:`CSP`."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.headers = security_headers(settings)
        self.docs_headers = [(k, DOCS_CSP if k == "Content-Security-Policy" else v) for k, v in self.headers]
        self.docs_paths = DOCS_PATHS if settings.environment != "production" else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope.get("path") in self.docs_paths else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a request body passes its cap; rendered as a 413 by the app's error
    handler (or by :class:`BodySizeLimitMiddleware` when it reaches it)."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, detail={"error": "body_too_large", "message": _BODY_TOO_LARGE,
                                                   "limit_bytes": limit})
        self.limit = limit


def body_limits(settings: Settings) -> dict[str, int]:
    """Path prefix → largest body in bytes; a path takes the longest matching prefix, else
    ``settings.max_body_bytes``."""
    return {
        "/api/v1/chat": MAX_CHAT_BODY_BYTES,
        "/api/v1/mp/chat": MAX_CHAT_BODY_BYTES,
        "/api/v1/uploads/": MAX_UPLOAD_BODY_BYTES,
        # Rasa posts the whole tracker of a conversation to the action server; a long conversation is large
        "/actions/webhook": MAX_ACTION_BODY_BYTES,
    }


class BodySizeLimitMiddleware:
    """Caps request bodies: a declared ``Content-Length`` over the cap is refused before the app runs; otherwise
    the bytes are counted as the app receives them and a 413 is answered the moment the count passes the cap
    (the rest of the body is never read; the server closes the connection)."""

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int] | None = None):
        self.app = app
        self.default_limit = default_limit
        self.prefixes: list[tuple[str, int]] = sorted((limits or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        """The cap for ``path``."""
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(Headers(scope=scope))
        if declared is not None and declared > limit:
            log_event(log, "http.body.too_large", path=scope.get("path"), declared=declared, limit=limit)
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    log_event(log, "http.body.too_large", path=scope.get("path"), received=received, limit=limit)
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _too_large(exc.limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": "body_too_large", "message": _BODY_TOO_LARGE, "limit_bytes": limit},
                        status_code=413, headers={"Connection": "close"})


def _content_length(headers: Headers) -> int | None:
    try:
        value = headers.get("content-length")
        return int(value) if value is not None else None
    except ValueError:
        return None


#: The header a kiosk presents its device key in (``?device_key=`` on a browser's WebSocket, which cannot set
#: headers).
KIOSK_KEY_HEADER = "X-Kiosk-Key"


def device_key_presented(connection: Any, settings: Settings) -> bool:
    """Whether a request or WebSocket presents the kiosk device key (``X-Kiosk-Key`` or ``?device_key=``;
    compared in constant time). Always ``False`` while ``settings.kiosk_device_key`` is unset."""
    key = settings.kiosk_device_key
    if not key:
        return False
    given = connection.headers.get(KIOSK_KEY_HEADER) or connection.query_params.get("device_key") or ""
    return hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))


def origin_allowed(connection: Any, settings: Settings) -> bool:
    """Whether the page behind a WebSocket may use it: no ``Origin`` header (not a browser), the app's own
    origin (the ``Origin`` names the host the request was sent to), or one of ``settings.allowed_origins``."""
    origin = (connection.headers.get("origin") or "").strip().lower()
    if not origin:
        return True
    if origin in settings.allowed_origins:
        return True
    host = (connection.headers.get("host") or "").strip().lower()
    parts = urlsplit(origin)
    default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
    return bool(host) and parts.netloc.removesuffix(default) == host.removesuffix(":80").removesuffix(":443")


def install(app, settings: Settings) -> None:
    """Install both middlewares on ``app`` (the body cap inside, so its 413s get the headers too)."""
    app.add_middleware(BodySizeLimitMiddleware, default_limit=settings.max_body_bytes, limits=body_limits(settings))
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
