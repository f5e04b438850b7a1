"""The one entry point every channel uses: ``await Assistant.chat(session_id, text, channel)``.

A turn: normalise the text (strip, drop control characters, traditional → simplified, cap the length with a
notice) → send it to the Rasa server (REST channel) → turn Rasa's messages into reply parts → read the matter
from the tracker slots and the intent from the NLU parse recorded by ``/nlu/model/parse`` → store the turn
(masked) → ``ChatResponse``.

When Rasa is unreachable, times out or returns nothing, the turn is answered directly from the NLU and the KB
(matter card, top-3 choices or a polite redirect) with a ``notice`` part and an offer of a human helper. A turn
never raises for bad input or a missing backend.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant.logging import get_logger, log_event

if TYPE_CHECKING:  # pragma: no cover
    from assistant.container import Services

log = get_logger(__name__)

#: Longest text handed to the NLU/Rasa; the rest is dropped with a notice.
MAX_CHARS = 500
#: Longest text the HTTP API accepts at all (bigger bodies are rejected with 413 before any work).
MAX_ACCEPTED_CHARS = 20_000

#: Seconds during which turns go straight to the fallback after Rasa timed out (a refused connection is
#: instant and does not trip this).
RASA_TIMEOUT_BREAK_S = 15.0

PART_TYPES = {"text", "notice", "matter_card", "checklist", "buttons", "handoff", "staff"}
FOLLOW_UP_INTENTS = {"ask_materials", "ask_location", "ask_time", "ask_fee"}
FAILED_INTENTS = {"nlu_fallback", "out_of_scope"}

NOTICE_RASA_DOWN = "智能导办暂时不可用，以下是根据办事指南检索到的结果，仅供参考；如需帮助可以转人工。"
NOTICE_UNVERIFIED = "办事指南信息仅供参考，请以政务服务网和窗口最新要求为准。"
TEXT_EMPTY = "您好，我是金小二。请告诉我您想办理什么事，比如“办居住证要带啥材料”。"
TEXT_NO_CONTENT = "没太看懂您的意思😊 请用文字说说您要办的事，比如“营业执照怎么办”。"
TEXT_NON_CHINESE = ("抱歉，金小二目前只能看懂中文。请用中文描述您要办的事，比如“社保卡丢了怎么补办”。"
                    "（Sorry, I can only understand questions in Chinese for now.）")
TEXT_OOS = ("抱歉，这个问题不在政务服务办理范围内，金小二答不了。您可以问我办事需要的材料、地点、时间和费用，"
            "比如“开餐馆要办哪些证”，或者转人工咨询。")
TEXT_NOT_FOUND = "抱歉，没有找到和您的问题对应的办事事项。您可以换个说法，或者转人工由金帮办专员帮您。"
TEXT_LOADING = "金小二正在启动，知识库还没有准备好，请稍后再试，或者转人工咨询。"
TEXT_HANDOFF = "已为您转接金帮办专员（{level}），工单号 {id}。专员回复后会直接显示在这里，请稍候。"
TEXT_SMALLTALK = {
    "greet": "您好！我是金牛区政务服务智能导办金小二，请问您想办理什么事？",
    "goodbye": "再见，祝您办事顺利！",
    "thanks": "不客气，还有其他要办的事随时问我。",
    "affirm": "好的。请问还有什么需要帮忙的？",
    "deny": "好的。您可以换个说法描述您要办的事。",
    "chitchat": "我是政务服务导办助手金小二，主要帮您查询办事材料、地点、时间和费用。请问您想办理什么事？",
}


# --------------------------------------------------------------------------------------------------------
# response model


class MatterRef(BaseModel):
    """The matter a conversation is about."""

    code: str
    name: str = ""


class ChatResponse(BaseModel):
    """One answer of 金小二.

    Attributes:
        session_id: the conversation.
        replies: reply parts (``{"type": "text"|"notice"|"matter_card"|"checklist"|"buttons"|"handoff"|"staff", …}``).
        matter: the conversation's matter after this turn.
        intent: the recognised intent of the citizen's message (``""`` when unknown).
        handoff: the open human-helper ticket ``{"id", "level", "status"}`` when this turn created/refers to one.
        degraded: ``True`` when the answer came from the knowledge search because Rasa was unavailable.
        message_id: id of the stored bot message (poll ``/messages?after=`` from here).
    """

    session_id: str
    replies: list[dict[str, Any]] = Field(default_factory=list)
    matter: MatterRef | None = None
    intent: str = ""
    handoff: dict[str, Any] | None = None
    degraded: bool = False
    message_id: int | None = None


# --------------------------------------------------------------------------------------------------------
# input normalisation

try:  # traditional → simplified (OpenCC); optional: without it the text goes on unchanged
    import opencc as _opencc

    _T2S = _opencc.OpenCC("t2s")
except Exception:  # pragma: no cover - depends on the install
    _T2S = None

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WS = re.compile(r"\s+")


@dataclass
class NormalizedText:
    """The result of :func:`normalize_input`.

    Attributes:
        text: the cleaned text sent on.
        kind: ``ok``, ``empty`` (nothing left), ``no_content`` (only emoji/punctuation), ``non_chinese`` (letters
            but no Chinese), ``payload`` (a button payload ``/intent{…}``).
        notices: notices for the citizen (e.g. the text was cut).
        original_chars: length of the text as received.
    """

    text: str
    kind: str = "ok"
    notices: list[str] = field(default_factory=list)
    original_chars: int = 0


#: A code citizens type as an answer (licence number JY15101060012345, booking number SM261201AB3K, plate
#: 川A…): letters and digits with at least 4 digits and no English word — not "non-Chinese" text.
_IDENTIFIER = re.compile(r"^(?=(?:.*\d){4})(?!.*[A-Za-z]{5})[A-Za-z0-9\s\-_/.#]{4,40}$")


def normalize_input(raw: str, max_chars: int = MAX_CHARS) -> NormalizedText:
    """Clean a citizen's text.

    Args:
        raw: the text as received from any channel.
        max_chars: the longest text passed on; longer text is cut with a notice.

    Returns:
        The cleaned text and what kind of input it was (see :class:`NormalizedText`).
    """
    raw = raw if isinstance(raw, str) else str(raw or "")
    n = len(raw)
    out = []
    for ch in unicodedata.normalize("NFKC", raw):
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" ")  # tabs, newlines, NUL, ESC … all become a space
        elif cat in {"Cf", "Cs", "Co", "Cn"} and ch not in "\u200d\ufe0f":
            continue  # zero-width, bidi overrides, lone surrogates, private use, unassigned
        else:
            out.append(ch)
    text = _WS.sub(" ", "".join(out)).strip()
    if not text:
        return NormalizedText("", "empty", [], n)
    if text.startswith("/") and re.match(r"^/[A-Za-z_][\w]*(\{.*\})?$", text):
        return NormalizedText(text[:max_chars], "payload", [], n)
    notices = []
    if len(text) > max_chars:
        notices.append(f"您的消息较长（{len(text)}字），金小二只看了前{max_chars}字。")
        text = text[:max_chars].rstrip()
    if _T2S is not None and _CJK.search(text):
        text = _T2S.convert(text)
    has_cjk = bool(_CJK.search(text))
    has_word = any(unicodedata.category(c)[0] in "LN" for c in text)
    if not has_word:
        return NormalizedText(text, "no_content", notices, n)
    if not has_cjk and any(c.isascii() and c.isalpha() for c in text) and not _IDENTIFIER.match(text):
        return NormalizedText(text, "non_chinese", notices, n)
    return NormalizedText(text, "ok", notices, n)


# --------------------------------------------------------------------------------------------------------
# reply parts built from the KB (also used by custom actions)


def payload(intent: str, matter_code: str | None = None) -> str:
    """A button payload ``/intent{"matter": "<code>"}`` (or ``/intent``)."""
    if matter_code:
        return f"/{intent}" + json.dumps({"matter": matter_code}, ensure_ascii=False)
    return f"/{intent}"


def matter_card_part(m: Any) -> dict[str, Any]:
    """The ``matter_card`` reply part for a ``knowledge.schema.Matter``."""
    place = m.places[0] if getattr(m, "places", None) else None
    return {"type": "matter_card", "matter": {
        "code": m.code, "name": m.name, "department": m.department, "matter_type": m.matter_type,
        "place": (f"{place.name}（{place.window}）" if place.window else place.name) if place else "",
        "address": place.address if place else "",
        "hours": place.hours if place else "", "promised_time_limit": m.promised_time_limit,
        "legal_time_limit": m.legal_time_limit, "fee": m.fee, "online_link": m.online_link,
        "consult_phone": m.consult_phone or (place.phone if place else ""), "verified": bool(m.verified),
        "level": m.level,
    }}


def checklist_part(m: Any) -> dict[str, Any]:
    """The ``checklist`` reply part (材料清单) for a ``knowledge.schema.Matter``."""
    return {"type": "checklist", "matter": {"code": m.code, "name": m.name}, "items": [
        {"name": x.name, "form": x.form, "copies": x.copies, "requirement": x.requirement, "note": x.note}
        for x in m.materials]}


def matter_buttons(m: Any) -> dict[str, Any]:
    """The follow-up buttons under a matter card: 材料清单 / 办理地点 / 转人工."""
    return {"type": "buttons", "buttons": [
        {"title": "材料清单", "payload": payload("ask_materials", m.code)},
        {"title": "办理地点", "payload": payload("ask_location", m.code)},
        {"title": "转人工", "payload": payload("request_human")},
    ]}


def _sanitize_part(part: Any) -> dict[str, Any] | None:
    if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
        return None
    t = part["type"]
    if t in {"text", "notice", "staff"} and not isinstance(part.get("text"), str):
        return None
    if t == "buttons":
        buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                   for b in part.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
        return {"type": "buttons", "buttons": buttons} if buttons else None
    if t in {"matter_card", "checklist"} and not isinstance(part.get("matter"), dict):
        return None
    if t == "handoff" and not isinstance(part.get("ticket"), dict):
        return None
    return part


def rasa_messages_to_parts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn the Rasa REST channel's messages into reply parts.

    Args:
        messages: Rasa's ``/webhooks/rest/webhook`` answer: ``[{"recipient_id", "text"?, "buttons"?,
            "custom"?, "image"?}]``; ``custom`` is one reply part or a list of them.

    Returns:
        Reply parts in order; unknown shapes are dropped (and logged).
    """
    parts: list[dict[str, Any]] = []
    for msg in messages or []:
        if not isinstance(msg, dict):
            continue
        if isinstance(msg.get("text"), str) and msg["text"].strip():
            parts.append({"type": "text", "text": msg["text"]})
        if msg.get("buttons"):
            p = _sanitize_part({"type": "buttons", "buttons": msg["buttons"]})
            if p:
                parts.append(p)
        custom = msg.get("custom")
        if custom is not None:
            for c in custom if isinstance(custom, list) else [custom]:
                p = _sanitize_part(c)
                if p:
                    parts.append(p)
                else:
                    log_event(log, "chat.rasa.part_dropped", shape=str(c)[:200])
        if msg.get("image"):
            parts.append({"type": "text", "text": str(msg["image"])})
    return parts


# --------------------------------------------------------------------------------------------------------
# parses recorded by /nlu/model/parse


class ParseRecorder:
    """The last NLU parse per sender (Rasa calls ``/nlu/model/parse`` with ``message_id`` = sender id).

    Args:
        capacity: how many senders to remember (oldest dropped first).
    """

    def __init__(self, capacity: int = 10_000):
        self._d: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = Lock()
        self.capacity = capacity

    def record(self, sender: str | None, parse: dict[str, Any]) -> None:
        """Remember ``parse`` as the last parse of ``sender``."""
        if not sender:
            return
        with self._lock:
            self._d[sender] = parse
            self._d.move_to_end(sender)
            while len(self._d) > self.capacity:
                self._d.popitem(last=False)

    def pop(self, sender: str) -> dict[str, Any] | None:
        """Take (and forget) the last parse of ``sender``."""
        with self._lock:
            return self._d.pop(sender, None)

    def peek(self, sender: str) -> dict[str, Any] | None:
        """The last parse of ``sender`` without forgetting it."""
        with self._lock:
            return self._d.get(sender)


_GENERIC = set("办理 需要 材料 准备 哪些 什么 多少 哪里 时间 地方 登记 申请 证明 手续 东西 怎么 如何 可以 一下 "
               "服务 业务 信息 办证 证件 资料 要带 费用 收费 地点 窗口 多久 几天".split())


def _bigrams(text: str) -> set[str]:
    cjk = "".join(c for c in text if _CJK.match(c))
    return {cjk[i:i + 2] for i in range(len(cjk) - 1)} - _GENERIC


def mentions(matter: Any, text: str) -> bool:
    """Whether ``text`` names ``matter`` (shares a non-generic two-character word with its name, an alias or a
    colloquial form). Used to tell "那要带啥材料" (same matter) from "那个体户注销呢" (a new one).

    Args:
        matter: a ``knowledge.schema.Matter``.
        text: the citizen's text.
    """
    if getattr(matter, "code", None) and matter.code in text:
        return True
    words = _bigrams(text)
    names = [matter.name, *getattr(matter, "aliases", []), *getattr(matter, "colloquial", [])]
    return any(words & _bigrams(n) for n in names)


_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_]\w*)(?P<ents>\{.*\})?$", re.S)


def parse_payload(text: str, kb: Any) -> dict[str, Any] | None:
    """Parse a button payload ``/intent{"matter": "<code>"}`` without the NLU (used by the fallback path).

    Args:
        text: the message text.
        kb: the KnowledgeBase (matter codes are validated against it; ``None`` drops the matter).

    Returns:
        A parse in the NLU's format, or ``None`` when ``text`` is not a payload.
    """
    m = _PAYLOAD.match(text.strip())
    if not m:
        return None
    entities = []
    if m.group("ents"):
        try:
            ents = json.loads(m.group("ents"))
        except ValueError:
            ents = {}
        code = ents.get("matter") if isinstance(ents, dict) else None
        if isinstance(code, str) and kb is not None and kb.get(code) is not None:
            entities.append({"entity": "matter", "value": code, "start": 0, "end": len(text),
                             "confidence_entity": 1.0, "extractor": "payload"})
    return {"text": text, "intent": {"name": m.group("intent"), "confidence": 1.0}, "entities": entities,
            "matters": [], "out_of_scope": False, "ambiguous": False}


async def maybe_await(value: Any) -> Any:
    """``await value`` when it is awaitable, else ``value`` (clients may be sync or async)."""
    return await value if inspect.isawaitable(value) else value


class _RasaDown(Exception):
    pass


# --------------------------------------------------------------------------------------------------------


class Assistant:
    """The assistant every channel talks to.

    Args:
        services: the app's :class:`assistant.container.Services` (KB, NLU, Rasa client, stores).
    """

    def __init__(self, services: "Services"):
        self.services = services
        #: After a Rasa timeout, turns skip Rasa until this ``time.monotonic()`` value.
        self._skip_rasa_until = 0.0

    # ---- public -------------------------------------------------------------------------------------
    async def chat(self, session_id: str, text: str, channel: str = "web",
                   metadata: dict[str, Any] | None = None) -> ChatResponse:
        """Answer one message of a citizen.

        Args:
            session_id: the conversation id (a new id starts a new conversation).
            text: what the citizen typed/said (any string; it is cleaned here).
            channel: ``web``, ``kiosk``, ``wechat``, ``widget`` … (stored and passed to Rasa as metadata).
            metadata: extra per-message data for Rasa (e.g. the WeChat openid).

        Returns:
            The answer; never raises for bad input or an unreachable Rasa.
        """
        t0 = time.perf_counter()
        norm = normalize_input(text)
        degraded = False
        reason = ""
        if norm.kind in {"empty", "no_content", "non_chinese"}:
            replies = [{"type": "text", "text": {"empty": TEXT_EMPTY, "no_content": TEXT_NO_CONTENT,
                                                  "non_chinese": TEXT_NON_CHINESE}[norm.kind]}]
            intent, matter, handoff = "nlu_fallback", None, None
        else:
            try:
                replies, intent, matter, handoff = await self._via_rasa(session_id, norm.text, channel, metadata)
            except _RasaDown as exc:
                reason = str(exc) or "rasa_unavailable"
                degraded = True
                try:
                    replies, intent, matter, handoff = await self._fallback(session_id, norm.text, channel, reason)
                except Exception:  # NLU or database failure inside the fallback: still answer
                    log.exception("chat.fallback.failed")
                    replies = [{"type": "notice", "text": NOTICE_RASA_DOWN}, {"type": "text", "text": TEXT_NOT_FOUND}]
                    intent, matter, handoff = "", None, None
                if handoff is None and not any(
                        p["type"] == "buttons" and any(b["payload"] == "/request_human" for b in p["buttons"])
                        for p in replies):
                    replies.append({"type": "buttons",
                                    "buttons": [{"title": "转人工", "payload": payload("request_human")}]})
        replies = [{"type": "notice", "text": n} for n in norm.notices] + replies
        if matter is None and not degraded:
            try:
                matter = await run_in_threadpool(self.services.conversations.current_matter, session_id)
            except Exception:
                log.exception("chat.turn.context_failed")
        try:
            message_id = await run_in_threadpool(
                self.services.conversations.record_turn, session_id, channel, norm.text, replies, intent,
                matter)
        except Exception:  # the database is down: the citizen still gets the answer
            log.exception("chat.turn.store_failed")
            message_id = None
        ms = round((time.perf_counter() - t0) * 1000, 1)
        log_event(log, "chat.turn.completed", session=session_id, channel=channel, kind=norm.kind,
                  intent=intent, matter=(matter or {}).get("code"), degraded=degraded, reason=reason,
                  handoff=(handoff or {}).get("id"), parts=len(replies), ms=ms)
        return ChatResponse(session_id=session_id, replies=replies,
                            matter=MatterRef(**matter) if matter else None, intent=intent or "",
                            handoff=handoff, degraded=degraded, message_id=message_id)

    async def append_bot_utterance(self, session_id: str, text: str, staff_name: str = "") -> bool:
        """Append a staff message to the Rasa tracker as a bot utterance so Rasa's transcript is whole.

        Args:
            session_id: the Rasa sender id.
            text: the staff message.
            staff_name: who wrote it (kept in the event metadata).

        Returns:
            ``True`` when Rasa took the event; ``False`` when Rasa is unreachable (the message is still
            delivered to the citizen from the app database).
        """
        url = f"{self.services.settings.rasa_url.rstrip('/')}/conversations/{session_id}/tracker/events"
        event = {"event": "bot", "text": text, "timestamp": time.time(),
                 "metadata": {"staff_name": staff_name, "source": "staff"}}
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                r = await client.post(url, json=[event])
            ok = r.status_code < 300
        except httpx.HTTPError:
            ok = False
        log_event(log, "handoff.tracker.appended" if ok else "handoff.tracker.append_failed",
                  session=session_id)
        return ok

    # ---- Rasa path ----------------------------------------------------------------------------------
    async def _via_rasa(self, session_id: str, text: str, channel: str, metadata: dict[str, Any] | None):
        s = self.services
        rasa = s.rasa
        if rasa is None:
            raise _RasaDown("rasa_not_configured")
        if time.monotonic() < self._skip_rasa_until:
            # Rasa timed out a moment ago: answer at once instead of making every citizen wait the timeout
            raise _RasaDown("rasa_timeout_recent")
        meta = {**(metadata or {}), "channel": channel}
        s.parses.pop(session_id)
        try:
            messages = await asyncio.wait_for(maybe_await(rasa.send(session_id, text, meta)),
                                              timeout=s.settings.rasa_timeout_s)
        except Exception as exc:  # RasaUnavailable, timeouts, connection errors, bad answers
            timed_out = isinstance(exc, asyncio.TimeoutError) or getattr(exc, "reason", "") == "timeout"
            if timed_out:
                self._skip_rasa_until = time.monotonic() + RASA_TIMEOUT_BREAK_S
            log_event(log, "chat.rasa.unavailable", session=session_id, error=type(exc).__name__,
                      timed_out=timed_out, detail=str(exc)[:200])
            raise _RasaDown("rasa_timeout" if timed_out else "rasa_unavailable") from None
        self._skip_rasa_until = 0.0
        parts = rasa_messages_to_parts(messages if isinstance(messages, list) else [])
        parse = s.parses.pop(session_id) or {}
        tracker: dict[str, Any] = {}
        try:
            tracker = await asyncio.wait_for(maybe_await(rasa.tracker(session_id)), timeout=3.0) or {}
        except Exception as exc:
            log_event(log, "chat.rasa.tracker_failed", session=session_id, error=type(exc).__name__)
        intent = (parse.get("intent") or {}).get("name") or \
            ((tracker.get("latest_message") or {}).get("intent") or {}).get("name") or ""
        if not parts:
            # Rasa answered nothing (e.g. no action predicted, or NLU failure): answer from the KB instead.
            log_event(log, "chat.rasa.empty_reply", session=session_id, intent=intent)
            replies, intent2, matter, handoff = await self._fallback(session_id, text, channel, "rasa_empty")
            return replies, intent or intent2, matter, handoff
        slots = tracker.get("slots") or {}
        matter = None
        if slots.get("matter_code"):
            matter = {"code": str(slots["matter_code"]), "name": str(slots.get("matter_name") or "")}
            if not matter["name"] and s.kb is not None:
                m = s.kb.get(matter["code"])
                matter["name"] = m.name if m else ""
        handoff = next((p["ticket"] for p in parts if p["type"] == "handoff"), None)
        return parts, intent, matter, handoff

    # ---- fallback: NLU + KB directly -----------------------------------------------------------------
    async def _fallback(self, session_id: str, text: str, channel: str, reason: str):
        s = self.services
        notice = [{"type": "notice", "text": NOTICE_RASA_DOWN}] if reason != "rasa_empty" else []
        human = {"type": "buttons", "buttons": [{"title": "转人工", "payload": payload("request_human")}]}
        parse = parse_payload(text, s.kb)
        if parse is None and (s.nlu is None or s.kb is None):
            return notice + [{"type": "text", "text": TEXT_LOADING}, human], "", None, None
        if parse is None:
            parse = await run_in_threadpool(s.nlu.parse, text)
        intent = ((parse.get("intent") or {}).get("name")) or "nlu_fallback"
        codes = [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == "matter"]
        matters = [m for m in (s.kb.get(c) for c in codes if c) if m is not None]
        matter_obj = matters[0] if matters else None
        if intent in FOLLOW_UP_INTENTS | {"request_human"}:
            cur = await run_in_threadpool(s.conversations.current_matter, session_id)
            cur_obj = s.kb.get(cur["code"]) if cur else None
            # a follow-up ("那要带啥材料") keeps the conversation's matter unless the text names another one
            if cur_obj is not None and (matter_obj is None or not mentions(matter_obj, text)):
                matter_obj = cur_obj
        matter = {"code": matter_obj.code, "name": matter_obj.name} if matter_obj else None

        failures = 0
        if intent in FAILED_INTENTS or parse.get("out_of_scope"):
            failures = 1 + await run_in_threadpool(s.conversations.recent_failures, session_id, 1)
        if intent == "request_human" or failures >= 2:
            ticket = await run_in_threadpool(
                s.handoffs.create, session_id, channel, matter_obj.code if matter_obj else None,
                matter_obj.name if matter_obj else None, matter_obj.level if matter_obj else "区政务大厅",
                None, "request_human" if intent == "request_human" else "two_failed_turns")
            h = ticket.part()
            return notice + [{"type": "text", "text": TEXT_HANDOFF.format(level=h["level"], id=h["id"])},
                             {"type": "handoff", "ticket": h}], intent, matter, h
        if parse.get("out_of_scope") or intent == "out_of_scope":
            return notice + [{"type": "text", "text": TEXT_OOS}, human], "out_of_scope", None, None
        if intent in TEXT_SMALLTALK and matter_obj is None:
            return notice + [{"type": "text", "text": TEXT_SMALLTALK[intent]}], intent, None, None

        candidates = parse.get("matters") or []
        if matter_obj is None or (parse.get("ambiguous") and len(matters) != 1 and intent not in FOLLOW_UP_INTENTS):
            top = [c for c in candidates if c.get("code")][:3]
            if not top:
                return notice + [{"type": "text", "text": TEXT_NOT_FOUND}, human], intent, None, None
            buttons = [{"title": c.get("name") or c["code"], "payload": payload("ask_matter", c["code"])}
                       for c in top]
            buttons.append({"title": "都不是，转人工", "payload": payload("request_human")})
            return notice + [{"type": "text", "text": "您想办理的是下面哪一项？请点选："},
                             {"type": "buttons", "buttons": buttons}], intent, None, None

        m = matter_obj
        parts: list[dict[str, Any]] = []
        if intent == "ask_materials":
            if m.materials:
                parts.append({"type": "text", "text": f"办理“{m.name}”需要准备这些材料："})
                parts.append(checklist_part(m))
            else:
                parts.append({"type": "text", "text": f"“{m.name}”暂时没有详细的材料清单，请以窗口要求为准，"
                                                      f"可先电话咨询。"})
                parts.append(matter_card_part(m))
        elif intent in {"ask_location", "ask_time", "ask_fee"}:
            card = matter_card_part(m)["matter"]
            if intent == "ask_location":
                where = "，".join(x for x in (card["place"], card["address"]) if x) or "请咨询区政务服务大厅"
                txt = f"“{m.name}”的办理地点：{where}" + (f"；办公时间：{card['hours']}" if card["hours"] else "")
            elif intent == "ask_time":
                txt = f"“{m.name}”的承诺办结时限：{card['promised_time_limit'] or '以窗口告知为准'}" + \
                      (f"（法定时限：{card['legal_time_limit']}）" if card["legal_time_limit"] else "")
            else:
                txt = f"“{m.name}”的收费情况：{card['fee'] or '请以窗口告知为准'}"
            parts.append({"type": "text", "text": txt})
            parts.append(matter_card_part(m))
        else:
            parts.append({"type": "text", "text": f"您要办理的应该是“{m.name}”："})
            parts.append(matter_card_part(m))
            related = [r for r in (s.kb.get(c) for c in getattr(m, "related", [])[:2]) if r is not None]
            if related:
                parts.append({"type": "text", "text": "根据情况，可能还需要办理：" + "、".join(r.name for r in related)})
        if not m.verified:
            parts.append({"type": "notice", "text": NOTICE_UNVERIFIED})
        btns = matter_buttons(m)
        for r in (s.kb.get(c) for c in getattr(m, "related", [])[:2]):
            if r is not None and intent not in FOLLOW_UP_INTENTS:
                btns["buttons"].insert(-1, {"title": r.name[:20], "payload": payload("ask_matter", r.code)})
        parts.append(btns)
        return notice + parts, intent, matter, None
