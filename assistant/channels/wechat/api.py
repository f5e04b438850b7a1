"""Client for the WeChat server API: access token (cached, refreshed) and customer-service messages.

Documented endpoints used (base URL = ``settings.wechat_api_base``):

* ``GET  /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` → ``{"access_token", "expires_in"}``
* ``POST /cgi-bin/message/custom/send?access_token=…`` with ``{"touser", "msgtype": "text", "text": {"content"}}``
* ``GET  /cgi-bin/media/get?access_token=…&media_id=…`` → the media bytes (voice messages)
* ``GET  /sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code`` → ``{"openid", …}``

Errors come back as ``{"errcode": N, "errmsg": "…"}``. ``40001`` / ``40014`` / ``42001`` (invalid or expired
token) make the client drop its cached token, fetch a new one and retry once; ``45015`` (the user has not
interacted within 48 hours) and ``45047`` (too many messages without a reply from the user) mean the message can
never be delivered and are raised as :class:`Undeliverable`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assistant.db.wechat import WeChatToken
from assistant.logging import get_logger, log_event

__all__ = ["WeChatAPIError", "Undeliverable", "WeChatAPIClient", "TOKEN_ERRCODES", "UNDELIVERABLE_ERRCODES"]

log = get_logger(__name__)

TOKEN_ERRCODES = {40001, 40014, 42001}
UNDELIVERABLE_ERRCODES = {45015, 45047, 40003}
#: Refresh the token this long before WeChat says it expires.
TOKEN_MARGIN_S = 300


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero ``errcode`` (or not at all).

    Args:
        errcode: WeChat's error code (``-1`` for transport errors).
        errmsg: WeChat's message.
    """

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"wechat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Undeliverable(WeChatAPIError):
    """The message can never be delivered (45015: no interaction within 48 h; 45047; 40003 bad openid)."""


class WeChatAPIClient:
    """Access-token cache and customer-service send for one AppID.

    Args:
        api_base: base URL of the WeChat API (``https://api.weixin.qq.com``; a local fake in tests).
        appid: the AppID.
        secret: the AppSecret.
        timeout_s: HTTP timeout per request in seconds.
        transport: an optional httpx transport (tests).
    """

    def __init__(self, api_base: str, appid: str, secret: str, timeout_s: float = 5.0,
                 transport: httpx.AsyncBaseTransport | None = None, store: Any = None):
        #: Where the token is shared with the app's other processes (:class:`SharedTokenStore`); ``None``: this
        #: process keeps its own (one process only: several refreshers invalidate each other's tokens).
        self.store = store
        self.api_base = api_base.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.timeout_s = timeout_s
        self._transport = transport
        self._token: str | None = None
        self._stale: str | None = None
        self._token_expires_at = 0.0
        self._lock: asyncio.Lock | None = None

    @property
    def configured(self) -> bool:
        """Whether AppID and AppSecret are set (without them no active message can be sent)."""
        return bool(self.appid and self.secret)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api_base, timeout=self.timeout_s, transport=self._transport,
                                 trust_env=False)

    async def _get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._client() as c:
                r = await c.get(path, params=params)
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatAPIError(-1, f"transport error: {exc.__class__.__name__}") from exc
        if not isinstance(data, dict):
            raise WeChatAPIError(-1, "unexpected response")
        return data

    async def access_token(self, force_refresh: bool = False) -> str:
        """The cached access token, fetched from ``/cgi-bin/token`` when missing, expiring or forced.

        Args:
            force_refresh: drop the cached token first (after a 40001 answer).
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.store is not None:
                return await self._shared_token(force_refresh)
            if force_refresh:
                self._token = None
            if self._token and time.monotonic() < self._token_expires_at:
                return self._token
            if not self.configured:
                raise WeChatAPIError(-1, "JXE_WECHAT_APPID / JXE_WECHAT_APPSECRET are not set")
            data = await self._get_json("/cgi-bin/token", {
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
            if data.get("errcode") or "access_token" not in data:
                raise WeChatAPIError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token")))
            expires = int(data.get("expires_in", 7200))
            self._token = str(data["access_token"])
            self._token_expires_at = time.monotonic() + max(60, expires - TOKEN_MARGIN_S)
            log_event(log, "wechat.token.refreshed", expires_in=expires)
            return self._token

    async def _shared_token(self, force_refresh: bool) -> str:
        stale = self._token if force_refresh else self._stale
        current = await asyncio.to_thread(self.store.current)
        if current is not None and current[0] != stale and time.time() < current[1]:
            self._token = current[0]
            return self._token
        if not self.configured:
            raise WeChatAPIError(-1, "JXE_WECHAT_APPID / JXE_WECHAT_APPSECRET are not set")
        self._token = await asyncio.to_thread(self.store.refresh, self._fetch_token_blocking, stale)
        self._stale = None
        return self._token

    def _fetch_token_blocking(self) -> tuple[str, float]:
        """A new token from ``/cgi-bin/token`` (blocking; called by the store while it holds the refresh lock)."""
        try:
            with httpx.Client(base_url=self.api_base, timeout=self.timeout_s, trust_env=False) as c:
                data = c.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": self.appid,
                                                       "secret": self.secret}).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatAPIError(-1, f"transport error: {exc.__class__.__name__}") from exc
        if not isinstance(data, dict) or data.get("errcode") or "access_token" not in data:
            data = data if isinstance(data, dict) else {}
            raise WeChatAPIError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token")))
        expires = int(data.get("expires_in", 7200))
        log_event(log, "wechat.token.refreshed", expires_in=expires, shared=True)
        return str(data["access_token"]), time.time() + max(60, expires - TOKEN_MARGIN_S)

    async def _post_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.access_token(force_refresh=False)
            try:
                async with self._client() as c:
                    r = await c.post(path, params={"access_token": token}, json=body)
                data = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeChatAPIError(-1, f"transport error: {exc.__class__.__name__}") from exc
            code = int(data.get("errcode", 0) or 0) if isinstance(data, dict) else -1
            if code == 0:
                return data
            if code in TOKEN_ERRCODES and attempt == 1:
                log_event(log, "wechat.token.invalid", errcode=code)
                async with self._lock:  # type: ignore[union-attr]
                    self._stale = token  # a shared store must not hand this one out again
                    if self._token == token:
                        self._token = None
                continue
            msg = str(data.get("errmsg", "")) if isinstance(data, dict) else "unexpected response"
            if code in UNDELIVERABLE_ERRCODES:
                raise Undeliverable(code, msg)
            raise WeChatAPIError(code, msg)
        raise WeChatAPIError(-1, "unreachable")  # pragma: no cover

    async def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """Send a text customer-service message (``message/custom/send``).

        Args:
            openid: the recipient's OpenID.
            content: the text (already within WeChat's length limit).

        Raises:
            Undeliverable: WeChat will never accept this message (45015 …).
            WeChatAPIError: any other error.
        """
        return await self._post_with_token("/cgi-bin/message/custom/send", {
            "touser": openid, "msgtype": "text", "text": {"content": content}})

    async def get_media(self, media_id: str) -> bytes:
        """Download a temporary media file (a voice message's AMR audio).

        Args:
            media_id: the ``MediaId`` of the message.
        """
        token = await self.access_token()
        try:
            async with self._client() as c:
                r = await c.get("/cgi-bin/media/get", params={"access_token": token, "media_id": media_id})
        except httpx.HTTPError as exc:
            raise WeChatAPIError(-1, f"transport error: {exc.__class__.__name__}") from exc
        if r.headers.get("content-type", "").startswith(("application/json", "text/plain")):
            data = r.json()
            raise WeChatAPIError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        return r.content

    async def code_to_openid(self, js_code: str) -> str:
        """Exchange a mini-program ``wx.login`` code for the user's OpenID (``sns/jscode2session``).

        Args:
            js_code: the code from ``wx.login``.
        """
        data = await self._get_json("/sns/jscode2session", {
            "appid": self.appid, "secret": self.secret, "js_code": js_code, "grant_type": "authorization_code"})
        if data.get("errcode") or not data.get("openid"):
            raise WeChatAPIError(int(data.get("errcode", -1)), str(data.get("errmsg", "no openid")))
        return str(data["openid"])


class SharedTokenStore:
    """The access token of one AppID in the app's database, shared by every process: a process that needs a new
    token locks the row, looks again (another process may just have refreshed it), and only then fetches one.

    Args:
        db: the app database (``assistant.db.session.Database``).
        appid: the AppID.
    """

    def __init__(self, db: Any, appid: str):
        self.db = db
        self.appid = appid

    def current(self) -> tuple[str, float] | None:
        """``(token, expires_at)`` as stored, or ``None``."""
        with self.db.session() as s:
            row = s.get(WeChatToken, self.appid)
            return (row.token, row.expires_at) if row is not None else None

    def refresh(self, fetch: Callable[[], tuple[str, float]], stale: str | None) -> str:
        """A valid token: the stored one unless it is ``stale`` or expired, else a new one from ``fetch``."""
        for _ in range(2):
            try:
                with self.db.session() as s:
                    # lock the row before reading it: a no-op UPDATE takes PostgreSQL's row lock and SQLite's
                    # write lock alike (SQLite ignores FOR UPDATE), so a second process waits here and then
                    # finds the token the first one fetched
                    s.execute(update(WeChatToken).where(WeChatToken.appid == self.appid)
                              .values(appid=WeChatToken.appid).execution_options(synchronize_session=False))
                    row = s.scalars(select(WeChatToken).where(WeChatToken.appid == self.appid)
                                    .with_for_update()).first()
                    if row is not None and row.token != stale and time.time() < row.expires_at:
                        return row.token
                    token, expires_at = fetch()
                    if row is None:
                        s.add(WeChatToken(appid=self.appid, token=token, expires_at=expires_at))
                    else:
                        row.token, row.expires_at = token, expires_at
                    return token
            except IntegrityError:  # another process stored the first token meanwhile: use it
                continue
        raise WeChatAPIError(-1, "could not store the access token")  # pragma: no cover
