"""Choosing and building the ASR engine, and the transcribe → correct pipeline.

``engine="auto"`` picks Vosk when a Chinese Vosk model is present (``vosk_model_path`` or the folder
``voice fetch-model`` fills), else the offline whisper base. Everything here takes plain arguments; the app
passes its settings' values.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from voice.audio import Audio
from voice.correction import Corrected, PinyinCorrector
from voice.denoise import DenoiseConfig, make_denoiser
from voice.engine import Engine, Result
from voice.lexicon import Lexicon
from voice.models import NO_MODEL_HELP, VOSK_SMALL_CN, ModelError, chinese_vosk_model, whisper_model_dir

log = logging.getLogger(__name__)


def choose_engine(engine: str, cache_dir: Path, vosk_model_path: Path | None = None) -> str:
    """Resolve the engine setting to ``"vosk"`` or ``"whisper"``.

    Args:
        engine: ``"auto"``, ``"vosk"`` or ``"whisper"`` (``settings.asr_engine``).
        cache_dir: the app's cache folder.
        vosk_model_path: ``settings.vosk_model_path``.

    Raises:
        ModelError: ``"vosk"`` was asked for but no Chinese Vosk model is present, or the setting is unknown.
    """
    if engine == "whisper":
        return "whisper"
    have_vosk = chinese_vosk_model(cache_dir, vosk_model_path) is not None
    if engine == "vosk":
        if not have_vosk:
            where = vosk_model_path or "(vosk_model_path not set)"
            raise ModelError(f"asr_engine is 'vosk' but {where} is not a Vosk model folder. "
                             + NO_MODEL_HELP.format(name=VOSK_SMALL_CN))
        return "vosk"
    if engine == "auto":
        return "vosk" if have_vosk else "whisper"
    raise ModelError(f"unknown asr_engine {engine!r} (auto, vosk or whisper)")


def create_engine(engine: str, cache_dir: Path, lexicon: Lexicon, vosk_model_path: Path | None = None,
                  whisper_dir: Path | None = None, cpu_threads: int = 2,
                  denoise: DenoiseConfig | None = None, rehearings: int = 3) -> Engine:
    """Load the chosen engine (once per process: keep the result).

    Args:
        engine: ``"auto"``, ``"vosk"`` or ``"whisper"``.
        cache_dir: the app's cache folder (the whisper model is reassembled there).
        lexicon: the KB lexicon (Vosk phrase list / whisper prompt).
        vosk_model_path: a Vosk model folder (``settings.vosk_model_path``).
        whisper_dir: a faster-whisper model folder (``settings.whisper_model_dir``); default: the packaged one.
        cpu_threads: threads for the whisper decoder.
        denoise: noise suppression before whisper decodes (``settings.asr_denoise*``; None or ``"off"``: none).
            Vosk decodes as it streams and takes the raw audio.
        rehearings: whisper's hearings of an utterance the decision is unsure of (``settings.asr_rehearings``;
            see :class:`voice.whisper_engine.WhisperEngine`).
    """
    kind = choose_engine(engine, cache_dir, vosk_model_path)
    if kind == "vosk":
        from voice.vosk_engine import VoskEngine

        model = chinese_vosk_model(cache_dir, vosk_model_path)
        assert model is not None
        return VoskEngine(model, phrases=lexicon.phrases())
    from voice.whisper_engine import WhisperEngine

    return WhisperEngine(whisper_model_dir(cache_dir, whisper_dir), lexicon.prompt_terms(), cpu_threads=cpu_threads,
                         denoiser=make_denoiser(denoise), rehearings=rehearings)


#: A first decision less sure than this gets the biased second pass (see :meth:`VoicePipeline.decide`): the
#: kiosk's asking threshold — a sure first decision is answered at once, without the extra decoder run.
BIAS_BELOW = 0.5
#: ... and a first decision from this confidence up that has a doubt (a second hearing may not be ambiguous); none
#: below it. Measured on three noisy draws (108 clips, 2026-12-01), against a second pass whenever the first is
#: unsure or doubtful: top-1 47 vs 48, top-3 58 vs 58, answered right at once 33 vs 34, wrong at once 7 vs 7, with
#: ~30 % fewer second passes (each costs ~0.35 s before the kiosk can reply); below 0.4 it had rescued 1 clip of 38.
BIAS_FROM = 0.4


def _scaled(h, w: float):
    from voice.engine import Hypothesis

    text, p = (h.text, h.confidence) if hasattr(h, "text") else (h[0], h[1])
    return Hypothesis(text, getattr(h, "logprob", 0.0), p * w)


@dataclass
class Transcript:
    """A recognised and corrected utterance.

    Attributes:
        transcript: what the engine heard.
        corrected: after the pinyin correction to the lexicon (what goes to the NLU).
        fixes: the corrections made, ``[(original, term)]``.
        speech: False when the audio held no speech.
        audio_s: seconds of audio.
        asr_s: seconds spent recognising.
    """

    transcript: str
    corrected: str
    fixes: list[tuple[str, str]] = field(default_factory=list)
    speech: bool = True
    audio_s: float = 0.0
    asr_s: float = 0.0
    #: the engine's result (n-best list, confidence) — for :meth:`VoicePipeline.decide`.
    result: Result | None = field(default=None, repr=False, compare=False)


class VoicePipeline:
    """An engine plus the pinyin corrector: audio → :class:`Transcript`.

    Args:
        engine: a loaded engine.
        lexicon: the KB lexicon for the correction.
    """

    def __init__(self, engine: Engine, lexicon: Lexicon):
        self.engine = engine
        self.lexicon = lexicon
        self.corrector = PinyinCorrector(lexicon)

    def correct(self, result: Result) -> Transcript:
        """Apply the correction to an engine result."""
        fixed: Corrected = self.corrector.correct(result.text)
        return Transcript(transcript=result.text, corrected=fixed.text,
                          fixes=[(f.original, f.term) for f in fixed.fixes], speech=result.speech,
                          audio_s=result.audio_s)

    def decide(self, result: Result, route, bias: bool = True, rehear: bool = True, **kwargs):
        """What the visitor most likely meant, from the result's n-best list routed by ``route`` (the NLU's
        ``parse``; see :func:`voice.decision.decide`): a :class:`voice.decision.Decision` — ``(text, confidence,
        alternatives)`` and whether to ask «您是想问…吗？» first.

        With ``rehear`` and an engine that can hear an utterance again (whisper: ``Result.rehear``), a decision
        that would not be answered at once (it would ask, or nothing was routed; after the second pass below) is
        made again, second pass included, on all the hearings together: each hearing's n-best list weighs
        ``1/hearings``, the ASR confidence is their mean. A matter several hearings agree on then wins over what
        one hearing made of the babble.

        With ``bias`` and an engine that can re-decode (whisper), a decision of at least ``BIAS_FROM`` that is
        below ``BIAS_BELOW`` or has a doubt gets a second pass:
        the names, aliases and colloquial names of the matters the hearings were routed to go into
        the prompt (KB-derived hotwords for this utterance), the same audio is decoded again (encoder output
        reused), and both passes' hearings are decided on together.
        """
        correct = lambda t: self.corrector.correct(t).text  # noqa: E731
        kwargs.setdefault("doubt", self.doubt)
        hyps = list(result.alternatives or ([(result.text, 1.0)] if result.text else []))
        d = self._decided(hyps, result.confidence, result, route, correct, bias, kwargs)
        if not (rehear and result.rehear is not None and (d.confirm or not d.alternatives)):
            return d
        hearings = [(hyps, result.confidence), *result.rehear()]
        merged = [_scaled(h, 1 / len(hearings)) for heard, _ in hearings for h in heard]
        sure = [c for _, c in hearings if c is not None]
        return self._decided(merged, sum(sure) / len(sure) if sure else None, result, route, correct, bias, kwargs)

    def _decided(self, hyps: list, confidence: float | None, result: Result, route, correct, bias: bool,
                 kwargs: dict):
        """The decision on ``hyps`` (with the biased second pass over ``result``'s audio when unsure)."""
        from voice.decision import decide

        first = decide(hyps, route, correct, asr_confidence=confidence, **{**kwargs, "top_k": 8})
        top_k = kwargs.get("top_k", 3)
        near = first.confidence >= BIAS_FROM and (first.confidence < BIAS_BELOW or bool(first.doubts))
        if not (bias and result.redecode is not None and first.alternatives and near):
            first.alternatives = first.alternatives[:top_k]
            return first
        prompt = self.lexicon.matter_prompt([a.name for a in first.alternatives])
        second = result.redecode(prompt) or []
        merged = [_scaled(h, 0.5) for h in hyps] + [_scaled(h, 0.5) for h in second]
        return decide(merged, route, correct, asr_confidence=confidence, **kwargs)

    def doubt(self, text: str) -> str | None:
        """A reason to doubt a hearing (:func:`voice.decision.decide`'s ``doubt``): two service terms that no
        matter uses together (:meth:`voice.lexicon.Lexicon.unrelated_terms`)."""
        pair = self.lexicon.unrelated_terms(text)
        return f"unrelated_terms:{pair[0]}+{pair[1]}" if pair else None

    def transcribe_pcm(self, pcm16: bytes) -> Result:
        """Engine-like entry point for other channels: 16 kHz mono PCM16 → a :class:`Result` whose ``text`` is
        the corrected transcript (``raw_text`` keeps what the engine heard)."""
        result = self.engine.transcribe_pcm(pcm16)
        fixed = self.corrector.correct(result.text)
        return Result(text=fixed.text, words=result.words, final=True, speech=result.speech,
                      audio_s=result.audio_s, raw_text=result.text, alternatives=result.alternatives,
                      confidence=result.confidence, redecode=result.redecode, rehear=result.rehear)

    def transcribe(self, audio: Audio) -> Transcript:
        """Recognise a whole recording (decoded by :func:`voice.audio.decode_wav`)."""
        t0 = time.perf_counter()
        result = self.engine.transcribe_pcm(audio.pcm16())
        out = self.correct(result)
        out.result = result
        out.asr_s = time.perf_counter() - t0
        out.audio_s = audio.duration_s
        return out
