"""The streaming recognizer interface every ASR engine implements.

A :class:`StreamingRecognizer` takes 16-bit little-endian mono PCM at 16 kHz in chunks of any size:

* :meth:`~StreamingRecognizer.accept` returns ``True`` when an utterance has ended (the engine's endpointer saw
  enough trailing silence); :meth:`~StreamingRecognizer.result` then gives its final :class:`Result`;
* :meth:`~StreamingRecognizer.partial` is the running transcript of the utterance in progress;
* :meth:`~StreamingRecognizer.finish` ends the stream (client sent ``{"eof": 1}`` or released the talk button)
  and returns the final result of whatever audio is pending.

Engines (:class:`Engine`) load their model once and hand out cheap per-session recognizers. The shapes follow
Vosk's ``KaldiRecognizer`` (``AcceptWaveform`` / ``PartialResult`` / ``Result`` / ``FinalResult``), so the
WebSocket endpoint can speak the vosk-server protocol for every engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voice.audio import SAMPLE_RATE, AudioError, pcm16_to_float


@dataclass
class Hypothesis:
    """One n-best recognition candidate.

    Attributes:
        text: the candidate transcript (cleaned like :attr:`Result.text`).
        logprob: the decoder's total log-probability of the candidate's tokens.
        confidence: its posterior among the n-best list (the candidates' probabilities renormalised; sums to 1).
    """

    text: str
    logprob: float = 0.0
    confidence: float = 1.0


@dataclass
class Result:
    """A recognition result.

    Attributes:
        text: the transcript (Chinese without spaces between characters for the Chinese engines).
        words: word timings as vosk-server reports them: ``{"word", "start", "end", "conf"}``.
        final: True for an utterance's final result, False for a partial one.
        speech: True when the utterance contained speech at all (False: silence/noise only).
        audio_s: seconds of audio that this result covers.
        raw_text: what the engine heard before correction, when ``text`` was corrected (else "").
        alternatives: the n-best candidates, best first (``alternatives[0].text == text`` when there are any);
            engines that cannot give an n-best list give none.
        confidence: how sure the engine is of ``text`` (whisper: exp of the mean token log-probability; None
            when the engine does not say).
    """

    text: str = ""
    words: list[dict[str, Any]] = field(default_factory=list)
    final: bool = True
    speech: bool = True
    audio_s: float = 0.0
    raw_text: str = ""
    alternatives: list[Hypothesis] = field(default_factory=list)
    confidence: float | None = None
    #: decode the same utterance again with another prompt → n-best (whisper only; None otherwise). Kept in
    #: memory with the result, never serialised.
    redecode: Any = field(default=None, repr=False, compare=False)
    #: hear the same utterance again from slightly different copies of its audio → ``[(n-best, confidence), …]``,
    #: one per extra hearing (whisper only; None otherwise). Kept in memory with the result, never serialised.
    rehear: Any = field(default=None, repr=False, compare=False)

    def vosk_json(self) -> dict[str, Any]:
        """The vosk-server message for this result: ``{"partial"}`` or ``{"result": [...], "text"}``."""
        if not self.final:
            return {"partial": self.text}
        return {"result": self.words, "text": self.text}


class StreamingRecognizer(ABC):
    """One recognition session (one kiosk visitor / one WebSocket connection). Not thread-safe."""

    sample_rate: int = SAMPLE_RATE

    @abstractmethod
    def accept(self, pcm16: bytes) -> bool:
        """Feed a chunk of 16 kHz mono PCM16; True when an utterance just ended (read it with :meth:`result`)."""

    @abstractmethod
    def partial(self) -> str:
        """The running transcript of the utterance in progress ("" when nothing is heard yet)."""

    @abstractmethod
    def result(self) -> Result:
        """The final result of the utterance that just ended (after :meth:`accept` returned True)."""

    @abstractmethod
    def finish(self) -> Result:
        """End of stream: the final result of any pending audio (empty text when none)."""


class Engine(ABC):
    """A loaded speech model that creates recognizers."""

    #: "vosk" or "whisper".
    name: str = ""

    @abstractmethod
    def recognizer(self, phrases: list[str] | None = None) -> StreamingRecognizer:
        """A new streaming session.

        Args:
            phrases: an optional phrase list (vosk-server ``phrase_list``) to bias or restrict recognition.
        """

    def transcribe_pcm(self, pcm16: bytes, chunk_bytes: int = 16000) -> Result:
        """Recognise a whole recording given as 16 kHz mono PCM16; returns the joined final result.

        Args:
            pcm16: the audio.
            chunk_bytes: how much audio to feed per step (the streaming path is used, as in production).
        """
        return drain(self.recognizer(), pcm16, chunk_bytes, joiner(self.name))


def drain(rec: StreamingRecognizer, pcm16: bytes, chunk_bytes: int, sep: str) -> Result:
    """Feed a whole recording through a streaming session and join every utterance's final result.

    Args:
        rec: a fresh streaming session.
        pcm16: 16 kHz mono PCM16 audio.
        chunk_bytes: how much audio to feed per step.
        sep: what joins two utterances' texts (see :func:`joiner`).
    """
    results: list[Result] = []
    for i in range(0, len(pcm16), chunk_bytes):
        if rec.accept(pcm16[i:i + chunk_bytes]):
            results.append(rec.result())
            # an engine may finish several utterances in one step
            while getattr(rec, "has_result", lambda: False)():
                results.append(rec.result())
    results.append(rec.finish())
    return join_results(results, sep, audio_s=len(pcm16) / 2 / SAMPLE_RATE)


def join_results(results: list[Result], sep: str, audio_s: float | None = None) -> Result:
    """One result for several utterances: texts and words joined; the n-best list is the one of the single
    utterance with text when there is exactly one (n-best lists of several utterances do not combine)."""
    spoken = [r for r in results if r.text]
    alts = spoken[0].alternatives if len(spoken) == 1 else (
        [Hypothesis(sep.join(r.text for r in spoken), 0.0, 1.0)] if spoken else [])
    confs = [r.confidence for r in spoken if r.confidence is not None]
    return Result(text=sep.join(r.text for r in spoken), words=[w for r in results for w in r.words],
                  final=True, speech=any(r.speech for r in results),
                  audio_s=audio_s if audio_s is not None else sum(r.audio_s for r in results), alternatives=alts,
                  confidence=min(confs) if confs else None,
                  redecode=spoken[0].redecode if len(spoken) == 1 else None,
                  rehear=spoken[0].rehear if len(spoken) == 1 else None)


def joiner(engine_name: str) -> str:
    """How two utterances' texts are joined (no space for the Chinese engines)."""
    return "" if engine_name == "whisper" else " "


class Endpointer:
    """Energy-based voice activity detection and end-of-utterance detection on 30 ms frames.

    The noise floor adapts to the quietest frames; a frame is speech when it is ``margin_db`` above the floor and
    above ``min_db``. An utterance ends after ``end_silence_s`` of non-speech following at least ``min_speech_s``
    of speech, or when it reaches ``max_utterance_s``.

    Args:
        end_silence_s: trailing silence that ends an utterance.
        min_speech_s: speech needed before an utterance counts.
        max_utterance_s: hard cap on one utterance (whisper's window is 30 s).
        min_db: absolute floor for speech frames in dBFS.
        margin_db: how far above the noise floor speech must be.
    """

    FRAME = 480  # 30 ms at 16 kHz

    def __init__(self, end_silence_s: float = 0.6, min_speech_s: float = 0.2, max_utterance_s: float = 15.0,
                 min_db: float = -45.0, margin_db: float = 12.0):
        self.end_silence_frames = int(end_silence_s * SAMPLE_RATE / self.FRAME)
        self.min_speech_frames = max(1, int(min_speech_s * SAMPLE_RATE / self.FRAME))
        self.max_frames = int(max_utterance_s * SAMPLE_RATE / self.FRAME)
        self.min_db, self.margin_db = min_db, margin_db
        self.noise_db = -70.0
        self.reset()

    def reset(self) -> None:
        """Start a new utterance (the noise floor is kept)."""
        self.frames = 0
        self.speech_frames = 0
        self.trailing_silence = 0
        self.last_speech_frame = -1
        self.first_speech_frame = -1
        self._rest = np.zeros(0, dtype=np.float32)

    @property
    def in_speech(self) -> bool:
        """True once enough speech frames were heard in this utterance."""
        return self.speech_frames >= self.min_speech_frames

    def feed(self, samples: np.ndarray) -> int | None:
        """Feed float samples of the current utterance.

        Returns:
            ``None`` while the utterance goes on; when it ends, how many of ``samples`` belong to it (the rest
            starts the next utterance and must be fed again after :meth:`reset`).
        """
        data = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        offset = len(self._rest)
        n = len(data) // self.FRAME
        if n == 0:
            self._rest = data
            return None
        frames = data[: n * self.FRAME].reshape(n, self.FRAME).astype(np.float64)
        levels = 10.0 * np.log10(np.maximum(np.mean(frames * frames, axis=1), 1e-12))
        for i, db in enumerate(levels):
            threshold = max(self.min_db, self.noise_db + self.margin_db)
            if db > threshold:
                self.speech_frames += 1
                self.trailing_silence = 0
                self.last_speech_frame = self.frames
                if self.first_speech_frame < 0:
                    self.first_speech_frame = self.frames
            else:
                # the floor follows quiet frames down at once and up slowly
                self.noise_db = db if db < self.noise_db else 0.98 * self.noise_db + 0.02 * db
                self.trailing_silence += 1
            self.frames += 1
            done = (self.in_speech and self.trailing_silence >= self.end_silence_frames) \
                or self.frames >= self.max_frames
            if done:
                self._rest = np.zeros(0, dtype=np.float32)
                return max(0, (i + 1) * self.FRAME - offset)
        self._rest = data[n * self.FRAME:]
        return None


def as_float(pcm16: bytes) -> np.ndarray:
    """PCM16 bytes → float32 (raises :class:`AudioError` for non-bytes)."""
    if not isinstance(pcm16, (bytes, bytearray, memoryview)):
        raise AudioError("audio chunks must be bytes of 16-bit PCM")
    return pcm16_to_float(pcm16)
