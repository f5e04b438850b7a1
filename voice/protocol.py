"""The vosk-server WebSocket protocol's messages, for every engine (the app's ``/ws/asr`` and ``/ws/kiosk``).

Client options (the optional first text frame ``{"config": {…}}``), as vosk-server reads them:

* ``sample_rate`` (4–192 kHz, resampled), ``phrase_list`` (hotwords / grammar), ``channels`` (an extension);
* ``max_alternatives`` N > 0: final results become ``{"alternatives": [{"text", "confidence"}, …]}`` — the
  engine's real n-best list (whisper: the beam's finished candidates, confidence = posterior among them; Vosk:
  Kaldi's lattice n-best, confidence = posterior of the lattice scores); the first also carries ``"result"``
  (word timings) when ``words`` is on;
* ``words`` true: ``"result": [{"word", "start", "end", "conf"}, …]`` holds real per-word timings (whisper:
  cross-attention alignment of the tokens, as whisper's word timestamps; Vosk: Kaldi's). Without it whisper
  reports one entry spanning the utterance.

Partial results are ``{"partial": "…"}`` in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voice.engine import Result

#: Largest n-best list a client may ask for (vosk-server accepts any; whisper's beam gives at most its size).
MAX_ALTERNATIVES = 10


class ProtocolError(ValueError):
    """A config value the protocol does not allow (the message says which)."""


@dataclass
class Options:
    """The recognition options of one WebSocket session."""

    max_alternatives: int = 0
    words: bool = False

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "Options":
        """Read ``max_alternatives`` and ``words`` from a ``{"config": …}`` object.

        Raises:
            ProtocolError: a value of the wrong type or out of range.
        """
        n = cfg.get("max_alternatives", 0)
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100:
            raise ProtocolError(f"max_alternatives must be an integer 0-100, got {n!r}")
        words = cfg.get("words", False)
        if not isinstance(words, bool):
            raise ProtocolError(f"words must be true or false, got {words!r}")
        return cls(max_alternatives=min(n, MAX_ALTERNATIVES), words=words)

    def recognizer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Engine.recognizer`` (none when the defaults are asked for)."""
        kw: dict[str, Any] = {}
        if self.max_alternatives:
            kw["max_alternatives"] = self.max_alternatives
        if self.words:
            kw["words"] = True
        return kw


def final_message(result: Result, options: Options | None = None) -> dict[str, Any]:
    """The vosk-server message for a final result under ``options``."""
    opts = options or Options()
    if not opts.max_alternatives:
        return {"result": result.words, "text": result.text}
    alts = result.alternatives or ([] if not result.text else None)
    if alts is None:  # an engine without n-best: the best one, sure
        from voice.engine import Hypothesis

        alts = [Hypothesis(result.text, 0.0, 1.0)]
    out = []
    for i, h in enumerate(alts[: opts.max_alternatives]):
        item: dict[str, Any] = {"text": h.text, "confidence": round(float(h.confidence), 4)}
        if opts.words and i == 0:
            item["result"] = result.words
        out.append(item)
    return {"alternatives": out}
