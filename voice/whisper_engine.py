"""Offline Mandarin recognition with faster-whisper (whisper base, int8 on the CPU).

Whisper is not a streaming model; this engine makes it behave like one:

* an energy endpointer (:class:`voice.engine.Endpointer`) finds the end of each utterance;
* while someone speaks, the audio so far is re-decoded every ``partial_interval_s`` (more rarely when decoding
  is slow) to give partial results;
* as soon as trailing silence starts, the utterance is decoded speculatively, so that when the endpoint (or the
  client's ``eof``) arrives the final text is usually ready already.

The KB's matter names and everyday service terms go into the initial prompt (whisper's way of taking hotwords),
which also steers the output to simplified Chinese; any traditional characters left are converted with OpenCC
when it is installed. The model is loaded once per process; decoding is serialised by a lock (two cores).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from voice.audio import SAMPLE_RATE
from voice.engine import Endpointer, Engine, Result, StreamingRecognizer, as_float, drain

log = logging.getLogger(__name__)

_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:\"'“”‘’（）()《》〈〉【】\[\]…—\-~·]+")
#: Things whisper is known to "hear" in silence or noise (subtitle credits from its training data).
_HALLUCINATIONS = ("字幕", "订阅", "点赞", "打赏", "明镜", "Amara", "感谢观看", "谢谢观看", "请不吝")
_MAX_PROMPT_CHARS = 120


def build_prompt(terms: list[str] | tuple[str, ...], max_chars: int = _MAX_PROMPT_CHARS) -> str:
    """The initial prompt: a simplified-Chinese sentence listing service terms (whisper's "hotwords").

    Args:
        terms: lexicon terms, most important first; duplicates and over-long terms are skipped.
        max_chars: the prompt's length cap (whisper keeps at most 224 prompt tokens).
    """
    head = "以下是群众在政务服务大厅的普通话咨询，涉及"
    seen: list[str] = []
    total = len(head)
    for t in terms:
        t = t.strip()
        if not t or t in seen or len(t) > 10:
            continue
        if total + len(t) + 1 > max_chars:
            break
        seen.append(t)
        total += len(t) + 1
    return head + "、".join(seen) + "。"


def _simplifier():
    try:
        import opencc  # type: ignore[import-untyped]

        return opencc.OpenCC("t2s").convert
    except Exception:  # noqa: BLE001 - optional; the prompt already steers to simplified Chinese
        return lambda s: s


class WhisperEngine(Engine):
    """faster-whisper engine.

    Args:
        model_dir: a CTranslate2 whisper model folder (see :func:`voice.models.whisper_model_dir`).
        prompt_terms: terms for the initial prompt, most important first (KB matter names, service words).
        cpu_threads: CTranslate2 threads.
        compute_type: CTranslate2 compute type (``int8`` on CPU).
        beam_size: decoding beam of final results (and of the speculative decode at the start of trailing
            silence, which becomes the final result when no more speech follows). Measured on the fixtures:
            beam 5 vs greedy lowers the CER after correction from 13.4 % to 12.5 % at 1.7× the decode time.
        partial_beam_size: decoding beam of partial results (greedy: they are only a preview).
        eof_beam_size: decoding beam when an interactive stream ends (button released) with speech not decoded
            yet. Measured here: greedy did not make that case faster (p50 1.87 s vs 1.75 s with beam 5 — the
            encoder's fixed 30 s window dominates), so the default is the full beam.
        partial_interval_s: minimum new audio between two partial decodes.
        end_silence_s: trailing silence that ends an utterance (1 s: people pause ~0.6 s at a comma, and
            elderly speakers longer; push-to-talk clients end it at once with ``eof``).
    """

    name = "whisper"

    def __init__(self, model_dir: Path, prompt_terms: list[str] | tuple[str, ...] = (), cpu_threads: int = 2,
                 compute_type: str = "int8", beam_size: int = 5, partial_beam_size: int = 1, eof_beam_size: int = 5,
                 partial_interval_s: float = 1.0,
                 end_silence_s: float = 1.0):
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
        self.prompt = build_prompt(list(prompt_terms))
        self.beam_size = beam_size
        self.partial_beam_size = partial_beam_size
        self.eof_beam_size = eof_beam_size
        self.partial_interval_s = partial_interval_s
        self.end_silence_s = end_silence_s
        self._lock = threading.Lock()
        self._simplify = _simplifier()
        self.decode_seconds = 0.0
        self.decoded_audio_seconds = 0.0
        log.info("voice.whisper.loaded model=%s seconds=%.2f", model_dir, time.perf_counter() - started)

    def recognizer(self, phrases: list[str] | None = None, partials: bool = True) -> "WhisperRecognizer":
        """A streaming session.

        Args:
            phrases: extra hotwords for this session (put first in the prompt).
            partials: decode partial results while audio arrives (off for batch transcription).
        """
        prompt = build_prompt(list(phrases) + [self.prompt]) if phrases else self.prompt
        return WhisperRecognizer(self, prompt, partials)

    def transcribe_pcm(self, pcm16: bytes, chunk_bytes: int = 32000) -> Result:
        """Whole-recording transcription (no partial decodes; see :meth:`Engine.transcribe_pcm`)."""
        return drain(self.recognizer(partials=False), pcm16, chunk_bytes, "")

    def decode(self, samples: np.ndarray, prompt: str | None = None, beam_size: int | None = None
               ) -> tuple[str, float]:
        """Decode one utterance.

        Args:
            samples: mono float32 audio at 16 kHz (at most 30 s are used).
            prompt: the initial prompt (default: the engine's).
            beam_size: the beam (default: the engine's final-result beam).

        Returns:
            ``(text, confidence)`` — text without punctuation or spaces, in simplified characters; ``""`` when
            whisper judges the audio to be no speech or the output is a known hallucination.
        """
        if len(samples) < SAMPLE_RATE // 10:
            return "", 0.0
        started = time.perf_counter()
        with self._lock:
            segments, _info = self.model.transcribe(
                samples[: 30 * SAMPLE_RATE], language="zh", task="transcribe",
                beam_size=beam_size or self.beam_size,
                temperature=0.0, initial_prompt=prompt if prompt is not None else self.prompt,
                condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
            )
            segs = list(segments)
        elapsed = time.perf_counter() - started
        self.decode_seconds += elapsed
        self.decoded_audio_seconds += len(samples) / SAMPLE_RATE
        kept, logprobs = [], []
        for s in segs:
            if s.no_speech_prob > 0.6 and s.avg_logprob < -0.8:
                continue
            if s.compression_ratio > 2.4:
                continue
            kept.append(s.text)
            logprobs.append(s.avg_logprob)
        text = _PUNCT.sub("", self._simplify("".join(kept)))
        if any(h in text for h in _HALLUCINATIONS):
            text = ""
        conf = math.exp(sum(logprobs) / len(logprobs)) if logprobs and text else 0.0
        return text, conf


class WhisperRecognizer(StreamingRecognizer):
    """One session of :class:`WhisperEngine` (see the module docstring for how partials are made)."""

    _PAD = int(0.25 * SAMPLE_RATE)

    def __init__(self, engine: WhisperEngine, prompt: str, partials: bool = True):
        self.engine = engine
        self.prompt = prompt
        self.partials = partials
        self.ep = Endpointer(end_silence_s=engine.end_silence_s)
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self._partial = ""
        self._decoded_upto = 0
        self._last_decode_s = 0.0
        self._cache: tuple[int, str, float] | None = None  # (samples covered, text, conf)
        self._results: deque[Result] = deque()

    # -- helpers -----------------------------------------------------------------------------------------
    def _buffer(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.float32)

    def _append(self, x: np.ndarray) -> None:
        if len(x):
            self._chunks.append(x)
            self._n += len(x)

    def _speech_span(self) -> tuple[int, int]:
        f = Endpointer.FRAME
        start = max(0, self.ep.first_speech_frame * f - self._PAD)
        end = min(self._n, (self.ep.last_speech_frame + 1) * f + self._PAD)
        return start, end

    def _decode_span(self, beam_size: int | None = None) -> tuple[str, float, int]:
        start, end = self._speech_span()
        if self._cache and self._cache[0] >= end:
            return self._cache[1], self._cache[2], end
        t0 = time.perf_counter()
        text, conf = self.engine.decode(self._buffer()[start:end], self.prompt, beam_size=beam_size)
        self._last_decode_s = time.perf_counter() - t0
        self._cache = (end, text, conf)
        return text, conf, end

    def _finalize(self, beam_size: int | None = None) -> Result:
        audio_s = self._n / SAMPLE_RATE
        if not self.ep.in_speech:
            res = Result(text="", speech=False, audio_s=audio_s)
        else:
            text, conf, _ = self._decode_span(beam_size)
            start, end = self._speech_span()
            words = [{"word": text, "start": round(start / SAMPLE_RATE, 2), "end": round(end / SAMPLE_RATE, 2),
                      "conf": round(conf, 3)}] if text else []
            res = Result(text=text, words=words, speech=True, audio_s=audio_s)
        self._chunks, self._n, self._partial, self._decoded_upto, self._cache = [], 0, "", 0, None
        self.ep.reset()
        return res

    # -- interface ---------------------------------------------------------------------------------------
    def accept(self, pcm16: bytes) -> bool:
        x = as_float(pcm16)
        while len(x):
            cut = self.ep.feed(x)
            if cut is None:
                self._append(x)
                break
            self._append(x[:cut])
            self._results.append(self._finalize())
            x = x[cut:]
        if self.partials and self.ep.in_speech:
            silence_s = self.ep.trailing_silence * Endpointer.FRAME / SAMPLE_RATE
            if silence_s >= 0.2:
                # speech has (probably) ended: decode now so the final result is ready at the endpoint
                text, _, _ = self._decode_span()
                self._partial = text or self._partial
                self._decoded_upto = self._n
            elif (self._n - self._decoded_upto) / SAMPLE_RATE >= max(self.engine.partial_interval_s,
                                                                      1.2 * self._last_decode_s):
                t0 = time.perf_counter()
                text, _ = self.engine.decode(self._buffer()[self._speech_span()[0]:], self.prompt,
                                             beam_size=self.engine.partial_beam_size)
                self._last_decode_s = time.perf_counter() - t0
                self._partial = text or self._partial
                self._decoded_upto = self._n
        return bool(self._results)

    def has_result(self) -> bool:
        """True while finished utterances are waiting to be read with :meth:`result`."""
        return bool(self._results)

    def partial(self) -> str:
        return self._partial

    def result(self) -> Result:
        return self._results.popleft() if self._results else Result(text="", speech=False)

    def finish(self) -> Result:
        if self._results:
            # an utterance ended but was not read: return it joined with whatever is pending
            done = list(self._results)
            self._results.clear()
            tail = self._finalize(self._eof_beam())
            parts = done + [tail]
            return Result(text="".join(r.text for r in parts if r.text), words=[w for r in parts for w in r.words],
                          speech=any(r.speech for r in parts), audio_s=sum(r.audio_s for r in parts))
        return self._finalize(self._eof_beam())

    def _eof_beam(self) -> int | None:
        """Interactive sessions decode what is left at ``eof`` greedily (someone is waiting); batch ones fully."""
        return self.engine.eof_beam_size if self.partials else None
