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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice.audio import SAMPLE_RATE, float_to_pcm16
from voice.engine import Endpointer, Engine, Hypothesis, Result, StreamingRecognizer, as_float, drain, join_results
from voice.frontend import FrontendConfig, VadConfig, VadEndpointer, condition, make_vad
from voice.lexicon import PROMPT_HEAD, echoes_prompt

log = logging.getLogger(__name__)

_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:\"'“”‘’（）()《》〈〉【】\[\]…—\-~·]+")
#: Things whisper is known to "hear" in silence or noise (subtitle credits from its training data).
_HALLUCINATIONS = ("字幕", "订阅", "点赞", "打赏", "明镜", "Amara", "感谢观看", "谢谢观看", "请不吝")
_MAX_PROMPT_CHARS = 120
_MAX_TOKENS = 448
#: The longest hearing a decode may produce: this many tokens plus ``_TOKENS_PER_S`` per second of audio (a fast
#: Mandarin speaker says ~7 characters a second, at most ~2 tokens each).
_MIN_TOKENS = 16
_TOKENS_PER_S = 15
#: At ``eof``, audio this loud (90th percentile of 32 ms frames, dBFS) is decoded even without a VAD utterance.
_WEAK_SPEECH_DBFS = -45.0


@dataclass
class Decoded:
    """What one decode of an utterance gives: the n-best candidates and the best one's word timings."""

    hypotheses: list[Hypothesis] = field(default_factory=list)
    words: list[dict] = field(default_factory=list)
    no_speech_prob: float = 0.0

    @property
    def text(self) -> str:
        return self.hypotheses[0].text if self.hypotheses else ""

    #: exp(mean token log-probability) of the best candidate (0 when there is none).
    confidence: float = 0.0
    #: the encoder output and frame count (kept for :meth:`WhisperEngine.redecode`).
    encoded: object = field(default=None, repr=False, compare=False)
    frames: int = 0


def build_prompt(terms: list[str] | tuple[str, ...], max_chars: int = _MAX_PROMPT_CHARS) -> str:
    """The initial prompt: a simplified-Chinese sentence listing service terms (whisper's "hotwords").

    Args:
        terms: lexicon terms, most important first; duplicates and over-long terms are skipped.
        max_chars: the prompt's length cap (whisper keeps at most 224 prompt tokens).
    """
    head = PROMPT_HEAD
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
        n_best: how many beam candidates a final decode keeps (``Result.alternatives``; at most ``beam_size``).
        partial_beam_size: decoding beam of partial results (greedy: they are only a preview).
        eof_beam_size: decoding beam when an interactive stream ends (button released) with speech not decoded
            yet.
        redecode_beam_size: decoding beam of the biased second pass (:meth:`redecode`). Measured with the 20 s
            window on the three noisy draws (108 clips): beam 2 against 5 — top-1 48 vs 46, top-3 58 vs 57, a wrong
            matter answered at once 7 vs 6, and the pass takes ~0.25 s instead of ~0.5 s.
        partial_interval_s: minimum new audio between two partial decodes.
        end_silence_s: trailing non-speech that ends an utterance (VAD frames; people pause ~0.6 s at a comma;
            push-to-talk clients end it at once with ``eof``).
        vad: ``"auto"`` (Silero when installed, else energy), ``"silero"``, ``"energy"``, or ``"legacy"`` (the
            old energy :class:`voice.engine.Endpointer`, for comparison).
        frontend: the conditioning before each decode (:class:`voice.frontend.FrontendConfig`; None: none).
        lead_s: audio kept before the first speech frame the VAD found (under babble the VAD misses soft
            onsets; whisper copes with some noise before the speech). Measured on the noisy set: 0.3 s gave
            voice → matter top-1 19 % (best hearing), the whole utterance buffer 33 %, 1 s about the same as the
            whole buffer; a long silent lead (a second question after a pause) made whisper misread it, so 1 s.
        window_s: encoder window of final decodes: None = whisper's fixed 30 s; a number = the utterance padded
            up to a multiple of it (see :meth:`_window_frames`). Measured (n-best decision with the 2nd pass,
            top-1 / top-3): 10 s — clean 94.4 / 100 %, noisy 44.4 / 52.8 %, batch RTF 0.36–0.39; 30 s — clean
            94.4 / 100 %, noisy 38.9 / 44.4 %, RTF 0.55–0.74; 5 s — noisy 33.3 / 44.4 %. But with 10 s two of the
            five clean clips the tests expect word for word came out worse (失业→试验, 犯罪→午饭) and the noisy gain
            is two clips of 36, so finals kept 30 s until 2026-12-01. Then, with the decision's doubts, 20 s against
            30 s on the clean set and three noisy draws (seeds 14–16, 108 clips): clean top-1 36/36 both; noisy
            top-1 46 vs 46, top-3 57 vs 53, answered a wrong matter at once 6 vs 8; batch decoding 31 % faster
            (encoder 0.18 s instead of 0.39 s on a quiet 2-core Xeon, the beam-5 decoder ~0.55 s either way) —
            so 20 s, which brings end of speech → reply down by about the encoder's saving.
        partial_window_s: encoder window of partial (preview) decodes: 10 s makes the encoder ~9× cheaper
            (1.1 s → 0.13 s on the loaded 2-core machine), so partials do not push the stream behind real time.
        denoiser: neural noise suppression before decoding (:class:`voice.denoise.DeepFilter`; None: none). Each
            session streams its audio through it as the audio arrives and decodes the denoised copy; the VAD
            still listens to the raw audio.
        rehearings: how many times an utterance can be heard when the decision is unsure
            (:meth:`VoicePipeline.decide <voice.factory.VoicePipeline.decide>`): the first hearing plus
            ``rehearings - 1`` whole recognitions of copies of the utterance's audio with a dither of one least
            significant bit of 16-bit audio (:meth:`rehear`). In babble whisper base's hearing flips on the least change to the samples — the same
            clips read with another WAV decoder (values off by one LSB) gave 9 matters right of 36 instead of 14 —
            so several hearings that agree say more than one. Measured on three noisy draws (108 clips): see
            docs/benchmarks.md (Issue 14, rehearing); 1 turns it off.
    """

    name = "whisper"

    def __init__(self, model_dir: Path, prompt_terms: list[str] | tuple[str, ...] = (), cpu_threads: int = 2,
                 compute_type: str = "int8", beam_size: int = 5, n_best: int = 5, partial_beam_size: int = 1,
                 eof_beam_size: int = 5, redecode_beam_size: int = 2, partial_interval_s: float = 1.0,
                 end_silence_s: float = 0.8,
                 vad: str = "auto", frontend: FrontendConfig | None = FrontendConfig(), lead_s: float = 1.0,
                 window_s: float | None = 20.0, partial_window_s: float | None = 10.0, denoiser=None,
                 rehearings: int = 3):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        started = time.perf_counter()
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language="zh")
        self.prompt = build_prompt(list(prompt_terms))
        self.beam_size = beam_size
        self.n_best = max(1, min(n_best, beam_size))
        self.partial_beam_size = partial_beam_size
        self.eof_beam_size = eof_beam_size
        self.redecode_beam_size = redecode_beam_size
        self.partial_interval_s = partial_interval_s
        self.end_silence_s = end_silence_s
        self.vad_kind = vad
        self.frontend = frontend
        self.lead_s = lead_s
        self.window_s = window_s
        self.partial_window_s = partial_window_s
        self.denoiser = denoiser
        self.rehearings = max(1, rehearings)
        self._lock = threading.Lock()
        self._simplify = _simplifier()
        self._suppress = self._suppressed_tokens()
        self.decode_seconds = 0.0
        self.decoded_audio_seconds = 0.0
        log.info("voice.whisper.loaded model=%s seconds=%.2f", model_dir, time.perf_counter() - started)

    def _suppressed_tokens(self) -> list[int]:
        tok = self.tokenizer
        ids = set(tok.non_speech_tokens)
        ids.update([tok.transcribe, tok.translate, tok.sot, tok.sot_prev, tok.sot_lm, tok.no_speech])
        return sorted(ids)

    def recognizer(self, phrases: list[str] | None = None, partials: bool = True, max_alternatives: int = 0,
                   words: bool = False) -> "WhisperRecognizer":
        """A streaming session.

        Args:
            phrases: extra hotwords for this session (put first in the prompt).
            partials: decode partial results while audio arrives (off for batch transcription).
            max_alternatives: n-best candidates wanted per final result (0: the engine's ``n_best``).
            words: give real per-word (per-token) timings in final results (an extra alignment pass).
        """
        prompt = build_prompt(list(phrases) + [self.prompt]) if phrases else self.prompt
        return WhisperRecognizer(self, prompt, partials, n_best=max_alternatives or self.n_best, words=words)

    def endpointer(self):
        """A fresh endpointer of the configured kind."""
        if self.vad_kind == "legacy":
            return _LegacyEndpointer(Endpointer(end_silence_s=self.end_silence_s))
        return VadEndpointer(make_vad(self.vad_kind), VadConfig(end_silence_s=self.end_silence_s))

    def transcribe_pcm(self, pcm16: bytes, chunk_bytes: int = 32000) -> Result:
        """Whole-recording transcription (no partial decodes; see :meth:`Engine.transcribe_pcm`)."""
        return drain(self.recognizer(partials=False), pcm16, chunk_bytes, "")

    def decode(self, samples: np.ndarray, prompt: str | None = None, beam_size: int | None = None
               ) -> tuple[str, float]:
        """Decode one utterance: ``(text, confidence)`` of the best candidate (see :meth:`decode_nbest`)."""
        d = self.decode_nbest(samples, prompt, beam_size, n_best=1)
        return d.text, d.confidence

    def decode_nbest(self, samples: np.ndarray, prompt: str | None = None, beam_size: int | None = None,
                     n_best: int | None = None, words: bool = False, speech_detected: bool = False,
                     window_s: float | None = None) -> Decoded:
        """Decode one utterance into n-best candidates (one encoder pass; the beam's finished hypotheses).

        Args:
            samples: mono float32 audio at 16 kHz (at most 30 s are used), already conditioned.
            prompt: the initial prompt (default: the engine's).
            beam_size: the beam (default: the engine's final-result beam).
            n_best: candidates to return (≤ beam size; default: the engine's).
            words: also align the best candidate to the audio (per-token start/end/probability).
            speech_detected: the VAD found an utterance here; whisper's own no-speech judgement (unreliable in
                babble) is then not used to drop the text.

        Returns:
            candidates without punctuation or spaces, in simplified characters, best first, with their
            posterior among the list; none when whisper judges the audio to be no speech, or a candidate is a
            known hallucination or a repetition loop.
        """
        if len(samples) < SAMPLE_RATE // 10:
            return Decoded()
        from faster_whisper.audio import pad_or_trim

        samples = samples[: 30 * SAMPLE_RATE]
        started = time.perf_counter()
        with self._lock:
            features = self.model.feature_extractor(samples)
            frames = features.shape[-1] - 1
            encoded = self.model.encode(pad_or_trim(features[..., :-1], self._window_frames(frames, window_s)))
            out = self._generate(encoded, frames, prompt, beam_size, n_best, words, speech_detected)
        self.decode_seconds += time.perf_counter() - started
        self.decoded_audio_seconds += len(samples) / SAMPLE_RATE
        return out

    def _window_frames(self, frames: int, window_s: float | None = None) -> int:
        """Mel frames given to the encoder: whisper's fixed 30 s, or (``window_s``) the utterance rounded up to
        ``window_s`` steps — the encoder's cost grows with the window (30 s: ~1.1 s on a loaded 2-core machine;
        10 s: ~0.13 s)."""
        window_s = window_s or self.window_s
        if not window_s:
            return 3000
        step = int(window_s * 100)
        return min(3000, max(step, -(-(frames + 50) // step) * step))

    def redecode(self, decoded: Decoded, prompt: str, n_best: int | None = None) -> Decoded:
        """Decode the same audio again with another prompt, reusing the encoder output (only the decoder runs:
        a fraction of a full decode). Used to bias a second pass to the matters the first one suggested."""
        if decoded.encoded is None:
            return Decoded()
        started = time.perf_counter()
        with self._lock:
            out = self._generate(decoded.encoded, decoded.frames, prompt, self.redecode_beam_size, n_best, False, True)
        self.decode_seconds += time.perf_counter() - started
        return out

    def rehear(self, samples: np.ndarray, prompt: str | None = None, n_best: int | None = None) -> list[Result]:
        """The ``rehearings - 1`` further hearings of an utterance: each a whole recognition (the VAD finds the
        speech again, the front end conditions it, whisper decodes it) of a copy of the utterance's audio as it
        arrived (``samples``) with its own Gaussian dither of one least significant bit of 16-bit audio, seeded by
        the copy's number — the same audio is heard the same way every time. ``prompt``: the first hearing's."""
        out = []
        for k in range(1, self.rehearings):
            dither = np.random.default_rng(k).normal(0.0, 1.0 / 32768, len(samples)).astype(np.float32)
            rec = WhisperRecognizer(self, prompt or self.prompt, partials=False, n_best=n_best or self.n_best)
            out.append(drain(rec, float_to_pcm16(samples + dither), 32000, ""))
        return out

    def _generate(self, encoded, frames: int, prompt: str | None, beam_size: int | None, n_best: int | None,
                  words: bool, speech_detected: bool) -> Decoded:
        tok = self.tokenizer
        beam = max(1, beam_size or self.beam_size)
        n = max(1, min(n_best or self.n_best, beam))
        prompt_text = prompt if prompt is not None else self.prompt
        previous = tok.encode(" " + prompt_text.strip()) if prompt_text else []
        tokens_in = self.model.get_prompt(tok, previous[-(_MAX_TOKENS // 2 - 1):], without_timestamps=True)
        out = Decoded(encoded=encoded, frames=frames)
        # no one says more than ~15 tokens' worth a second: a repetition loop stops there instead of at 448
        max_length = min(_MAX_TOKENS, len(tokens_in) + _MIN_TOKENS + math.ceil(frames / 100 * _TOKENS_PER_S))
        for retry in (False, True):
            # a repetition loop ("统统统统…") in every candidate: once more with a repetition penalty
            res = self.model.model.generate(
                encoded, [tokens_in], beam_size=beam, num_hypotheses=n, length_penalty=1.0,
                max_length=max_length, return_scores=True, return_no_speech_prob=True, suppress_blank=True,
                suppress_tokens=self._suppress, max_initial_timestamp_index=0,
                repetition_penalty=1.3 if retry else 1.0, no_repeat_ngram_size=4 if retry else 0)[0]
            if retry or not all(_looping(tok.decode(ids)) for ids in res.sequences_ids):
                break
        out.no_speech_prob = float(res.no_speech_prob)
        cands: dict[str, tuple[float, float, list[int]]] = {}
        for ids, score in zip(res.sequences_ids, res.scores):
            total = float(score) * max(1, len(ids))  # scores are length-normalised (penalty 1)
            avg = total / (len(ids) + 1)
            raw = tok.decode(ids).strip()
            text = _LOOP.sub(r"\1", _PUNCT.sub("", self._simplify(raw)))  # "统统统统" → "统"
            if not text or hallucinated(text, raw):
                continue
            if text in cands:  # same text after cleaning: one candidate
                prev = cands[text]
                cands[text] = (float(np.logaddexp(prev[0], total)), max(prev[1], avg), prev[2])
            else:
                cands[text] = (total, avg, list(ids))
        if cands:
            best_avg = next(iter(cands.values()))[1]
            if not speech_detected and out.no_speech_prob > 0.6 and best_avg < -0.8:
                cands = {}
        if cands:
            totals = np.array([c[0] for c in cands.values()])
            post = np.exp(totals - totals.max())
            post /= post.sum()
            out.hypotheses = [Hypothesis(t, round(c[0], 3), round(float(p), 4))
                              for (t, c), p in zip(cands.items(), post)]
            out.confidence = math.exp(cands[out.hypotheses[0].text][1])
            if words:
                out.words = self._align(encoded, cands[out.hypotheses[0].text][2], frames)
        return out

    def _align(self, encoded, ids: list[int], frames: int) -> list[dict]:
        """Per-token timings of ``ids`` (cross-attention alignment, as faster-whisper's word timestamps)."""
        try:
            aligned = self.model.find_alignment(self.tokenizer, [ids], encoded, frames)[0]
        except Exception as exc:  # noqa: BLE001 - timings are an extra; the text stands without them
            log.warning("voice.whisper.align_failed error=%s", exc)
            return []
        words = []
        for w in aligned:
            text = _PUNCT.sub("", self._simplify(w["word"]))
            if not text:
                continue
            words.append({"word": text, "start": round(float(w["start"]), 2), "end": round(float(w["end"]), 2),
                          "conf": round(float(w["probability"]), 3)})
        return words


#: A unit of 1–6 characters said four or more times in a row: whisper's repetition loop, not speech.
_LOOP = re.compile(r"(.{1,6}?)\1{3,}")
#: A word of 2–6 characters three times in a row («户口居住证户口居住证户口居住证»): in babble, whisper loops on
#: its prompt's terms; people do not say a term three times running.
_TERM_LOOP = re.compile(r"(.{2,6})\1{2,}")


def hallucinated(text: str, raw: str = "") -> bool:
    """Whether a cleaned hearing (``raw``: before cleaning) is something whisper makes up rather than hears:
    subtitle credits, a repetition loop (also of a term three times running), or its prompt's opening sentence."""
    return (any(h in text for h in _HALLUCINATIONS) or _compression_ratio(raw or text) > 2.4
            or bool(_TERM_LOOP.search(text)) or echoes_prompt(text))


def _looping(text: str) -> bool:
    return bool(_LOOP.search(_PUNCT.sub("", text))) or _compression_ratio(text) > 2.4


def _compression_ratio(text: str) -> float:
    import zlib

    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


class _LegacyEndpointer:
    """The old energy :class:`voice.engine.Endpointer` behind the :class:`voice.frontend.VadEndpointer` face."""

    def __init__(self, ep: Endpointer):
        self.ep = ep
        self.probs: list[float] = []

    def reset(self) -> None:
        self.ep.reset()

    def feed(self, samples: np.ndarray) -> int | None:
        return self.ep.feed(samples)

    @property
    def in_speech(self) -> bool:
        return self.ep.in_speech

    @property
    def trailing_silence_s(self) -> float:
        return self.ep.trailing_silence * Endpointer.FRAME / SAMPLE_RATE

    @property
    def first_speech_sample(self) -> int:
        return max(0, self.ep.first_speech_frame * Endpointer.FRAME)

    @property
    def last_speech_sample(self) -> int:
        return (self.ep.last_speech_frame + 1) * Endpointer.FRAME


class WhisperRecognizer(StreamingRecognizer):
    """One session of :class:`WhisperEngine` (see the module docstring for how partials are made)."""

    _PAD = int(0.3 * SAMPLE_RATE)

    def __init__(self, engine: WhisperEngine, prompt: str, partials: bool = True, n_best: int = 5,
                 words: bool = False):
        self.engine = engine
        self.prompt = prompt
        self.partials = partials
        self.n_best = n_best
        self.words = words
        self.ep = engine.endpointer()
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self._partial = ""
        self._decoded_upto = 0
        self._last_decode_s = 0.0
        self._cache: tuple[int, int, Decoded] | None = None  # (span start, span end, decoded)
        self._results: deque[Result] = deque()
        # the denoised copy of the stream (stream coordinates): samples [_den_base, _den_n) in _den
        self._dn = engine.denoiser.stream() if engine.denoiser is not None else None
        self._den: list[np.ndarray] = []
        self._den_base = 0
        self._den_n = 0
        self._utt0 = 0  # stream position of the current utterance's first sample

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
        """The utterance's span in the buffer: from ``lead_s`` before the first speech to ``_PAD`` after the last.
        The end may lie beyond the audio received so far (a speculative decode in the first 0.3 s of a pause
        covers what the final one will: the pause's audio is not speech, whisper needs none of it)."""
        if not self.ep.in_speech:
            return 0, self._n
        start = max(0, self.ep.first_speech_sample - int(self.engine.lead_s * SAMPLE_RATE))
        return start, self.ep.last_speech_sample + self._PAD

    def _denoise(self, x: np.ndarray, flush: bool = False) -> None:
        """Stream ``x`` through the denoiser (at ``eof``: ``flush`` pushes out the last ~40 ms too)."""
        if self._dn is None:
            return
        for y in (self._dn.feed(x), self._dn.flush() if flush else None):
            if y is not None and len(y):
                self._den.append(y)
                self._den_n += len(y)

    def _denoised(self, start: int, end: int) -> np.ndarray:
        """Utterance samples [start, end) from the denoised copy (a tail the denoiser has not given out yet,
        at most ~40 ms, is silence)."""
        if len(self._den) > 1:
            self._den = [np.concatenate(self._den)]
        buf = self._den[0] if self._den else np.zeros(0, dtype=np.float32)
        a, b = self._utt0 + start - self._den_base, self._utt0 + end - self._den_base
        y = buf[max(0, a):max(0, min(b, len(buf)))]
        if len(y) < end - start:
            y = np.concatenate([y, np.zeros(end - start - len(y), dtype=np.float32)])
        return y

    def _prepare(self, start: int, end: int) -> np.ndarray:
        x = self._denoised(start, end) if self._dn is not None else self._buffer()[start:end]
        return condition(x, self.engine.frontend) if self.engine.frontend is not None else x

    def _decode_span(self, beam_size: int | None = None, heard: bool = False) -> tuple[Decoded, int, int]:
        start, end = self._speech_span()
        if self._cache and self._cache[0] == start and self._cache[1] >= end:
            return self._cache[2], start, end
        t0 = time.perf_counter()
        d = self.engine.decode_nbest(self._prepare(start, min(end, self._n)), self.prompt, beam_size=beam_size,
                                     n_best=self.n_best, words=self.words,
                                     speech_detected=self.ep.in_speech or heard)
        self._last_decode_s = time.perf_counter() - t0
        self._cache = (start, end, d)
        return d, start, end

    def _weak_speech(self) -> bool:
        """No utterance was detected, but something might be there: some VAD evidence, or sound well above
        silence (under babble Silero can miss the visitor's voice altogether). Decoded at ``eof`` — the visitor
        held the button — and whisper's own no-speech judgement and the hallucination filter decide."""
        probs = getattr(self.ep, "probs", None) or []
        if probs and max(probs) >= 0.2:
            return True
        x = self._buffer()
        n = len(x) // 512
        if n == 0:
            return False
        levels = 10 * np.log10(np.mean(x[: n * 512].reshape(n, 512).astype(np.float64) ** 2, axis=1) + 1e-12)
        return float(np.percentile(levels, 90)) >= _WEAK_SPEECH_DBFS

    def _finalize(self, beam_size: int | None = None, eof: bool = False) -> Result:
        audio_s = self._n / SAMPLE_RATE
        weak = eof and not self.ep.in_speech and self._weak_speech()
        if not self.ep.in_speech and not weak:
            res = Result(text="", speech=False, audio_s=audio_s)
        else:
            d, start, end = self._decode_span(beam_size, heard=weak)
            offset = start / SAMPLE_RATE
            if d.words:
                # alignment tends to start the first word at the segment's start: no word before the VAD's onset
                onset = self.ep.first_speech_sample / SAMPLE_RATE if self.ep.in_speech else 0.0
                words = []
                for w in d.words:
                    st = max(w["start"] + offset, onset)
                    words.append({**w, "start": round(st, 2), "end": round(max(w["end"] + offset, st), 2)})
            else:
                stop = min(end, self._n) / SAMPLE_RATE
                words = [{"word": d.text, "start": round(offset, 2), "end": round(stop, 2),
                          "conf": round(d.confidence, 3)}] if d.text else []
            res = Result(text=d.text, words=words, speech=self.ep.in_speech or bool(d.text), audio_s=audio_s,
                         alternatives=list(d.hypotheses), confidence=d.confidence if d.text else None)
            if d.encoded is not None:
                engine, n = self.engine, self.n_best
                res.redecode = lambda prompt, _d=d: engine.redecode(_d, prompt, n).hypotheses
            if d.text and self.engine.rehearings > 1:
                engine, n, prompt, audio = self.engine, self.n_best, self.prompt, self._buffer().copy()
                res.rehear = lambda: [(x.alternatives or ([Hypothesis(x.text, 0.0, 1.0)] if x.text else []),
                                       x.confidence) for x in engine.rehear(audio, prompt, n)]
        self._utt0 += self._n
        if self._dn is not None and self._den:
            # keep only what the next utterance can still use
            buf = np.concatenate(self._den)[max(0, self._utt0 - self._den_base):]
            self._den, self._den_base = [buf], self._den_n - len(buf)
        self._chunks, self._n, self._partial, self._decoded_upto, self._cache = [], 0, "", 0, None
        self.ep.reset()
        return res

    # -- interface ---------------------------------------------------------------------------------------
    def accept(self, pcm16: bytes) -> bool:
        x = as_float(pcm16)
        self._denoise(x)
        while len(x):
            cut = self.ep.feed(x)
            if cut is None:
                self._append(x)
                break
            self._append(x[:cut])
            self._results.append(self._finalize())
            x = x[cut:]
        if self.partials and self.ep.in_speech:
            if self.ep.trailing_silence_s >= 0.2:
                # speech has (probably) ended: decode now so the final result is ready at the endpoint
                d, _, _ = self._decode_span()
                self._partial = d.text or self._partial
                self._decoded_upto = self._n
            elif (self._n - self._decoded_upto) / SAMPLE_RATE >= max(self.engine.partial_interval_s,
                                                                      2.5 * self._last_decode_s):
                # (at most 40 % of the time on partials, so a loaded machine does not fall behind the audio)
                t0 = time.perf_counter()
                start, _ = self._speech_span()
                d = self.engine.decode_nbest(self._prepare(start, self._n), self.prompt,
                                             beam_size=self.engine.partial_beam_size, n_best=1,
                                             window_s=self.engine.partial_window_s)
                self._last_decode_s = time.perf_counter() - t0
                self._partial = d.text or self._partial
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
        self._denoise(np.zeros(0, dtype=np.float32), flush=True)
        if self._results:
            # an utterance ended but was not read: return it joined with whatever is pending
            done = list(self._results)
            self._results.clear()
            tail = self._finalize(self._eof_beam(), eof=True)
            return join_results(done + [tail], "")
        return self._finalize(self._eof_beam(), eof=True)

    def _eof_beam(self) -> int | None:
        """The beam for what is left at ``eof``: the interactive one (``eof_beam_size``) or the full one."""
        return self.engine.eof_beam_size if self.partials else None
