"""WeChat official account (公众号) channel: ``GET/POST /wechat/mp``.

What happens to a message:

1. Body capped at :data:`MAX_BODY_BYTES` (413), ``timestamp`` inside the replay window (403), ``signature``
   checked (403), XML parsed with every DTD/entity refused (400).
2. Safe mode (and compatible mode when WeChat sends ``encrypt_type=aes``): ``msg_signature`` checked, the
   ``Encrypt`` field decrypted and its AppID checked (403/400); the reply is encrypted the same way.
3. De-duplication by ``MsgId`` (events: ``FromUserName:CreateTime:Event``) in ``wechat_inbound``: a retry of a
   message never starts a second computation; it gets the same answer (passive reply) when it is ready in time,
   otherwise ``success`` — and the answer then goes out exactly once through the customer-service API. This holds
   across replicas: the replica computing an answer holds a lease on the row (``lease_until``, renewed every
   third of ``settings.wechat_lease_s`` while it computes); a retry reaching another replica while the lease is
   live waits inside its own budget for the owner's passive answer (and repeats it) and otherwise replies
   ``success``, leaving delivery to the owner. A row whose lease lapsed (the owner died) is taken over — by one
   replica only — and computed again.
4. The answer is computed by ``Assistant.chat`` in a background task. If it is ready inside
   ``settings.wechat_reply_budget_s`` (4.5 s) it is the passive XML reply (further messages of a long answer
   follow through the customer-service API); otherwise the request is answered ``success`` at once and the
   whole answer is sent with ``message/custom/send`` when it is ready.

The same machinery (:class:`WeChatRuntime`) serves the mini-program push (``assistant.channels.miniprogram``).
Staff replies to handoff tickets of WeChat users are delivered by :func:`deliver`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from assistant.api.deps import ApiError
from assistant.api.limits import wechat_client_ref
from assistant.channels.wechat.api import SharedTokenStore, Undeliverable, WeChatAPIClient, WeChatAPIError
from assistant.channels.wechat.crypto import (
    AppIdError, DecryptError, SignatureError, WeChatCrypto, WeChatCryptoError,
    check_signature, check_timestamp,
)
from assistant.channels.wechat.render import Rendered, render_parts
from assistant.channels.wechat.xml import XMLRefused, build_xml, parse_wechat_xml
from assistant.db.base import utcnow
from assistant.db.wechat import WeChatDelivery, WeChatInbound, WeChatNonce, WeChatUser
from assistant.dialogue.replies import say
from assistant.logging import get_logger, log_event, pseudonym
from assistant.privacy import mask_data, mask_pii
from assistant.speech import voice_runtime

__all__ = ["router", "WeChatRuntime", "Inbound", "Answer", "get_runtime", "runtime_for", "deliver", "schedule_delivery", "register_outbox",
           "MAX_BODY_BYTES",
           "WELCOME_MENU", "TIMESTAMP_WINDOW_S"]

log = get_logger(__name__)

#: WeChat messages are a few KB at most; anything above this is refused with 413 before parsing.
MAX_BODY_BYTES = 64 * 1024
#: Accepted distance of the request ``timestamp`` from our clock (replay window), seconds.
TIMESTAMP_WINDOW_S = 300
#: Keep finished in-memory entries this long (a retry normally arrives within 15 s).
_PENDING_TTL_S = 120
#: How often a retry waiting for another replica's answer looks at the row again (seconds).
_FOLLOW_POLL_S = 0.25

TEXT_WELCOME = say("wechat.welcome")
TEXT_VOICE_UNSUPPORTED = say("wechat.voice_unsupported")
TEXT_VOICE_UNCLEAR = say("wechat.voice_unclear")
TEXT_MEDIA_UNSUPPORTED = say("wechat.media_unsupported")
TEXT_ERROR = say("wechat.error")
TEXT_EMPTY = say("wechat.empty")

#: The menu of common matters sent with the welcome (and for the ``MENU`` click key). Payloads are sent to the
#: assistant as the citizen's text, so they work whatever matter codes the KB uses.
WELCOME_MENU: list[dict[str, str]] = [
    {"title": "养老金资格认证", "payload": "养老金资格认证怎么办"},
    {"title": "个体工商户营业执照", "payload": "个体工商户营业执照怎么办理"},
    {"title": "居住证办理", "payload": "办居住证要带什么材料"},
    {"title": "社保卡补办", "payload": "社保卡丢了怎么补办"},
    {"title": "转人工（金帮办专员）", "payload": "/request_human"},
]

_MEDIA_TYPES = {"image", "video", "shortvideo", "location", "link", "file", "miniprogrampage"}
_SESSION_PREFIX = {"wechat_mp": "wx", "miniprogram": "mp"}


# --------------------------------------------------------------------------------------------------------
# data


@dataclass
class Inbound:
    """One verified, decrypted WeChat message.

    Attributes:
        channel: ``wechat_mp`` or ``miniprogram``.
        fields: the message fields (``ToUserName``, ``FromUserName``, ``MsgType`` …).
        encrypted: whether it came encrypted (the reply is then encrypted too).
        fmt: ``xml`` or ``json`` (mini-program push can be either; the reply uses the same).
    """

    channel: str
    fields: dict[str, Any]
    encrypted: bool = False
    fmt: str = "xml"

    @property
    def openid(self) -> str:
        return str(self.fields.get("FromUserName") or "")

    @property
    def account(self) -> str:
        return str(self.fields.get("ToUserName") or "")

    @property
    def msg_type(self) -> str:
        return str(self.fields.get("MsgType") or "").strip().lower()

    @property
    def dedup_key(self) -> str:
        msg_id = str(self.fields.get("MsgId") or self.fields.get("MsgID") or "").strip()
        if msg_id:
            return f"{self.channel}:id:{msg_id}"[:160]
        return (f"{self.channel}:ev:{self.openid}:{self.fields.get('CreateTime', '')}:"
                f"{self.fields.get('Event', '')}")[:160]


@dataclass
class Answer:
    """What a message is answered with.

    Attributes:
        messages: WeChat text messages, in order (empty: nothing to say, reply ``success``).
        buttons: numbered options shown in the answer.
        wants_human: the citizen asked for a human helper (mini-program: ``transfer_customer_service``).
    """

    messages: list[str]
    buttons: list[dict[str, str]] = field(default_factory=list)
    wants_human: bool = False


@dataclass
class _Pending:
    key: str
    openid: str
    channel: str
    task: asyncio.Task
    waiters: int = 0
    #: ``passive`` (returned in an HTTP reply) or ``custom`` (customer-service API); ``None`` while undecided.
    claimed: str | None = None
    extra_sent: bool = False
    finished_at: float = 0.0


# --------------------------------------------------------------------------------------------------------
# runtime


class WeChatRuntime:
    """State and logic shared by the official-account and mini-program channels.

    Args:
        settings: the app settings (``wechat_*``).
        db: the app ``Database`` (``.session()`` context manager).
        assistant: an object with ``async chat(session_id, text, channel, metadata)`` (the app's Assistant).
        api: the WeChat API client; built from the settings when ``None``.
        asr: an optional speech engine with ``transcribe_pcm(pcm16_16k) -> Result`` for voice messages
            without WeChat's ``Recognition`` field.
        services: the app's ``Services``; when given, ``services.assistant`` is used (looked up per message).
    """

    def __init__(self, settings: Any, db: Any, assistant: Any, api: WeChatAPIClient | None = None,
                 asr: Any = None, services: Any = None):
        self.settings = settings
        self.db = db
        self._assistant = assistant
        self._services = services
        self.api = api or WeChatAPIClient(settings.wechat_api_base, settings.wechat_appid,
                                          settings.wechat_appsecret,
                                          store=SharedTokenStore(db, settings.wechat_appid) if db else None)
        self._asr = asr
        self.crypto: WeChatCrypto | None = None
        if settings.wechat_aes_key:
            self.crypto = WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task] = set()
        #: Retry delays of a failed customer-service send (seconds).
        self.send_retry_delays: tuple[float, ...] = (0.5, 2.0)

    @property
    def assistant(self) -> Any:
        """The assistant answering messages (the app's current ``services.assistant`` when built from it)."""
        if self._services is not None and getattr(self._services, "assistant", None) is not None:
            return self._services.assistant
        return self._assistant

    @property
    def asr(self) -> Any:
        """The speech engine for voice messages: the one given, else the app's speech stack
        (:func:`assistant.speech.voice_runtime`, loaded on first use; ``None`` when it cannot load)."""
        if self._asr is not None or self._services is None:
            return self._asr
        try:
            return voice_runtime(self._services).pipeline
        except Exception as exc:  # no speech model in this install: WeChat says voice is unsupported
            log_event(log, "wechat.voice.engine_unavailable", error=type(exc).__name__)
            return None

    @asr.setter
    def asr(self, engine: Any) -> None:
        self._asr = engine

    # ---- request verification -------------------------------------------------------------------------
    def verify_query(self, query: dict[str, str], now: float | None = None) -> None:
        """Check ``timestamp`` (replay window) and ``signature`` of a request.

        Args:
            query: the request's query parameters.
            now: the current Unix time (tests).

        Raises:
            ApiError: 503 when no token is configured, 403 for a stale timestamp or a bad signature.
        """
        if not self.settings.wechat_token:
            raise ApiError(503, "wechat_not_configured", "微信接入未配置（JXE_WECHAT_TOKEN）/ WeChat token not set")
        try:
            check_timestamp(query.get("timestamp"), TIMESTAMP_WINDOW_S, now)
            check_signature((self.settings.wechat_token, query.get("timestamp", ""), query.get("nonce", "")),
                            query.get("signature"))
        except WeChatCryptoError as exc:
            log_event(log, "wechat.request.rejected", reason=exc.reason, detail=str(exc))
            raise ApiError(403, exc.reason, f"请求校验失败 / {exc}") from None

    def remember_signature(self, query: dict[str, str], body: bytes) -> None:
        """Remember a verified request's ``timestamp:nonce:signature`` for the replay window (in the database, so
        every replica knows it). The same signature again with the same body is WeChat's own retry; with another
        body it is a captured signature replayed (in ``plain`` mode the signature does not cover the body): 403.

        Raises:
            ApiError: 403 ``replayed`` for a known signature with another body.
        """
        if self.db is None:
            return
        key = ":".join((query.get("timestamp", ""), query.get("nonce", ""), query.get("signature", "")))[:200]
        digest = hashlib.sha256(body).hexdigest()
        with self.db.session() as s:
            seen = s.get(WeChatNonce, key)
            if seen is None:
                s.query(WeChatNonce).filter(
                    WeChatNonce.seen_at < utcnow() - timedelta(seconds=2 * TIMESTAMP_WINDOW_S)).delete()
                s.add(WeChatNonce(key=key, body_sha=digest))
                try:
                    s.flush()
                    return
                except IntegrityError:  # another replica stored it meanwhile: compare with that one
                    s.rollback()
                    seen = s.get(WeChatNonce, key)
            if seen is not None and seen.body_sha != digest:
                log_event(log, "wechat.request.rejected", reason="replayed")
                raise ApiError(403, "replayed", "请求已使用过 / this signature was already used for another message")

    def open_envelope(self, channel: str, query: dict[str, str], body: bytes) -> Inbound:
        """Verify, parse and (when encrypted) decrypt a POSTed message.

        Args:
            channel: ``wechat_mp`` or ``miniprogram``.
            query: the request's query parameters (signature, timestamp, nonce, encrypt_type, msg_signature).
            body: the raw body (XML; the mini-program push may also be JSON).

        Raises:
            ApiError: 400 malformed / undecryptable, 403 bad signature / wrong AppID / stale, 503 not configured.
        """
        self.verify_query(query)
        self.remember_signature(query, body)
        fmt = "json" if body.lstrip()[:1] == b"{" else "xml"
        outer = _parse_body(body, fmt)
        mode = self.settings.wechat_mode
        encrypted_req = (query.get("encrypt_type") or "").lower() == "aes" or (
            "Encrypt" in outer and "MsgType" not in outer)
        if mode == "safe" and not encrypted_req:
            _reject(400, "plaintext_in_safe_mode", "安全模式只接受加密消息 / safe mode requires encrypted messages")
        if encrypted_req and mode == "plain":
            _reject(400, "encrypted_in_plain_mode",
                    "收到加密消息，但 JXE_WECHAT_MODE=plain / encrypted message while the mode is plain")
        if not encrypted_req:
            return _checked(Inbound(channel=channel, fields=outer, encrypted=False, fmt=fmt))
        if self.crypto is None:
            _reject(503, "wechat_aes_not_configured", "未配置 JXE_WECHAT_AES_KEY / EncodingAESKey not set")
        enc = outer.get("Encrypt")
        if not isinstance(enc, str) or not enc:
            _reject(400, "missing_encrypt", "缺少 Encrypt 字段 / the Encrypt field is missing")
        try:
            plain = self.crypto.verify_and_decrypt(query.get("msg_signature"), query.get("timestamp", ""),
                                                   query.get("nonce", ""), enc)
        except SignatureError as exc:
            log_event(log, "wechat.request.rejected", reason=exc.reason, detail=str(exc))
            _reject(403, "bad_msg_signature", f"msg_signature 校验失败 / {exc}")
        except AppIdError as exc:
            log_event(log, "wechat.request.rejected", reason=exc.reason)
            _reject(403, exc.reason, f"AppID 不匹配 / {exc}")
        except DecryptError as exc:
            log_event(log, "wechat.request.rejected", reason=exc.reason, detail=str(exc))
            _reject(400, exc.reason, f"消息解密失败 / {exc}")
        inner_fmt = "json" if plain.lstrip()[:1] == "{" else "xml"
        inner = _parse_body(plain.encode("utf-8"), inner_fmt)
        return _checked(Inbound(channel=channel, fields=inner, encrypted=True, fmt=inner_fmt))

    # ---- replies ----------------------------------------------------------------------------------------
    def reply_body(self, inb: Inbound, fields: dict[str, Any]) -> Response:
        """A passive reply in the request's format, encrypted when the request was.

        Args:
            inb: the message being answered.
            fields: the reply's fields (``MsgType``, ``Content`` …); To/From/CreateTime are filled in.
        """
        msg = {"ToUserName": inb.openid, "FromUserName": inb.account, "CreateTime": int(time.time()), **fields}
        if inb.fmt == "json":
            plain = json.dumps(msg, ensure_ascii=False)
            if inb.encrypted and self.crypto:
                return Response(json.dumps(self.crypto.seal(plain), ensure_ascii=False),
                                media_type="application/json")
            return Response(plain, media_type="application/json")
        plain = build_xml(msg)
        if inb.encrypted and self.crypto:
            sealed = self.crypto.seal(plain)
            return Response(build_xml({"Encrypt": sealed["Encrypt"], "MsgSignature": sealed["MsgSignature"],
                                       "TimeStamp": int(sealed["TimeStamp"]), "Nonce": sealed["Nonce"]}),
                            media_type="application/xml")
        return Response(plain, media_type="application/xml")

    # ---- sessions and users -------------------------------------------------------------------------------
    def user(self, openid: str, channel: str, subscribed: bool | None = None) -> dict[str, Any]:
        """The stored WeChat user (created on first sight) as ``{"openid","session_id","last_buttons",…}``.

        Args:
            openid: the OpenID.
            channel: ``wechat_mp`` or ``miniprogram``.
            subscribed: set the subscription state (official account) when not ``None``.
        """
        for _ in range(2):
            try:
                with self.db.session() as s:
                    u = s.get(WeChatUser, openid)
                    if u is None:
                        sid = f"{_SESSION_PREFIX.get(channel, 'wx')}-{secrets.token_urlsafe(18)}"
                        u = WeChatUser(openid=openid, channel=channel, session_id=sid,
                                       subscribed=subscribed if subscribed is not None else True)
                        s.add(u)
                    elif subscribed is not None:
                        u.subscribed = subscribed
                    s.flush()
                    return {"openid": u.openid, "channel": u.channel, "session_id": u.session_id,
                            "subscribed": u.subscribed, "last_buttons": list(u.last_buttons or [])}
            except IntegrityError:  # two first messages at once: the other one created the row
                continue
        raise RuntimeError("could not create the WeChat user")  # pragma: no cover

    def openid_known(self, openid: str) -> bool:
        """Whether this OpenID has a stored conversation."""
        with self.db.session() as s:
            return s.get(WeChatUser, openid) is not None

    def _save_buttons(self, openid: str, buttons: list[dict[str, str]]) -> None:
        with self.db.session() as s:
            u = s.get(WeChatUser, openid)
            if u is not None:
                u.last_buttons = buttons or None

    def openid_for_session(self, session_id: str) -> tuple[str, str] | None:
        """``(openid, channel)`` of a WeChat conversation, or ``None`` for other channels' sessions."""
        with self.db.session() as s:
            u = s.scalars(select(WeChatUser).where(WeChatUser.session_id == session_id)).first()
            return (u.openid, u.channel) if u else None

    # ---- understanding a message ------------------------------------------------------------------------
    def compute_for(self, inb: Inbound) -> Callable[[], Awaitable[Answer]] | None:
        """The computation that answers ``inb``, or ``None`` when it needs no answer (reply ``success``)."""
        t = inb.msg_type
        f = inb.fields
        if t == "text":
            return lambda: self._ask(inb, str(f.get("Content") or ""))
        if t == "voice":
            return lambda: self._voice(inb)
        if t == "event":
            ev = str(f.get("Event") or "").strip()
            low = ev.lower()
            if low in {"subscribe", "user_enter_tempsession"}:
                return lambda: self._welcome(inb)
            if low == "unsubscribe":
                return lambda: self._unsubscribe(inb)
            if low == "click":
                return lambda: self._click(inb, str(f.get("EventKey") or ""))
            return None  # VIEW, SCAN, LOCATION, TEMPLATESENDJOBFINISH …: nothing to say
        if t in _MEDIA_TYPES:
            return lambda: _static(TEXT_MEDIA_UNSUPPORTED)
        log_event(log, "wechat.message.unknown_type", channel=inb.channel, msg_type=t[:32])
        return None

    async def _unsubscribe(self, inb: Inbound) -> Answer:
        await asyncio.to_thread(self.user, inb.openid, inb.channel, False)
        log_event(log, "wechat.user.unsubscribed", channel=inb.channel)
        return Answer([])

    async def _welcome(self, inb: Inbound) -> Answer:
        await asyncio.to_thread(self.user, inb.openid, inb.channel, True)
        rendered = render_parts([{"type": "text", "text": TEXT_WELCOME},
                                 {"type": "buttons", "buttons": WELCOME_MENU}])
        await asyncio.to_thread(self._save_buttons, inb.openid, rendered.buttons)
        return Answer(rendered.messages, rendered.buttons)

    async def _click(self, inb: Inbound, key: str) -> Answer:
        key = key.strip()
        if key.upper() in {"MENU", "HELP", ""}:
            return await self._welcome(inb)
        if key.upper() == "HUMAN":
            return await self._ask(inb, "/request_human", raw=True)
        if key.upper().startswith("MATTER:"):
            code = key.split(":", 1)[1].strip()
            return await self._ask(inb, "/ask_matter" + json.dumps({"matter": code}, ensure_ascii=False), raw=True)
        if key.upper().startswith("ASK:"):
            return await self._ask(inb, key.split(":", 1)[1].strip())
        log_event(log, "wechat.click.unknown_key", key=key[:64])
        return await self._welcome(inb)

    async def _voice(self, inb: Inbound) -> Answer:
        text = str(inb.fields.get("Recognition") or "").strip()
        if text:
            return await self._ask(inb, text)
        asr = await asyncio.to_thread(lambda: self.asr)
        if asr is None:
            return Answer([TEXT_VOICE_UNSUPPORTED])
        media_id = str(inb.fields.get("MediaId") or "")
        try:
            audio = await self.api.get_media(media_id)
            pcm = await asyncio.to_thread(amr_to_pcm16k, audio)
            result = await asyncio.to_thread(asr.transcribe_pcm, pcm)
            text = str(getattr(result, "text", result) or "").strip()
        except (WeChatAPIError, ValueError, OSError, subprocess.SubprocessError) as exc:
            log_event(log, "wechat.voice.failed", error=exc.__class__.__name__)
            return Answer([TEXT_VOICE_UNCLEAR])
        if not text:
            return Answer([TEXT_VOICE_UNCLEAR])
        return await self._ask(inb, text)

    async def _ask(self, inb: Inbound, text: str, raw: bool = False) -> Answer:
        """Ask the assistant and render its reply for WeChat."""
        u = await asyncio.to_thread(self.user, inb.openid, inb.channel)
        text = text.strip()
        if not raw:
            if not text:
                return Answer([TEXT_EMPTY])
            m = re.fullmatch(r"\s*([0-9０-９]{1,2})\s*", text)
            if m and u["last_buttons"]:  # "2" → the second option shown last time
                idx = int(m.group(1).translate(str.maketrans("０１２３４５６７８９", "0123456789"))) - 1
                if 0 <= idx < len(u["last_buttons"]):
                    text = u["last_buttons"][idx]["payload"]
            if text in {"人工", "转人工", "人工服务"}:
                text = "/request_human" if not text.startswith("/") else text
        resp = await self.assistant.chat(u["session_id"], text, channel=inb.channel,
                                         metadata={"wechat_openid": inb.openid, "wechat_channel": inb.channel,
                                                   "client_ref": wechat_client_ref(inb.openid)})
        data = resp.model_dump() if hasattr(resp, "model_dump") else dict(resp)
        parts = list(data.get("replies") or [])
        rendered: Rendered = render_parts(parts)
        await asyncio.to_thread(self._save_buttons, inb.openid, rendered.buttons)
        wants_human = data.get("intent") == "request_human" or any(
            isinstance(p, dict) and p.get("type") == "handoff" for p in parts)
        return Answer(rendered.messages, rendered.buttons, wants_human=wants_human)

    # ---- the 4.5-second rule and de-duplication ---------------------------------------------------------
    async def handle(self, inb: Inbound, budget_s: float, passive_ok: bool = True,
                     want_transfer: bool = False) -> tuple[str, Answer | None]:
        """Answer a message once, whatever the number of WeChat retries.

        Args:
            inb: the verified message.
            budget_s: how long this request may wait for the answer (seconds).
            passive_ok: whether a passive text reply is allowed (official account: yes; mini-program: no).
            want_transfer: mini-program: answer ``transfer_customer_service`` when the citizen asked for a
                human helper.

        Returns:
            ``("passive", answer)`` — reply with ``answer.messages[0]`` now;
            ``("transfer", answer)`` — reply ``transfer_customer_service`` (the text follows by API);
            ``("success", None)`` — reply ``success`` (the answer, if any, goes by customer-service API).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, budget_s)
        key = inb.dedup_key
        self._gc()
        entry = self._pending.get(key)
        row = None
        if entry is None:
            row = await asyncio.to_thread(self._load_row, key)
            entry = self._pending.get(key)  # a retry of the same message may have started it meanwhile
        if entry is None:
            if row is not None and row["status"] != "processing":
                log_event(log, "wechat.retry.deduplicated", key=_log_key(key), status=row["status"],
                          delivery=row["delivery"])
                await asyncio.to_thread(self._bump_attempts, key)
                return _from_row(row, passive_ok)
            compute = self.compute_for(inb)
            if compute is None:
                await asyncio.to_thread(self._insert_row, inb, "done", "none")
                return "success", None
            if row is None:
                owned = await asyncio.to_thread(self._insert_row, inb, "processing")
            else:  # "processing": ours only when its owner's lease lapsed (that process died)
                owned = await asyncio.to_thread(self._take_over, key)
            if owned and row is not None:
                log_event(log, "wechat.lease.taken_over", key=_log_key(key))
            if not owned and key not in self._pending:  # another replica (or worker) computes it
                outcome = await self._follow_owner(key, deadline, passive_ok)
                if outcome is not None:
                    return outcome
                # None: the owner's lease lapsed while this retry waited — taken over, computed here
            if key in self._pending:  # started by a retry while the row was written
                return "success", None
            task = asyncio.create_task(self._safe_compute(compute, inb))
            entry = _Pending(key=key, openid=inb.openid, channel=inb.channel, task=task)
            self._pending[key] = entry
            task.add_done_callback(lambda _t, e=entry: self._settle(e))
            self._spawn(self._keep_lease(key, task))
            log_event(log, "wechat.message.received", channel=inb.channel, msg_type=inb.msg_type, key=_log_key(key))
        else:
            await asyncio.to_thread(self._bump_attempts, key)
            log_event(log, "wechat.retry.joined", key=_log_key(key), claimed=entry.claimed)
        if entry.claimed == "custom":
            return "success", None
        if passive_ok or want_transfer:
            entry.waiters += 1
            try:
                await asyncio.wait({entry.task}, timeout=max(0.0, deadline - loop.time()))
            finally:
                entry.waiters -= 1
        if entry.task.done() and entry.claimed in (None, "passive"):
            answer: Answer = entry.task.result()
            if not answer.messages:
                self._settle(entry)
                return "success", None
            if want_transfer and answer.wants_human and entry.claimed is None:
                entry.claimed = "custom"
                await asyncio.to_thread(self._finish_row, key, "queued", "custom", answer.messages, True)
                self._spawn(self._deliver(key, entry.openid, entry.channel, answer.messages, 0))
                log_event(log, "wechat.reply.transfer", key=_log_key(key))
                return "transfer", answer
            if passive_ok:
                entry.claimed = "passive"
                status = "answered" if len(answer.messages) == 1 else "queued"
                rest = answer.messages[1:] if len(answer.messages) > 1 and not entry.extra_sent else []
                entry.extra_sent = entry.extra_sent or bool(rest)
                # recorded before the reply leaves (a retry must find it answered); the rest goes by the API
                await asyncio.to_thread(self._finish_row, key, status, "passive", answer.messages)
                if rest:
                    self._spawn(self._deliver(key, entry.openid, entry.channel, rest, 1, delay_s=0.3))
                log_event(log, "wechat.reply.passive", key=_log_key(key), messages=len(answer.messages))
                return "passive", answer
        self._settle(entry)
        if not entry.task.done():
            log_event(log, "wechat.reply.deferred", key=_log_key(key), budget_s=budget_s)
        return "success", None

    async def _follow_owner(self, key: str, deadline: float, passive_ok: bool) -> tuple[str, Answer | None] | None:
        """A retry of a message another replica is computing (its lease is live): wait inside this request's
        budget for the owner's passive answer and repeat it (WeChat retries only when our reply did not reach it),
        else reply ``success`` — the owner sends the answer through the customer-service API once its own request
        has returned. Should the owner's lease lapse meanwhile (it died), the message is taken over here.

        Returns:
            what to reply, or ``None`` when this process took the message over and must compute it.
        """
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._bump_attempts, key)
        log_event(log, "wechat.retry.elsewhere", key=_log_key(key))
        while True:
            row = await asyncio.to_thread(self._load_row, key)
            if row is not None and row["status"] != "processing":
                return _from_row(row, passive_ok)
            if row is not None and await asyncio.to_thread(self._take_over, key):
                log_event(log, "wechat.lease.taken_over", key=_log_key(key))
                return None
            left = deadline - loop.time()
            if row is None or not passive_ok or left <= 0:
                return "success", None
            await asyncio.sleep(min(_FOLLOW_POLL_S, left))

    async def _keep_lease(self, key: str, task: asyncio.Task) -> None:
        """Renew this process's lease on ``key`` while its answer is computed (every third of the lease)."""
        every = self.settings.wechat_lease_s / 3
        while not task.done():
            await asyncio.wait({task}, timeout=every)
            if task.done():
                return
            try:
                await asyncio.to_thread(self._renew_lease, key)
            except Exception as exc:  # the next renewal may succeed; a lapse only lets a retry take over
                log_event(log, "wechat.lease.renew_failed", key=_log_key(key), error=type(exc).__name__)

    async def _safe_compute(self, compute: Callable[[], Awaitable[Answer]], inb: Inbound) -> Answer:
        started = time.perf_counter()
        try:
            answer = await compute()
        except Exception as exc:  # the citizen still gets an answer; the error is logged
            log.exception("wechat.answer.failed")
            log_event(log, "wechat.answer.error", channel=inb.channel, error=exc.__class__.__name__)
            answer = Answer([TEXT_ERROR])
        log_event(log, "wechat.answer.ready", channel=inb.channel, ms=int((time.perf_counter() - started) * 1000),
                  messages=len(answer.messages))
        return answer

    def _settle(self, entry: _Pending) -> None:
        """Hand a finished answer nobody is waiting for to the customer-service API (exactly once)."""
        if not entry.task.done() or entry.claimed is not None or entry.waiters > 0:
            return
        entry.finished_at = time.monotonic()
        entry.claimed = "custom"
        if entry.task.cancelled():
            self._spawn(self._finish_then_deliver(entry.key, "failed", None, None))
            return
        answer: Answer = entry.task.result()
        if not answer.messages:
            self._spawn(self._finish_then_deliver(entry.key, "done", "none", []))
            return
        self._spawn(self._finish_then_deliver(entry.key, "queued", "custom", answer.messages, entry.openid,
                                              entry.channel, answer.messages, 0))

    async def _finish_then_deliver(self, key: str, status: str, delivery: str | None, chunks: list[str] | None,
                                   openid: str = "", channel: str = "", messages: list[str] | None = None,
                                   first_seq: int = 0, transferred: bool = False, delay_s: float = 0.0) -> None:
        """Record how a message was answered, then send what must go by the customer-service API (in this
        order, off the event loop)."""
        await asyncio.to_thread(self._finish_row, key, status, delivery, chunks, transferred)
        if messages:
            await self._deliver(key, openid, channel, messages, first_seq, delay_s=delay_s)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _gc(self) -> None:
        now = time.monotonic()
        for k, e in list(self._pending.items()):
            if e.claimed and e.task.done() and e.finished_at and now - e.finished_at > _PENDING_TTL_S:
                del self._pending[k]
            elif e.claimed and not e.finished_at:
                e.finished_at = now

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for running answers and deliveries (tests, shutdown)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            running = [e.task for e in self._pending.values() if not e.task.done()] + list(self._tasks)
            if not running:
                return
            await asyncio.wait(running, timeout=max(0.01, end - time.monotonic()))

    # ---- customer-service delivery ------------------------------------------------------------------------
    async def _deliver(self, key: str | None, openid: str, channel: str, messages: list[str], first_seq: int,
                       delay_s: float = 0.0) -> str:
        """Send ``messages`` via ``message/custom/send`` and record each outcome.

        Returns:
            ``delivered``, ``undeliverable`` or ``failed``.
        """
        if delay_s:
            await asyncio.sleep(delay_s)
        outcome = "delivered"
        for i, content in enumerate(messages):
            seq = first_seq + i
            if key and await asyncio.to_thread(self._already_sent, key, seq):
                continue
            errcode, errmsg, status = None, None, "sent"
            for attempt, pause in enumerate((0.0, *self.send_retry_delays)):
                if pause:
                    await asyncio.sleep(pause)
                try:
                    await self.api.send_text(openid, content)
                    status, errcode, errmsg = "sent", None, None
                    break
                except Undeliverable as exc:
                    status, errcode, errmsg = "undeliverable", exc.errcode, exc.errmsg
                    break
                except WeChatAPIError as exc:
                    status, errcode, errmsg = "failed", exc.errcode, exc.errmsg
            await asyncio.to_thread(self._record_delivery, key, openid, channel, seq, content, status, errcode,
                                    errmsg)
            log_event(log, f"wechat.delivery.{status}", key=_log_key(key), seq=seq, errcode=errcode)
            if status != "sent":
                outcome = "undeliverable" if status == "undeliverable" else "failed"
                break
        if key:
            await asyncio.to_thread(self._set_status, key, outcome)
        return outcome

    # ---- database helpers -----------------------------------------------------------------------------
    def _load_row(self, key: str) -> dict[str, Any] | None:
        with self.db.session() as s:
            r = s.get(WeChatInbound, key)
            if r is None:
                return None
            return {"status": r.status, "delivery": r.delivery, "reply_chunks": r.reply_chunks}

    def _lease_end(self) -> Any:
        return utcnow() + timedelta(seconds=self.settings.wechat_lease_s)

    def _insert_row(self, inb: Inbound, status: str, delivery: str | None = None) -> bool:
        try:
            with self.db.session() as s:
                s.add(WeChatInbound(dedup_key=inb.dedup_key, channel=inb.channel, openid=inb.openid,
                                    msg_type=inb.msg_type[:32] or "?", status=status, delivery=delivery,
                                    lease_until=self._lease_end() if status == "processing" else None))
            return True
        except IntegrityError:
            return False

    def _take_over(self, key: str) -> bool:
        """Claim a ``processing`` row whose lease lapsed (or that has none): one compare-and-set, so of several
        replicas trying at once exactly one wins. Counts the attempt."""
        now = utcnow()
        with self.db.session() as s:
            res = s.execute(
                update(WeChatInbound)
                .where(WeChatInbound.dedup_key == key, WeChatInbound.status == "processing",
                       or_(WeChatInbound.lease_until.is_(None), WeChatInbound.lease_until < now))
                .values(lease_until=now + timedelta(seconds=self.settings.wechat_lease_s),
                        attempts=WeChatInbound.attempts + 1, updated_at=now)
                .execution_options(synchronize_session=False))
            return res.rowcount == 1

    def _renew_lease(self, key: str) -> None:
        with self.db.session() as s:
            s.execute(update(WeChatInbound)
                      .where(WeChatInbound.dedup_key == key, WeChatInbound.status == "processing")
                      .values(lease_until=self._lease_end())
                      .execution_options(synchronize_session=False))

    def _bump_attempts(self, key: str) -> None:
        with self.db.session() as s:
            r = s.get(WeChatInbound, key)
            if r is not None:
                r.attempts = (r.attempts or 1) + 1

    def _finish_row(self, key: str, status: str, delivery: str | None, chunks: list[str] | None,
                    transferred: bool = False) -> None:
        with self.db.session() as s:
            r = s.get(WeChatInbound, key)
            if r is not None:
                r.status, r.delivery, r.reply_chunks = status, delivery, mask_data(chunks)
                r.transferred = transferred or r.transferred
                r.updated_at = utcnow()

    def _set_status(self, key: str, status: str) -> None:
        with self.db.session() as s:
            r = s.get(WeChatInbound, key)
            if r is not None:
                r.status, r.updated_at = status, utcnow()

    def _already_sent(self, key: str, seq: int) -> bool:
        with self.db.session() as s:
            return s.scalars(select(WeChatDelivery.id).where(
                WeChatDelivery.dedup_key == key, WeChatDelivery.seq == seq,
                WeChatDelivery.status == "sent")).first() is not None

    def _record_delivery(self, key: str | None, openid: str, channel: str, seq: int, content: str, status: str,
                         errcode: int | None, errmsg: str | None) -> None:
        with self.db.session() as s:
            s.add(WeChatDelivery(dedup_key=key, openid=openid, channel=channel, seq=seq, content=mask_pii(content),
                                 status=status, errcode=errcode, errmsg=(errmsg or None) and errmsg[:255]))

    # ---- staff replies ---------------------------------------------------------------------------------
    async def deliver_parts(self, session_id: str, parts: list[dict[str, Any]]) -> str | None:
        """Send reply parts (a staff message) to the WeChat user of ``session_id``.

        Returns:
            ``None`` when the session is not a WeChat one; else ``delivered`` / ``undeliverable`` / ``failed``.
        """
        found = await asyncio.to_thread(self.openid_for_session, session_id)
        if found is None:
            return None
        openid, channel = found
        rendered = render_parts(parts)
        return await self._deliver(None, openid, channel, rendered.messages, 0)


# --------------------------------------------------------------------------------------------------------
# helpers


def _log_key(key: str | None) -> str | None:
    """A dedup key fit for logs: the OpenID inside event keys is replaced by its keyed hash."""
    if not key or ":ev:" not in key:
        return key
    head, rest = key.split(":ev:", 1)
    openid, _, tail = rest.partition(":")
    return f"{head}:ev:{pseudonym(openid, 'o')}:{tail}"


def _reject(status: int, error: str, message: str) -> None:
    raise ApiError(status, error, message)


def _from_row(row: dict[str, Any], passive_ok: bool) -> tuple[str, Answer | None]:
    """The reply to a retry of a message already answered: WeChat retries only when it did not receive our reply,
    so a passive answer is given again; anything else (sent by the customer-service API, or nothing) is
    ``success``."""
    if row["delivery"] == "passive" and row["reply_chunks"] and passive_ok:
        return "passive", Answer(list(row["reply_chunks"]))
    return "success", None


async def _static(text: str) -> Answer:
    return Answer([text])


def _parse_body(body: bytes, fmt: str) -> dict[str, Any]:
    if fmt == "json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            _reject(400, "malformed_json", "消息不是合法的 JSON / the body is not valid JSON")
        if not isinstance(data, dict):
            _reject(400, "malformed_json", "消息必须是 JSON 对象 / the body must be a JSON object")
        return data
    try:
        return parse_wechat_xml(body)
    except XMLRefused as exc:
        log_event(log, "wechat.request.rejected", reason="bad_xml", detail=str(exc))
        _reject(400, "bad_xml", f"消息 XML 无法解析 / {exc}")
    raise AssertionError  # pragma: no cover


def _checked(inb: Inbound) -> Inbound:
    if not inb.openid or not inb.msg_type:
        _reject(400, "missing_fields", "消息缺少 FromUserName 或 MsgType / FromUserName or MsgType missing")
    if len(inb.openid) > 128:
        _reject(400, "bad_openid", "FromUserName 过长 / FromUserName too long")
    return inb


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the request body, refusing more than ``limit`` bytes with 413 (without reading it all)."""
    cl = request.headers.get("content-length", "")
    if cl.isdigit() and int(cl) > limit:
        log_event(log, "wechat.request.rejected", reason="too_large", bytes=int(cl))
        _reject(413, "body_too_large", f"消息过大（上限 {limit} 字节）/ body larger than {limit} bytes")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            log_event(log, "wechat.request.rejected", reason="too_large", bytes=len(buf))
            _reject(413, "body_too_large", f"消息过大（上限 {limit} 字节）/ body larger than {limit} bytes")
    return bytes(buf)


def amr_to_pcm16k(audio: bytes, timeout_s: float = 30.0) -> bytes:
    """Decode a WeChat voice message (AMR, or any format ffmpeg reads) to 16 kHz mono 16-bit PCM.

    Args:
        audio: the media file's bytes.
        timeout_s: ffmpeg's time limit.

    Raises:
        ValueError: ffmpeg is missing or cannot decode the audio.
    """
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise ValueError("ffmpeg is not installed")
    proc = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-f", "s16le",
                           "-ac", "1", "-ar", "16000", "pipe:1"], input=audio, capture_output=True,
                          timeout=timeout_s, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise ValueError("audio could not be decoded")
    return proc.stdout


def runtime_for(services: Any) -> WeChatRuntime:
    """The :class:`WeChatRuntime` of ``services`` (kept in ``services.wechat``, created once).

    Args:
        services: the app's ``Services``.
    """
    if services.wechat is None:
        services.wechat = WeChatRuntime(services.settings, services.db, None, services=services)
    return services.wechat


def get_runtime(request_or_app: Any) -> WeChatRuntime:
    """The app's :class:`WeChatRuntime`, created on first use from ``app.state.services``.

    Args:
        request_or_app: a Starlette ``Request`` or the FastAPI app.
    """
    app = getattr(request_or_app, "app", request_or_app)
    rt = getattr(app.state, "wechat", None)
    if rt is None:
        rt = runtime_for(app.state.services)
        app.state.wechat = rt
    return rt


async def deliver(services: Any, session_id: str, parts: list[dict[str, Any]]) -> str | None:
    """Deliver reply parts (e.g. a staff message) to a WeChat user — the hook for staff replies.

    Call it after ``HandoffStore.reply`` for the ticket's session::

        await wechat_mp.deliver(services, ticket.session_id,
                                [{"type": "staff", "text": msg.text, "staff_name": msg.staff_name}])

    Args:
        services: the app's ``Services``.
        session_id: the conversation id of the ticket.
        parts: reply parts to send.

    Returns:
        ``None`` for a non-WeChat session; else ``delivered`` / ``undeliverable`` / ``failed``.
    """
    return await runtime_for(services).deliver_parts(session_id, parts)


def register_outbox(services: Any) -> None:
    """Register WeChat's customer-service sender in the app's outbox for both WeChat channels (the official
    account and the mini-program share the openid-bound sessions)."""
    async def _send(session_id: str, parts: list[dict[str, Any]]) -> str | None:
        return await deliver(services, session_id, parts)

    services.outbox.register(("wechat_mp", "miniprogram"), _send,
                             lambda session_id, parts: schedule_delivery(services, session_id, parts))


def schedule_delivery(services: Any, session_id: str, parts: list[dict[str, Any]]) -> bool:
    """Like :func:`deliver` but in the background (the staff API answers at once); call from a coroutine. A
    session that is not a WeChat one is left alone by :meth:`WeChatRuntime.deliver_parts`.

    Returns:
        ``True`` (the delivery was scheduled).
    """
    rt = runtime_for(services)
    rt._spawn(rt.deliver_parts(session_id, parts))
    return True


# --------------------------------------------------------------------------------------------------------
# routes

router = APIRouter(tags=["wechat"])


@router.get("/wechat/mp", response_class=PlainTextResponse, summary="WeChat server-configuration check")
async def verify(request: Request) -> PlainTextResponse:
    """The console's URL check: echo ``echostr`` when ``signature`` matches token/timestamp/nonce."""
    rt = get_runtime(request)
    q = dict(request.query_params)
    rt.verify_query(q)
    echostr = q.get("echostr")
    if not echostr:
        _reject(400, "missing_echostr", "缺少 echostr / echostr missing")
    log_event(log, "wechat.server.verified", channel="wechat_mp")
    return PlainTextResponse(echostr)


@router.post("/wechat/mp", summary="WeChat official-account messages (XML)")
async def receive(request: Request) -> Response:
    """A message or event from WeChat: a passive reply inside the budget, otherwise ``success``."""
    started = time.monotonic()
    rt = get_runtime(request)
    body = await read_body(request)
    inb = rt.open_envelope("wechat_mp", dict(request.query_params), body)
    budget = rt.settings.wechat_reply_budget_s - (time.monotonic() - started)
    kind, answer = await rt.handle(inb, budget, passive_ok=True)
    if kind == "passive" and answer is not None:
        return rt.reply_body(inb, {"MsgType": "text", "Content": answer.messages[0]})
    return PlainTextResponse("success")
