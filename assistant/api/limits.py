"""Rate limits of the public API (the ``limits`` library), counted in Redis when ``settings.redis_url`` is set
(shared by every app process) and in this process's memory otherwise:

* chat turns per conversation and per client address a minute: ``await limiter.check_chat(request,
  session_id)``, called first by every chat route;
* daily caps per client on what costs staff time or stores personal data — human-helper tickets, home-visit
  bookings, answer ratings (``settings.cap_*_per_ip_day``): :meth:`RateLimiter.take_daily` (the dialogue steps
  that open tickets and book visits) and :meth:`RateLimiter.check_daily` (HTTP routes).

Over a limit an HTTP route raises a 429 :class:`~assistant.api.deps.ApiError` with ``Retry-After``; a dialogue
step answers with a polite text instead. The client address is the direct peer, or — only when that peer is one
of ``settings.trusted_proxies`` — the right-most address of ``X-Forwarded-For`` that is not itself a trusted
proxy (:func:`client_ip`). The daily caps count a *client reference*: a keyed hash of the address
(:meth:`RateLimiter.client_ref`), or of the OpenID on the WeChat channels (WeChat's servers share a few
addresses); it travels with the turn in the message metadata (``client_ref``), so neither Redis nor Rasa's
tracker holds the address itself. When the Redis counters cannot be reached the request is let through and
``ratelimit.storage.failed`` is logged (availability over strictness; see docs/security.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from typing import Any

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from assistant.api.deps import ApiError
from assistant.logging import get_logger, log_event, pseudonym
from assistant.security import device_key_presented
from assistant.settings import Settings

__all__ = ["RateLimiter", "client_ip", "storage_uri", "DAILY_CAPS", "wechat_client_ref"]

log = get_logger(__name__)

_MESSAGE = "请求太频繁，请稍后再试。/ too many requests, please try again later"
_DAILY_MESSAGE = "今天从您这里提交的{what}已经很多了，请明天再试。/ today's limit of {kind} from this client is reached"

#: What is capped per client a day → the setting with the cap.
DAILY_CAPS = {"tickets": "cap_tickets_per_ip_day", "bookings": "cap_bookings_per_ip_day",
              "feedback": "cap_feedback_per_ip_day"}
_DAILY_WORDS = {"tickets": "转人工请求", "bookings": "上门服务预约", "feedback": "评价"}


def wechat_client_ref(openid: str) -> str:
    """The client reference of a WeChat user (official account or mini-program) for the daily caps."""
    return pseudonym(f"wx:{openid}", "c")


def storage_uri(redis_url: str) -> str:
    """The ``limits`` async storage URI for a Redis URL (``redis://…`` → ``async+redis://…``)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://"):]
    return "async+" + redis_url


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_ip(scope: dict[str, Any], headers: Any, trusted: list) -> str:
    """The address a request comes from.

    Args:
        scope: the ASGI scope (``scope["client"]`` is the direct peer).
        headers: the request headers (``X-Forwarded-For`` is read only behind a trusted proxy).
        trusted: the trusted proxies as ``ipaddress`` networks.

    Returns:
        The direct peer; when the peer is a trusted proxy, the right-most ``X-Forwarded-For`` entry that is not a
        trusted proxy (entries further left could be written by the client itself).
    """
    peer = (scope.get("client") or ("", 0))[0] or ""
    peer_ip = _ip(peer)
    if peer_ip is None or not any(peer_ip in net for net in trusted):
        return peer or "unknown"
    chain = [p.strip() for h in headers.getlist("x-forwarded-for") for p in h.split(",") if p.strip()]
    for entry in reversed(chain):
        addr = _ip(entry)
        if addr is None:
            return entry[:64]  # garbage from the client side of the chain: still one key per value
        if not any(addr in net for net in trusted):
            return str(addr)
    return str(_ip(chain[0])) if chain and _ip(chain[0]) else peer


class RateLimiter:
    """The rate limits and daily caps of one app (built by ``create_app``)."""

    def __init__(self, settings: Settings, *, key_prefix: str = "jxe-ratelimit"):
        """Args:
            settings: ``rate_limit_session_per_min``, ``rate_limit_ip_per_min``, ``redis_url``,
                ``trusted_proxies``.
            key_prefix: prefix of every counter key (tests use their own).
        """
        self.settings = settings
        self.key_prefix = key_prefix
        self.per_session: RateLimitItem | None = (RateLimitItemPerMinute(settings.rate_limit_session_per_min)
                                                  if settings.rate_limit_session_per_min else None)
        self.per_ip: RateLimitItem | None = (RateLimitItemPerMinute(settings.rate_limit_ip_per_min)
                                             if settings.rate_limit_ip_per_min else None)
        self.daily: dict[str, RateLimitItem] = {kind: RateLimitItemPerDay(getattr(settings, field))
                                                for kind, field in DAILY_CAPS.items() if getattr(settings, field)}
        self.trusted = _networks(settings.trusted_proxies)
        self.backend = "redis" if settings.redis_url else "memory"
        self._memory = MemoryStorage() if not settings.redis_url else None
        self._redis: Storage | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _storage(self) -> Storage:
        if self._memory is not None:
            return self._memory
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            # a Redis connection pool belongs to one event loop (tests run several)
            self._redis = RedisStorage(storage_uri(self.settings.redis_url), implementation="redispy",
                                       key_prefix=self.key_prefix, wrap_exceptions=True)
            self._loop = loop
        return self._redis

    def client_ip(self, request: Request) -> str:
        """The client address of ``request`` (:func:`client_ip` with the configured trusted proxies)."""
        return client_ip(request.scope, request.headers, self.trusted)

    def client_ref(self, connection: Any) -> str | None:
        """The client reference of a request or WebSocket for the daily caps: a keyed hash of its address;
        ``None`` (never capped) for a kiosk that presents the device key."""
        if device_key_presented(connection, self.settings):
            return None
        return pseudonym(f"ip:{client_ip(connection.scope, connection.headers, self.trusted)}", "c")

    async def take_daily(self, kind: str, client_ref: str | None) -> bool:
        """Count one ``kind`` (``tickets``, ``bookings``, ``feedback``) for a client today.

        Args:
            kind: a key of :data:`DAILY_CAPS`.
            client_ref: the client (:meth:`client_ref`, :func:`wechat_client_ref`); ``None`` — a trusted caller
                (a kiosk with the device key, the command line, staff tools) — is never capped.

        Returns:
            ``True`` when it may go ahead (and was counted); ``False`` when the client's cap for the last 24 hours
            is used up (nothing counted).
        """
        item = self.daily.get(kind)
        if item is None or not client_ref:
            return True
        return await self._hit(item, "day", kind, client_ref, raise_over=False)

    async def check_daily(self, request: Request, kind: str) -> None:
        """:meth:`take_daily` for an HTTP route, by the request's address.

        Raises:
            ApiError: 429 ``daily_cap`` with ``Retry-After`` when the cap is used up.
        """
        item = self.daily.get(kind)
        ref = self.client_ref(request) if item is not None else None
        if ref:
            await self._hit(item, "day", kind, ref)

    async def check_chat(self, request: Request, session_id: str) -> None:
        """Count one chat turn for the client address and the conversation.

        Raises:
            ApiError: 429 ``rate_limited`` with ``Retry-After`` (seconds) when either limit is used up.
        """
        ip = self.client_ip(request)
        for item, kind, key in ((self.per_ip, "ip", ip), (self.per_session, "session", session_id)):
            if item is not None:
                await self._hit(item, "chat", kind, key, session_id=session_id, ip=ip)

    async def _hit(self, item: RateLimitItem, scope: str, kind: str, key: str, raise_over: bool = True,
                   **context: str) -> bool:
        """Count one hit of ``key`` against ``item``; over it: raise the 429 (or return ``False``)."""
        strategy = MovingWindowRateLimiter(self._storage())
        try:
            if await strategy.hit(item, scope, kind, key):
                return True
            stats = await strategy.get_window_stats(item, scope, kind, key)
        except Exception as exc:  # noqa: BLE001 - a broken counter store must not take the chat down
            log_event(log, "ratelimit.storage.failed", level=40, backend=self.backend, error=type(exc).__name__)
            return True
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        if scope == "day":
            log_event(log, "ratelimit.daily.refused", cap=kind, per_day=item.amount, retry_after=retry, client=key)
            if not raise_over:
                return False
            raise ApiError(429, "daily_cap", _DAILY_MESSAGE.format(what=_DAILY_WORDS.get(kind, kind), kind=kind),
                           headers={"Retry-After": str(retry)})
        log_event(log, "ratelimit.chat.refused", limit=kind, per_min=item.amount, retry_after=retry, **context)
        raise ApiError(429, "rate_limited", _MESSAGE, headers={"Retry-After": str(retry)})

    async def aclose(self) -> None:
        """Drop the Redis connection pool (if any)."""
        self._redis = None
