"""Vosk (Kaldi) engine: true streaming recognition with a ``KaldiRecognizer`` per session.

The model folder comes from the settings (``vosk_model_path``, or what ``jinxiaoer voice fetch-model``
installed). Small Vosk models (those with a dynamic graph, ``graph/HCLr.fst`` + ``graph/Gr.fst``) accept a
grammar: a phrase list restricts recognition to those phrases plus ``[unk]``. The KB lexicon gives the default
phrase list; a vosk-server client may send its own (``{"config": {"phrase_list": [...]}}``). Phrases whose words
the model does not know are dropped (Vosk would otherwise log a warning per word and ignore them).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path

from voice.audio import SAMPLE_RATE
from voice.engine import Engine, Hypothesis, Result, StreamingRecognizer, as_float

log = logging.getLogger(__name__)


def supports_grammar(model_dir: Path) -> bool:
    """True when the model has a dynamic graph (so ``SetGrammar`` / a phrase list works)."""
    g = Path(model_dir) / "graph"
    return (g / "HCLr.fst").is_file() and (g / "Gr.fst").is_file()


class VoskEngine(Engine):
    """Vosk engine.

    Args:
        model_dir: a Vosk model folder.
        phrases: default phrase list (grammar) for models that take one; ``None`` = free recognition.
        max_phrases: cap on the phrase list size (a large grammar slows decoding down).
    """

    name = "vosk"

    def __init__(self, model_dir: Path, phrases: list[str] | None = None, max_phrases: int = 1000):
        import vosk

        vosk.SetLogLevel(-1)
        started = time.perf_counter()
        self.model_dir = Path(model_dir)
        self._vosk = vosk
        self.model = vosk.Model(str(self.model_dir))
        self.grammar_capable = supports_grammar(self.model_dir)
        self.max_phrases = max_phrases
        self._lock = threading.Lock()
        self.default_phrases = self.filter_phrases(phrases or []) if self.grammar_capable else []
        log.info("voice.vosk.loaded model=%s grammar=%s phrases=%d seconds=%.2f", self.model_dir,
                 self.grammar_capable, len(self.default_phrases), time.perf_counter() - started)

    def knows(self, word: str) -> bool:
        """True when ``word`` is in the model's vocabulary."""
        return self.model.vosk_model_find_word(word) != -1

    def filter_phrases(self, phrases: list[str]) -> list[str]:
        """Keep the phrases all of whose words the model knows.

        A phrase is space-separated words; a Chinese phrase without spaces is split into the longest known
        words from the left (the Chinese models' vocabularies are words, not characters).
        """
        out: list[str] = []
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase.strip():
                continue
            words = phrase.split() if " " in phrase.strip() else self._segment(phrase.strip())
            if words and all(self.knows(w) for w in words):
                joined = " ".join(words)
                if joined not in out:
                    out.append(joined)
            if len(out) >= self.max_phrases:
                break
        return out

    def _segment(self, text: str) -> list[str]:
        if self.knows(text):
            return [text]
        words, i = [], 0
        while i < len(text):
            for j in range(min(len(text), i + 8), i, -1):
                if self.knows(text[i:j]):
                    words.append(text[i:j])
                    i = j
                    break
            else:
                return []  # a character the model cannot spell
        return words

    def recognizer(self, phrases: list[str] | None = None, sample_rate: int = SAMPLE_RATE,
                   max_alternatives: int = 0, words: bool = True) -> "VoskRecognizer":
        """A streaming session.

        Args:
            phrases: a phrase list for this session (replaces the default); ignored by models without a
                dynamic graph.
            sample_rate: the rate of the PCM the session will get (16 kHz after the app's resampling).
            max_alternatives: n-best candidates per final result (Kaldi's lattice n-best; 0 = best only).
            words: word timings in results (always on for the kiosk; vosk-server's ``words``).
        """
        grammar = None
        if self.grammar_capable:
            chosen = self.filter_phrases(phrases) if phrases is not None else self.default_phrases
            if chosen:
                grammar = json.dumps(chosen + (["[unk]"] if self.knows("[unk]") else []), ensure_ascii=False)
        with self._lock:
            if grammar is not None:
                rec = self._vosk.KaldiRecognizer(self.model, float(sample_rate), grammar)
            else:
                rec = self._vosk.KaldiRecognizer(self.model, float(sample_rate))
        rec.SetWords(True)
        if max_alternatives > 0:
            rec.SetMaxAlternatives(int(max_alternatives))
        return VoskRecognizer(rec, grammar is not None)


def _text(raw: dict) -> str:
    text = (raw.get("text") or raw.get("partial") or "").replace("[unk]", "").strip()
    return " ".join(text.split())


class VoskRecognizer(StreamingRecognizer):
    """One ``KaldiRecognizer`` session (Vosk's own endpointing decides when an utterance ends)."""

    def __init__(self, rec, grammar: bool):
        self.rec = rec
        self.grammar = grammar
        self._samples = 0
        self._final: Result | None = None

    def accept(self, pcm16: bytes) -> bool:
        as_float(pcm16)  # type check only
        data = bytes(pcm16)
        if len(data) % 2:
            data = data[:-1]
        self._samples += len(data) // 2
        if self.rec.AcceptWaveform(data):
            self._final = self._to_result(json.loads(self.rec.Result()))
            return True
        return False

    def _to_result(self, raw: dict) -> Result:
        alts = raw.get("alternatives")
        hyps: list[Hypothesis] = []
        if isinstance(alts, list) and alts:
            # n-best mode: Kaldi's candidates with total lattice scores; the best one carries the words
            scores = [float(a.get("confidence", 0.0)) for a in alts]
            top = max(scores)
            post = [math.exp(min(0.0, sc - top)) for sc in scores]
            total = sum(post) or 1.0
            for a, sc, p in zip(alts, scores, post):
                t = _text(a)
                if t:
                    hyps.append(Hypothesis(t, sc, round(p / total, 4)))
            raw = alts[0]
        text = _text(raw)
        words = [w for w in raw.get("result", []) if w.get("word") != "[unk]"]
        res = Result(text=text, words=words, final=True, speech=bool(text or raw.get("result")),
                     audio_s=self._samples / SAMPLE_RATE, alternatives=hyps)
        self._samples = 0
        return res

    def partial(self) -> str:
        return _text(json.loads(self.rec.PartialResult()))

    def result(self) -> Result:
        res, self._final = self._final, None
        return res or Result(text="", speech=False)

    def finish(self) -> Result:
        return self._to_result(json.loads(self.rec.FinalResult()))
