"""The one entry point every channel uses: ``await Assistant.chat(session_id, text, channel)``.

A turn (see docs/architecture.md, "How a turn flows"): clean the text and sort out what is not a question
(empty, only emoji, not Chinese) → send it to the Rasa server (REST channel) with a fresh ``turn_id`` → Rasa asks
the app's NLU (``/nlu/model/parse``) and runs a dialogue step (``/actions/webhook``), which answers and saves the
conversation's memory → the reply parts come back from Rasa; intent and matter are read from the memory the step
saved (one local read; no side channel, nothing kept in this process) → the turn is stored (masked) →
``ChatResponse``.

When Rasa is unreachable or its circuit is open, the same step answers through
:func:`assistant.dialogue.degraded.degraded_turn`, with a ``notice`` part. A turn never raises for bad input or
a missing backend.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant.db.retention import erase_session
from assistant.dialogue.degraded import degraded_turn
from assistant.dialogue.replies import human_button, say
from assistant.dialogue.state import DialogueState, mask_for_rasa
from assistant.dialogue.understand import understand
from assistant.logging import get_logger, log_event
from assistant.metrics import DEGRADED_TURNS, TURN_ERRORS, TURN_SECONDS
from assistant.preservice.numbers import find_booking_numbers
from assistant.parts import buttons, notice, sanitize_part, text as text_part
from assistant.privacy import mask_pii
from assistant.rasa.launcher import sign_parse
from nlu.payload import looks_like_payload
from nlu.text import clean

log = get_logger(__name__)

#: Longest text handed to the NLU/Rasa; the rest is dropped with a notice.
MAX_CHARS = 500
#: Longest text the HTTP API accepts at all (bigger bodies are rejected with 413 before any work).
MAX_ACCEPTED_CHARS = 20_000

#: Seconds during which turns go straight to the degraded path after Rasa timed out (a refused connection is
#: instant and does not trip this).
RASA_TIMEOUT_BREAK_S = 15.0
#: A retry of a message still being answered waits this long beyond the Rasa timeout for the first answer.
RETRY_WAIT_EXTRA_S = 5.0
#: Failures of a Rasa call that are tried once more at once: the connection was refused or cut, or the balancer
#: in front of a Rasa pool found no server to answer (not a timeout: that would double the wait).
RASA_RETRY_REASONS = frozenset({"connect", "http_502", "http_503", "http_504"})


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
        intent: the recognised intent of the citizen's message (``""`` when unknown; ``form_answer`` for an answer
            to a form's question, ``form_field`` for a question about one of them).
        handoff: the open human-helper ticket ``{"id", "level", "status"}`` when this turn created/refers to one.
        degraded: ``True`` when the answer came from the knowledge search because Rasa was unavailable.
        message_id: id of the stored bot message (poll ``/messages?after=`` from here).
        erased: the citizen confirmed «删除我的记录» in this turn: the conversation has been erased (this turn is
            not stored either; a client should forget the session and start a new one).
        session_token: on the first turn of a new conversation only: the token every later request for it must
            present (``assistant.api.citizen``); ``null`` on every other turn.
    """

    session_id: str
    replies: list[dict[str, Any]] = Field(default_factory=list)
    matter: MatterRef | None = None
    intent: str = ""
    handoff: dict[str, Any] | None = None
    degraded: bool = False
    message_id: int | None = None
    erased: bool = False
    session_token: str | None = Field(default=None, description="first turn of a new conversation only: keep it "
                                                               "and send it with every later request")


# --------------------------------------------------------------------------------------------------------
# input normalisation

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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


#: A code citizens type as an answer (licence number JY15101060012345, booking number, plate 川A…): letters and
#: digits with at least 4 digits and no English word — not "non-Chinese" text.
_IDENTIFIER = re.compile(r"^(?=(?:.*\d){4})(?!.*[A-Za-z]{5})[A-Za-z0-9\s\-_/.#]{4,40}$")
#: The few words of English Chinese chat uses as its own («OK», «hi», «thx», «拜拜» as «bye»): a greeting, a yes, a
#: thanks or a goodbye the NLU reads, not a question in another language.
_CHAT_WORDS = re.compile(r"^\s*(ok|okay|okk+|hi|hello|hey|thx|thanks|thank you|bye|byebye|bye bye|yes|no)[\s!！.。~～]*$",
                         re.I)


def normalize_input(raw: str, max_chars: int = MAX_CHARS) -> NormalizedText:
    """Clean a citizen's text (:func:`nlu.text.clean`) and tell what kind of input it is.

    Args:
        raw: the text as received from any channel.
        max_chars: the longest text passed on; longer text is cut with a notice.

    Returns:
        The cleaned text and what kind of input it was (see :class:`NormalizedText`).
    """
    raw = raw if isinstance(raw, str) else str(raw or "")
    n = len(raw)
    text = clean(raw)
    if not text:
        return NormalizedText("", "empty", [], n)
    if looks_like_payload(text):
        return NormalizedText(text[:max_chars], "payload", [], n)
    notices = []
    if len(text) > max_chars:
        notices.append(say("input.truncated", chars=len(text), limit=max_chars))
        text = text[:max_chars].rstrip()
    has_cjk = bool(_CJK.search(text))
    has_word = any(unicodedata.category(c)[0] in "LN" for c in text)
    if not has_word:
        return NormalizedText(text, "no_content", notices, n)
    if (not has_cjk and any(c.isascii() and c.isalpha() for c in text) and not _IDENTIFIER.match(text)
            and not find_booking_numbers(text) and not _CHAT_WORDS.match(text)):
        return NormalizedText(text, "non_chinese", notices, n)
    return NormalizedText(text, "ok", notices, n)


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
            parts.append(text_part(msg["text"]))
        if msg.get("buttons"):
            p = sanitize_part({"type": "buttons", "buttons": msg["buttons"]})
            if p:
                parts.append(p)
        custom = msg.get("custom")
        if custom is not None:
            for c in custom if isinstance(custom, list) else [custom]:
                p = sanitize_part(c)
                if p:
                    parts.append(p)
                else:
                    log_event(log, "chat.rasa.part_dropped", shape=str(c)[:200])
        if msg.get("image"):
            parts.append(text_part(str(msg["image"])))
    return parts


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

    def __init__(self, services: Any):
        self.services = services
        #: After a Rasa timeout, turns skip Rasa until this ``time.monotonic()`` value (a local circuit breaker:
        #: each replica learns on its own that Rasa is slow; nothing about a conversation is kept here).
        self._skip_rasa_until = 0.0

    # ---- public -------------------------------------------------------------------------------------
    async def chat(self, session_id: str, text: str, channel: str = "web",
                   metadata: dict[str, Any] | None = None, message_id: str | None = None) -> ChatResponse:
        """Answer one message of a citizen.

        Args:
            session_id: the conversation id (a new id starts a new conversation).
            text: what the citizen typed/said (any string; it is cleaned here).
            channel: ``web``, ``kiosk``, ``wechat_mp``, ``widget`` … (stored and passed to Rasa as metadata).
            metadata: extra per-message data for Rasa (e.g. the WeChat openid).
            message_id: the client's id of this message; the same ``(session_id, message_id)`` again returns the
                stored answer instead of running a second turn (a balancer or a client may retry safely).

        Returns:
            The answer; never raises for bad input or an unreachable Rasa.
        """
        if not message_id:
            return (await self._turn(session_id, text, channel, metadata))[0]
        conversations = self.services.conversations
        deadline = time.monotonic() + self.services.settings.rasa_timeout_s + RETRY_WAIT_EXTRA_S
        while True:
            try:
                status, stored = await run_in_threadpool(conversations.claim_turn, session_id, message_id)
            except Exception:  # the database is down: answer without the retry guarantee
                log.exception("chat.turn.claim_failed")
                TURN_ERRORS.labels("claim").inc()
                return (await self._turn(session_id, text, channel, metadata))[0]
            if status == "done":
                log_event(log, "chat.turn.replayed", session=session_id, message=message_id)
                return ChatResponse.model_validate(stored)
            if status == "claimed":
                break
            if time.monotonic() > deadline:  # the first request died without finishing: answer this one
                await run_in_threadpool(conversations.finish_turn, session_id, message_id, None)
                continue
            await asyncio.sleep(0.1)
        response = None
        stored = False
        try:
            response, stored = await self._turn(session_id, text, channel, metadata, turn_key=message_id)
            return response
        finally:
            if not stored:  # the turn failed (release the claim) or was not stored (keep the answer for retries)
                try:  # an erasing turn keeps no stored answer either
                    await run_in_threadpool(conversations.finish_turn, session_id, message_id,
                                            response.model_dump(mode="json")
                                            if response is not None and not response.erased else None)
                except Exception:
                    log.exception("chat.turn.finish_failed")
                    TURN_ERRORS.labels("finish").inc()

    async def _turn(self, session_id: str, text: str, channel: str, metadata: dict[str, Any] | None,
                    turn_key: str | None = None) -> tuple[ChatResponse, bool]:
        """One turn. Returns the answer and whether it was stored (with ``turn_key``: stored together with the
        finished key, in one transaction)."""
        t0 = time.perf_counter()
        s = self.services
        norm = normalize_input(text)
        turn_id = uuid.uuid4().hex
        meta = {**(metadata or {}), "channel": channel, "turn_id": turn_id}
        degraded = False
        reason = ""
        intent = ""
        callback = rating = None
        if norm.kind == "ok" and getattr(s, "workbench", None) is not None:
            # a phone number sent while waiting for a helper is a call-back request, not a question; a bare score
            # right after a helper closed the ticket is the citizen's rating
            try:
                if s.workbench.looks_like_phone(norm.text):
                    # … unless a form (a booking) is asking for the number itself
                    before = await run_in_threadpool(s.states.load, session_id)
                    if not before.form:
                        callback = await run_in_threadpool(s.workbench.callback_from_text, session_id, norm.text)
                if callback is None:
                    rating = await run_in_threadpool(s.workbench.rating_from_text, session_id, norm.text)
            except Exception:
                log.exception("chat.callback.failed")
        if norm.kind in {"empty", "no_content", "non_chinese"}:
            replies = [text_part(say(f"input.{norm.kind}"))]
        elif callback is not None:
            replies = [text_part(say("handoff.callback_saved", phone=mask_pii(callback[1]), id=callback[0]))]
        elif rating is not None:
            replies = [text_part(say("handoff.rate_thanks"))]
        else:
            try:
                replies = await self._via_rasa(session_id, norm.text, meta)
            except _RasaDown as exc:
                reason = str(exc) or "rasa_unavailable"
                degraded = True
                DEGRADED_TURNS.labels(reason).inc()
                try:
                    replies, intent = await degraded_turn(s, session_id, norm.text, meta)
                except Exception:  # NLU or database failure inside the degraded path: still answer
                    log.exception("chat.degraded.failed")
                    TURN_ERRORS.labels("degraded").inc()
                    replies = [notice(say("notice.degraded")), text_part(say("step.failed")),
                               buttons([human_button()])]
        replies = [notice(n) for n in norm.notices] + replies
        state = DialogueState()
        state_read = False
        try:
            state = await run_in_threadpool(s.states.load, session_id)
            state_read = True
        except Exception:
            log.exception("chat.turn.state_failed")
            TURN_ERRORS.labels("state").inc()
        if state.pending_text:  # what the citizen wrote is kept for the turn only
            state.pending_turn = state.pending_text = ""
            try:
                await run_in_threadpool(s.states.save, session_id, state)
            except Exception:
                log.exception("chat.turn.state_failed")
                TURN_ERRORS.labels("state").inc()
        # the intent of this turn, as the step that answered it saved it ("" when no step ran, e.g. a form prompt)
        if state.turn_id == turn_id:
            intent = state.last_intent
        if norm.kind in {"empty", "no_content", "non_chinese"}:
            intent = "nlu_fallback"
        elif callback is not None:
            intent = "leave_callback"
        elif rating is not None:
            intent = "rate_handoff"
        matter = state.matter
        handoff = next((p["ticket"] for p in replies if p["type"] == "handoff"), None)

        def response(message_id: int | None, erased: bool = False) -> ChatResponse:
            return ChatResponse(session_id=session_id, replies=replies,
                                matter=MatterRef(**matter) if matter else None, intent=intent or "",
                                handoff=handoff, degraded=degraded, message_id=message_id, erased=erased)

        stored = False
        erased = state.turn_id == turn_id and state.erase
        if erased:  # «删除我的记录» confirmed: erase the conversation (Rasa's tracker included) and store nothing
            try:
                await run_in_threadpool(erase_session, s.db, session_id)
                matter, message_id = None, None
            except Exception:  # the database is down: say so instead of "erased"
                log.exception("chat.turn.erase_failed")
                TURN_ERRORS.labels("erase").inc()
                erased, message_id = False, None
                replies = [text_part(say("erase.failed")), buttons([human_button()])]
        else:
            try:
                message_id = await run_in_threadpool(
                    lambda: s.conversations.record_turn(
                        session_id, channel, norm.text, replies, intent, matter, turn_key=turn_key,
                        response=lambda bot_id: response(bot_id).model_dump(mode="json"),
                        may_have_ticket=bool(state.handoff_ticket) or not state_read))
                stored = True
            except Exception:  # the database is down: the citizen still gets the answer
                log.exception("chat.turn.store_failed")
                TURN_ERRORS.labels("store").inc()
                message_id = None
        elapsed = time.perf_counter() - t0
        TURN_SECONDS.labels(channel, "degraded" if degraded else
                            ("input" if norm.kind in {"empty", "no_content", "non_chinese"} else "ok")).observe(elapsed)
        ms = round(elapsed * 1000, 1)
        log_event(log, "chat.turn.completed", session=session_id, channel=channel, kind=norm.kind,
                  intent=intent, matter=(matter or {}).get("code"), degraded=degraded, reason=reason,
                  handoff=(handoff or {}).get("id"), parts=len(replies), ms=ms)
        return response(message_id, erased), stored

    # ---- Rasa path ----------------------------------------------------------------------------------
    async def _prepare_for_rasa(self, session_id: str, text: str, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text Rasa is sent and keeps in its tracker — masked (:func:`mask_for_rasa`) — and the metadata it
        is sent with. When the masked text differs from what the citizen wrote, the written text waits in the
        conversation's state for this turn's steps (``pending_text``), and :meth:`_turn` empties it when the turn
        is over. With the state at hand the message is also understood here, and the parse goes with it, signed
        (:func:`assistant.rasa.launcher.sign_parse`), so Rasa need not call the app's NLU back over HTTP."""
        states = getattr(self.services, "states", None)
        if states is None:
            return mask_pii(text), meta
        try:
            state = await run_in_threadpool(states.load, session_id)
            sent = mask_for_rasa(text, bool(state.form))
            if sent != text:
                state.pending_turn, state.pending_text = str(meta.get("turn_id") or ""), text
                await run_in_threadpool(states.save, session_id, state)
        except Exception:  # the database is down: Rasa gets the masked text, the steps see it masked too
            log.exception("chat.turn.mask_failed")
            return mask_pii(text), meta
        parse = await understand(self.services, sent, session_id, state=state, raw=text, metadata=meta)
        if parse.get("error"):  # the NLU is loading or failed: let Rasa ask (and fall back) as it would
            return sent, meta
        signed = dict(meta)
        sign_parse(signed, sent, parse, self.services.settings.internal_token)
        return sent, signed

    async def _via_rasa(self, session_id: str, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
        s = self.services
        rasa = s.rasa
        if rasa is None:
            raise _RasaDown("rasa_not_configured")
        if time.monotonic() < self._skip_rasa_until:
            # Rasa timed out a moment ago: answer at once instead of making every citizen wait the timeout
            raise _RasaDown("rasa_timeout_recent")
        sent, rasa_meta = await self._prepare_for_rasa(session_id, text, meta)
        try:
            try:
                messages = await asyncio.wait_for(maybe_await(rasa.send(session_id, sent, rasa_meta)),
                                                  timeout=s.settings.rasa_timeout_s)
            except Exception as exc:
                if getattr(exc, "reason", "") not in RASA_RETRY_REASONS:
                    raise
                # the Rasa server died under this turn (or was refused): once more, through the balancer to
                # another server (the conversation's lock left behind expires within rasa_lock_lifetime_s)
                log_event(log, "chat.rasa.retry", session=session_id, reason=exc.reason)
                messages = await asyncio.wait_for(maybe_await(rasa.send(session_id, sent, rasa_meta)),
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
        if not parts:
            # Rasa answered nothing (no action predicted, or its NLU call failed): the same steps answer
            log_event(log, "chat.rasa.empty_reply", session=session_id)
            parts, _ = await degraded_turn(s, session_id, text, meta, with_notice=False)
        return parts
