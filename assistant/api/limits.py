"""Rate limits of the public chat API (the ``limits`` library): chat turns per conversation and per client
address a minute, counted in Redis when ``settings.redis_url`` is set (shared by every app process) and in this
process's memory otherwise.

``await limiter.check_chat(request, session_id)`` is called first by every chat route; over a limit it raises a
429 :class:`~assistant.api.deps.ApiError` with ``Retry-After``. The client address is the direct peer, or — only
when that peer is one of ``settings.trusted_proxies`` — the right-most address of ``X-Forwarded-For`` that is
not itself a trusted proxy (:func:`client_ip`). When the Redis counters cannot be reached the request is let
through and ``ratelimit.storage.failed`` is logged (availability over strictness; see docs/security.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from typing import Any

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from assistant.api.deps import ApiError
from assistant.logging import get_logger, log_event
from assistant.settings import Settings

__all__ = ["RateLimiter", "client_ip", "storage_uri"]

log = get_logger(__name__)

_MESSAGE = "请求太频繁，请稍后再试。/ too many requests, please try again later"


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
    """The chat rate limits of one app (built by ``build_services``)."""

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

    async def check_chat(self, request: Request, session_id: str) -> None:
        """Count one chat turn for the client address and the conversation.

        Raises:
            ApiError: 429 ``rate_limited`` with ``Retry-After`` (seconds) when either limit is used up.
        """
        ip = self.client_ip(request)
        for item, kind, key in ((self.per_ip, "ip", ip), (self.per_session, "session", session_id)):
            if item is not None:
                await self._hit(item, kind, key, session_id=session_id, ip=ip)

    async def _hit(self, item: RateLimitItem, kind: str, key: str, **context: str) -> None:
        strategy = MovingWindowRateLimiter(self._storage())
        try:
            if await strategy.hit(item, "chat", kind, key):
                return
            stats = await strategy.get_window_stats(item, "chat", kind, key)
        except Exception as exc:  # noqa: BLE001 - a broken counter store must not take the chat down
            log_event(log, "ratelimit.storage.failed", level=40, backend=self.backend, error=type(exc).__name__)
            return
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        log_event(log, "ratelimit.chat.refused", limit=kind, per_min=item.amount, retry_after=retry, **context)
        raise ApiError(429, "rate_limited", _MESSAGE, headers={"Retry-After": str(retry)})

    async def aclose(self) -> None:
        """Drop the Redis connection pool (if any)."""
        self._redis = None
