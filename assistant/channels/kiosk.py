"""The voice kiosk channel: the kiosk page and two WebSocket endpoints.

``/ws/asr`` speaks the vosk-server protocol, so existing vosk-server clients work against it:

* optional first text frame ``{"config": {"sample_rate": 16000, "phrase_list": [...], "channels": 1}}``
  (``channels`` is an extension: interleaved stereo is downmixed; any rate 4–192 kHz is resampled to 16 kHz);
* binary frames of 16-bit little-endian PCM; each is answered with ``{"partial": "…"}`` or, when an utterance
  ended, ``{"result": [{"word", "start", "end", "conf"}…], "text": "…"}``;
* text frame ``{"eof" : 1}`` → the final ``{"result", "text"}`` and the server closes the connection (1000).

``/ws/kiosk`` is the same protocol plus the assistant: each final result also carries ``"corrected"`` (after the
pinyin correction) and is followed by ``{"reply": ChatResponse}`` from ``services.assistant.chat(…,
channel="kiosk")``; an utterance with no usable text gets ``{"unclear": true, "message": "没听清，请再说一遍",
"tries": n}`` and, at the second unclear try in a row, a human helper (the ``/request_human`` turn) as the reply.
[voice v2] The n-best hearings are routed by ``voice``'s decision with ``services.nlu.parse``; when it is unsure the
reply is replaced by ``{"confirm": true, "heard", "message", "confidence", "alternatives": [{"code", "name",
"payload", …}]}`` (see docs/voice.md). Config ``max_alternatives`` / ``words`` work as in vosk-server
(``voice.protocol``).
Push-to-talk: config ``"hands_free": false`` (``/ws/kiosk`` only; the default is true, vosk-server's behaviour)
ends the utterance at ``eof`` alone: a pause while the button is held gives partials, not a final and a reply, and
the final at ``eof`` is the whole utterance (what the endpointer cut, joined). A control frame
``{"hands_free": true}`` turns it hands-free at any time (a short tap on the kiosk's button).
The session id is the query parameter ``session`` (one per kiosk visitor; the page makes a new one after 60 s
idle). It is a conversation like any other (:mod:`assistant.api.citizen`): the first reply of a new session
carries ``reply.session_token``; a later connection for that session presents it — in a control frame
(``{"session_token": "…"}``, alone or next to ``config``) or the ``X-Session-Token`` header — before any audio.
``/ws/asr`` touches no conversation and needs no token.

Both endpoints are guarded (:func:`_serve`): the page that opens them must be the app's own or one of
``settings.allowed_origins`` (a connection without ``Origin`` is not a browser and passes), unless it presents the
kiosk device key (``X-Kiosk-Key`` / ``?device_key=``); at most ``ws_max_sessions`` connections at once per process;
each lasts at most ``ws_max_seconds``, sends at most ``ws_max_bytes`` in all and is closed after
``ws_idle_timeout_s`` without a frame.

Close codes (every close carries a reason): 1000 done (after ``eof``); 1003 unusable config/control frame (bad
JSON, bad sample rate); 1008 origin not allowed, or the connection lasted longer than ``ws_max_seconds``; 1009 a
frame over ``asr_max_frame_bytes`` or more than ``ws_max_bytes`` in all; 1011 unexpected engine failure; 1013
the speech model is not available (e.g. ``asr_engine=vosk`` without a model) or too many connections right now
(try again shortly); 4401 the session's token is missing; 4403 it is wrong; 4408 idle for ``ws_idle_timeout_s``.
Audio is kept in memory only, unless ``asr_keep_audio`` (then ``<data_dir>/voice/*.wav``, named by the session's
keyed hash).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from starlette.websockets import WebSocketState

from assistant.api.citizen import TOKEN_HEADER, check_session, open_or_check
from assistant.api.deps import ApiError
from assistant.dialogue.replies import say
from assistant.logging import get_logger, log_event, session_ref
from assistant.metrics import ASR_SESSIONS
from assistant.security import device_key_presented, origin_allowed
from assistant.settings import Settings
from assistant.speech import VoiceRuntime, voice_runtime, warm_voice

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEXT_UNCLEAR = say("kiosk.unclear")
TEXT_HELPER = say("kiosk.helper")
UNCLEAR_TRIES_BEFORE_HELPER = 2
_SESSION_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")

CLOSE_NORMAL, CLOSE_UNSUPPORTED, CLOSE_TOO_BIG, CLOSE_ERROR, CLOSE_TRY_LATER = 1000, 1003, 1009, 1011, 1013
CLOSE_POLICY = 1008
#: The session token is missing / wrong (the HTTP API's 401 / 403); idle too long (HTTP's 408).
CLOSE_TOKEN_MISSING, CLOSE_TOKEN_INVALID, CLOSE_IDLE = 4401, 4403, 4408

log = get_logger(__name__)
router = APIRouter(tags=["kiosk"])


@router.get("/kiosk", include_in_schema=False)
def kiosk_page(request: Request) -> FileResponse:
    """The kiosk page (big talk button, partial transcript, answer card, spoken reply). Serving it starts
    loading the speech model, so it is ready by the time the first visitor speaks."""
    warm_voice(request.app.state.services)
    return FileResponse(STATIC_DIR / "kiosk.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


# --------------------------------------------------------------------------------------------------------
# WebSocket protocol


class _Unclear:
    """Consecutive unclear utterances per kiosk session (bounded, in memory)."""

    def __init__(self, capacity: int = 2000):
        self._d: OrderedDict[str, int] = OrderedDict()
        self._cap = capacity

    def bump(self, session: str) -> int:
        n = self._d.pop(session, 0) + 1
        self._d[session] = n
        while len(self._d) > self._cap:
            self._d.popitem(last=False)
        return n

    def clear(self, session: str) -> None:
        self._d.pop(session, None)


_unclear = _Unclear()


class _Closed(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def _parse_control(text: str) -> dict[str, Any]:
    try:
        msg = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        raise _Closed(CLOSE_UNSUPPORTED, "text frames must be JSON: {\"config\": …} or {\"eof\" : 1}") from None
    if not isinstance(msg, dict):
        raise _Closed(CLOSE_UNSUPPORTED, "text frames must be JSON objects")
    return msg


def _is_meaningful(text: str) -> bool:
    """Enough recognised text to answer (at least two Han characters or letters/digits)."""
    return len(re.sub(r"[^\w]", "", text or "")) >= 2


class _Session:
    """One WebSocket connection's recognition state."""

    def __init__(self, ws: WebSocket, services: Any, kiosk: bool, client_ref: str | None = None):
        from voice.audio import PcmConverter

        self.ws = ws
        self.services = services
        self.settings: Settings = services.settings
        self.kiosk = kiosk
        #: Who counts against the daily caps (``None``: a kiosk with the device key).
        self.client_ref = client_ref
        session = ws.query_params.get("session") or ""
        self.session_id = session if _SESSION_RE.match(session) else f"kiosk-{uuid.uuid4().hex[:16]}"
        #: The conversation is new: its first reply starts it and carries the session token.
        self.new_session = False
        #: The session token was checked (or the session is new): audio may be recognised.
        self.authorized = not kiosk
        self.runtime: VoiceRuntime | None = None
        self.rec: Any = None
        self.phrases: list[str] | None = None
        from voice.protocol import Options  # [voice v2] max_alternatives / words

        self.options = Options()
        self.converter = PcmConverter(16000, 1)
        self.configured = False
        self.kept = bytearray() if self.settings.asr_keep_audio else None
        self.utterances = 0
        self.audio_bytes = 0
        self.answered = False
        #: The endpointer ends utterances (vosk-server); off for push-to-talk, where ``eof`` alone ends it.
        self.hands_free = True
        #: Push-to-talk: the utterances the endpointer cut while the button is held, joined at ``eof``.
        self.held: list[Any] = []

    async def start(self, header_token: str | None) -> None:
        """At connect: a new kiosk session may speak at once (its first reply starts the conversation); an
        existing one needs its token (the ``X-Session-Token`` header now, or a control frame before the audio)."""
        if self.authorized:
            return
        exists, _ = await asyncio.to_thread(self.services.conversations.token_hash, self.session_id)
        if not exists:
            self.new_session = self.authorized = True
        elif header_token:
            await self.authorize(header_token)

    async def authorize(self, presented: str) -> None:
        """Check a presented session token (:func:`assistant.api.citizen.check_session`; no-op once authorized).

        Raises:
            _Closed: 4401 (empty) / 4403 (wrong).
        """
        if self.authorized:
            return
        try:
            await check_session(self.services, self.session_id, presented)
        except ApiError as exc:
            raise _Closed(CLOSE_TOKEN_MISSING if exc.status_code == 401 else CLOSE_TOKEN_INVALID,
                          exc.detail["error"]) from None
        self.authorized = True

    def require_authorized(self) -> None:
        if not self.authorized:
            raise _Closed(CLOSE_TOKEN_MISSING, 'session_token_required: send {"session_token": …} before the audio')

    async def ensure_recognizer(self) -> None:
        if self.rec is not None:
            return
        try:
            self.runtime = await asyncio.to_thread(voice_runtime, self.services)
        except Exception as exc:  # model missing/damaged: tell the client, keep serving others
            log_event(log, "voice.engine.unavailable", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            raise _Closed(CLOSE_TRY_LATER, "speech recognition is not available: " + str(exc)[:80]) from None
        self.rec = await asyncio.to_thread(self.runtime.engine.recognizer, self.phrases,
                                           **self.options.recognizer_kwargs())  # [voice v2]

    def configure(self, cfg: Any) -> None:
        from voice.audio import AudioError, PcmConverter

        if not isinstance(cfg, dict):
            raise _Closed(CLOSE_UNSUPPORTED, "config must be an object")
        if self.rec is not None or self.audio_bytes:
            raise _Closed(CLOSE_UNSUPPORTED, "config must come before the audio")
        try:
            rate = cfg.get("sample_rate", 16000)
            channels = cfg.get("channels", 1)
            if not isinstance(channels, int) or isinstance(channels, bool):
                raise AudioError(f"channels must be an integer, got {channels!r}")
            self.converter = PcmConverter(rate, channels)
        except AudioError as exc:
            raise _Closed(CLOSE_UNSUPPORTED, str(exc)[:120]) from None
        phrases = cfg.get("phrase_list")
        if phrases is not None:
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases) or len(phrases) > 5000:
                raise _Closed(CLOSE_UNSUPPORTED, "phrase_list must be a list of at most 5000 strings")
            self.phrases = phrases
        from voice.protocol import Options, ProtocolError  # [voice v2]

        try:
            self.options = Options.from_config(cfg)
        except ProtocolError as exc:
            raise _Closed(CLOSE_UNSUPPORTED, str(exc)[:120]) from None
        self.hands_free = self._hands_free(cfg.get("hands_free", True))
        self.configured = True

    def _hands_free(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _Closed(CLOSE_UNSUPPORTED, f"hands_free must be true or false, got {value!r}"[:120])
        if not value and not self.kiosk:
            raise _Closed(CLOSE_UNSUPPORTED, "hands_free is a /ws/kiosk option")
        return value

    async def go_hands_free(self, value: Any) -> None:
        """A ``{"hands_free": …}`` control frame: a short tap turned push-to-talk into hands-free listening; what the
        endpointer already cut is answered now."""
        self.hands_free = self._hands_free(value)
        if self.hands_free:
            held, self.held = self.held, []
            for result in held:
                await self.final(result)

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(msg, ensure_ascii=False))

    async def audio(self, data: bytes) -> None:
        await self.ensure_recognizer()
        self.audio_bytes += len(data)
        pcm = self.converter.convert(data)
        if self.kept is not None:
            self.kept += pcm
        ended = await asyncio.to_thread(self.rec.accept, pcm) if pcm else False
        if ended:
            # (more utterances may have ended within the same frame: whisper queues them)
            cut = [self.rec.result()]
            while getattr(self.rec, "has_result", lambda: False)():
                cut.append(self.rec.result())
            if not self.hands_free:  # push-to-talk: kept until eof joins them with the rest
                self.held += cut
                await self.send({"partial": self.rec.partial()})
                return
            for result in cut:
                await self.final(result)
        else:
            await self.send({"partial": self.rec.partial()})

    async def eof(self) -> None:
        await self.ensure_recognizer()
        tail = self.converter.convert(b"")
        if tail:
            await asyncio.to_thread(self.rec.accept, tail)
        result = await asyncio.to_thread(self.rec.finish)
        if self.held:
            from voice.engine import join_results, joiner

            result, self.held = join_results([*self.held, result], joiner(self.runtime.engine.name)), []
        await self.final(result, eof=True)

    async def final(self, result: Any, eof: bool = False) -> None:
        from voice.protocol import final_message  # [voice v2]

        t_end = time.perf_counter()
        self.utterances += 1
        msg = final_message(result, self.options)
        transcript = None
        if self.runtime is not None:
            transcript = self.runtime.pipeline.correct(result)
        if self.kept is not None and self.kept:
            self._keep_audio()
        if not self.kiosk:
            await self.send(msg)
            return
        msg["corrected"] = transcript.corrected if transcript else result.text
        await self.send(msg)
        text = msg["corrected"]
        if not _is_meaningful(text) and eof and self.answered:
            return  # the visitor paused, got an answer, then let go of the button: nothing more to say
        if not _is_meaningful(text):
            tries = _unclear.bump(self.session_id)
            log_event(log, "voice.kiosk.unclear", session=self.session_id, tries=tries, speech=result.speech)
            if tries < UNCLEAR_TRIES_BEFORE_HELPER:
                await self.send({"unclear": True, "message": TEXT_UNCLEAR, "tries": tries})
                return
            _unclear.clear(self.session_id)
            await self.send({"unclear": True, "message": TEXT_HELPER, "tries": tries})
            reply = await self._chat("/request_human", {"reason": "asr_unclear"})
        else:
            _unclear.clear(self.session_id)
            # [voice v2] route every n-best hearing; when unsure, ask («您是想问…吗？») instead of answering
            decision = await self._decide(result)
            if decision is not None and decision.confirm and decision.alternatives:
                from voice.decision import confirm_message

                self.answered = True
                # why it asked (the confidence, the doubts: service terms only, never what was heard)
                log_event(log, "voice.kiosk.confirm", session=self.session_id, confidence=round(decision.confidence, 3),
                          doubts=",".join(decision.doubts), options=len(decision.alternatives))
                await self.send(confirm_message(decision))
                return
            meta: dict[str, Any] = {"asr": {"engine": self.runtime.engine_name if self.runtime else "",
                                            "transcript": result.text}}
            if decision is not None and decision.text:
                text = decision.text
                if decision.alternatives:  # sure of this matter: the dialogue answers it (assistant.dialogue.interpret)
                    meta["voice"] = {"matter": decision.alternatives[0].code,
                                     "confidence": round(decision.confidence, 4)}
            reply = await self._chat(text, meta)
        if reply is not None:
            self.answered = True
            await self.send({"reply": reply, "session_id": self.session_id,
                             "latency_ms": round((time.perf_counter() - t_end) * 1000)})

    async def _decide(self, result: Any) -> Any:
        """[voice v2] ``voice``'s n-best decision with the app's NLU as the routing callable (None without
        an NLU)."""
        nlu = getattr(self.services, "nlu", None)
        if nlu is None or self.runtime is None or not hasattr(self.runtime.pipeline, "decide"):
            return None
        return await asyncio.to_thread(self.runtime.pipeline.decide, result, nlu.parse)

    async def _chat(self, text: str, metadata: dict[str, Any]) -> dict[str, Any] | None:
        assistant = getattr(self.services, "assistant", None)
        if assistant is None:
            await self.send({"error": "assistant_unavailable", "message": "智能导办暂时不可用，请到窗口咨询。"})
            return None
        token = None
        if self.new_session:  # the visitor's first answer starts the conversation
            try:
                token = await open_or_check(self.services, self.session_id, "kiosk", None)
            except ApiError:  # another connection started it a moment ago: this one holds no token
                raise _Closed(CLOSE_TOKEN_MISSING, "session_token_required: the session was started elsewhere") \
                    from None
            self.new_session = False
        resp = await assistant.chat(self.session_id, text, channel="kiosk",
                                    metadata={**metadata, "client_ref": self.client_ref})
        reply = resp.model_dump(mode="json") if hasattr(resp, "model_dump") else dict(resp)
        if token:
            reply["session_token"] = token
        return reply

    def _keep_audio(self) -> None:
        from voice.audio import pcm16_to_float, write_wav

        folder = Path(self.settings.data_dir) / "voice"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{session_ref(self.session_id)}-{int(time.time())}-{self.utterances}.wav"
        write_wav(path, pcm16_to_float(bytes(self.kept)))
        self.kept = bytearray()
        log_event(log, "voice.audio.kept", path=str(path))


class _Slots:
    """Speech WebSocket connections open in this process (the event loop is single-threaded: no lock)."""

    def __init__(self) -> None:
        self.active = 0


def _slots(app: Any) -> _Slots:
    slots = getattr(app.state, "speech_slots", None)
    if slots is None:
        slots = app.state.speech_slots = _Slots()
    return slots


async def _receive(ws: WebSocket, settings: Settings, deadline: float) -> Any:
    """The next message, within the idle timeout and the connection's time limit."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Closed(CLOSE_POLICY, f"the connection lasted longer than {settings.ws_max_seconds:g} s")
    try:
        return await asyncio.wait_for(ws.receive(), timeout=min(settings.ws_idle_timeout_s, left))
    except asyncio.TimeoutError:
        if time.monotonic() >= deadline:
            raise _Closed(CLOSE_POLICY, f"the connection lasted longer than {settings.ws_max_seconds:g} s") from None
        raise _Closed(CLOSE_IDLE, f"no frame for {settings.ws_idle_timeout_s:g} s") from None


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    """Tell the client why (a JSON frame, then the close frame with the reason), if it is still there."""
    if ws.application_state == WebSocketState.DISCONNECTED:
        return
    try:
        await ws.send_text(json.dumps({"error": reason, "code": code}, ensure_ascii=False))
        await ws.close(code, reason[:120])
    except Exception:  # noqa: BLE001 - the client may be gone already
        pass


async def _serve(ws: WebSocket, kiosk: bool) -> None:
    await ws.accept()
    services = ws.app.state.services
    settings: Settings = services.settings
    keyed = device_key_presented(ws, settings)
    if not keyed and not origin_allowed(ws, settings):
        log_event(log, "voice.ws.refused", reason="origin", origin=(ws.headers.get("origin") or "")[:100])
        await _close(ws, CLOSE_POLICY, "origin not allowed (JXE_ALLOWED_ORIGINS) and no kiosk device key")
        return
    slots = _slots(ws.app)
    if slots.active >= settings.ws_max_sessions:
        log_event(log, "voice.ws.refused", reason="busy", active=slots.active)
        await _close(ws, CLOSE_TRY_LATER,
                     f"too many speech connections ({settings.ws_max_sessions}); try again shortly")
        return
    slots.active += 1
    try:
        await _serve_session(ws, services, kiosk, keyed)
    finally:
        slots.active -= 1


async def _serve_session(ws: WebSocket, services: Any, kiosk: bool, keyed: bool) -> None:
    settings: Settings = services.settings
    limit = int(settings.asr_max_frame_bytes)
    limiter = services.limiter
    sess = _Session(ws, services, kiosk, client_ref=None if keyed or limiter is None else limiter.client_ref(ws))
    t0 = time.perf_counter()
    deadline = time.monotonic() + settings.ws_max_seconds
    total = 0
    event = "voice.ws.closed"
    ASR_SESSIONS.inc()
    try:
        await sess.start(ws.headers.get(TOKEN_HEADER))
        while True:
            message = await _receive(ws, settings, deadline)
            if message["type"] == "websocket.disconnect":
                event = "voice.ws.disconnected"
                break
            data, text = message.get("bytes"), message.get("text")
            size = len(data) if data is not None else len((text or "").encode("utf-8"))
            if size > limit:
                raise _Closed(CLOSE_TOO_BIG, f"frame of {size} bytes is over the limit of {limit}")
            total += size
            if total > settings.ws_max_bytes:
                raise _Closed(CLOSE_TOO_BIG, f"more than {settings.ws_max_bytes} bytes on one connection")
            if data is not None:
                sess.require_authorized()
                await sess.audio(data)
                continue
            msg = _parse_control(text or "")
            if "session_token" in msg:
                token = msg["session_token"]
                await sess.authorize(token if isinstance(token, str) else "")
            if "config" in msg:
                sess.configure(msg["config"])
            elif msg.get("eof"):
                sess.require_authorized()
                await sess.eof()
                await ws.close(CLOSE_NORMAL)
                break
            elif "reset" in msg:
                sess.rec = None
            elif "hands_free" in msg:
                await sess.go_hands_free(msg["hands_free"])
            elif "session_token" not in msg:
                raise _Closed(CLOSE_UNSUPPORTED, "unknown control frame (expected config or eof)")
    except _Closed as exc:
        event = "voice.ws.rejected"
        log_event(log, event, code=exc.code, reason=exc.reason, session=sess.session_id)
        await _close(ws, exc.code, exc.reason)
        return
    except WebSocketDisconnect:
        event = "voice.ws.disconnected"
    except Exception as exc:  # noqa: BLE001 - one broken session must not take the server down
        log.exception("voice.ws.failed")
        event = "voice.ws.failed"
        try:
            await ws.close(CLOSE_ERROR, f"internal error ({type(exc).__name__})")
        except Exception:  # noqa: BLE001
            pass
    finally:
        sess.rec = None  # drop the session's audio and decoder state
        ASR_SESSIONS.dec()
    log_event(log, event, session=sess.session_id, kiosk=kiosk, utterances=sess.utterances,
              audio_bytes=sess.audio_bytes, s=round(time.perf_counter() - t0, 2))


@router.websocket("/ws/asr")
async def ws_asr(ws: WebSocket) -> None:
    """vosk-server-compatible speech recognition (see the module docstring)."""
    await _serve(ws, kiosk=False)


@router.websocket("/ws/kiosk")
async def ws_kiosk(ws: WebSocket) -> None:
    """Recognition plus the assistant's reply after each final result (see the module docstring)."""
    await _serve(ws, kiosk=True)
