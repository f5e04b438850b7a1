"""Learned examples: texts a helper resolved in the triage inbox (a matter, an intent, or out of scope), served by the
NLU next to what it was built with.

A :class:`LearnedSet` is an immutable snapshot — the normalised texts, their labels and their sentence vectors.
The NLU holds one and swaps it whole (:meth:`nlu.engine.NLU.set_learned`), so a parse never sees half an update and
nothing is rebuilt: a new example costs one encoding.

How the NLU uses a snapshot (:meth:`nlu.engine.NLU.parse`):

* **matter examples are rows of the matter index**: a taught text scores its matter like one of the matter's own
  texts (the dense score of a matter is the max over its rows, the learned rows included);
* **the nearest learned example decides** when the message is about as close to it as a paraphrase
  (cosine ≥ the match threshold): a matter example routes to its matter, an intent example gives its intent, an
  out-of-scope example makes the message out of scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: What a learned example teaches.
KINDS = ("matter", "intent", "out_of_scope")
#: Cosine to a learned example at which the message counts as the same question (m3e-small: paraphrases of one
#: question score 0.88–0.95, different questions of one topic 0.80–0.86, unrelated ones ~0.75).
DEFAULT_MATCH_THRESHOLD = 0.88


@dataclass(frozen=True)
class LearnedExample:
    """One taught text.

    Attributes:
        text: the normalised text (:func:`nlu.text.normalize` + ``strip_frame``).
        kind: ``matter``, ``intent`` or ``out_of_scope``.
        label: the matter code (``matter``), the intent name (``intent``), ``""`` (``out_of_scope``).
    """

    text: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class LearnedMatch:
    """The learned example nearest a message, with its cosine."""

    example: LearnedExample
    similarity: float


class LearnedSet:
    """An immutable snapshot of learned examples with their vectors.

    Args:
        examples: the examples (one row each).
        vectors: ``(len(examples), dim)`` L2-normalised float32.
        version: an opaque identity of the snapshot (what the store said it was built from).
        threshold: the match threshold (cosine).
    """

    def __init__(self, examples: Sequence[LearnedExample], vectors: np.ndarray, version: str = "",
                 threshold: float = DEFAULT_MATCH_THRESHOLD):
        self.examples = tuple(examples)
        self.vectors = np.ascontiguousarray(vectors, dtype="float32")
        self.version = version
        self.threshold = float(threshold)
        self._vec_of = {e.text: self.vectors[i] for i, e in enumerate(self.examples)}
        self._matter_rows = np.array([i for i, e in enumerate(self.examples) if e.kind == "matter"], dtype="int64")

    def __len__(self) -> int:
        return len(self.examples)

    @classmethod
    def empty(cls, dim: int, threshold: float = DEFAULT_MATCH_THRESHOLD) -> "LearnedSet":
        """A snapshot with nothing learned."""
        return cls((), np.zeros((0, dim), dtype="float32"), "", threshold)

    @classmethod
    def build(cls, examples: Iterable[LearnedExample], encode, dim: int, version: str = "",
              threshold: float = DEFAULT_MATCH_THRESHOLD, previous: "LearnedSet | None" = None) -> "LearnedSet":
        """A snapshot of ``examples``; texts the ``previous`` snapshot knows keep their vectors, the rest are
        encoded in one batch.

        Args:
            examples: the examples (duplicates of the same text and label are dropped).
            encode: ``list[str] -> (n, dim)`` normalised vectors (:meth:`nlu.embed.Encoder.encode`).
            dim: the vector size.
            version: the snapshot's identity.
            threshold: the match threshold.
            previous: a snapshot whose vectors may be re-used.
        """
        seen: set[tuple[str, str, str]] = set()
        rows: list[LearnedExample] = []
        for e in examples:
            if e.kind not in KINDS:
                raise ValueError(f"unknown learned kind {e.kind!r}")
            key = (e.text, e.kind, e.label)
            if e.text and key not in seen:
                seen.add(key)
                rows.append(e)
        known = previous._vec_of if previous is not None else {}
        todo = sorted({e.text for e in rows if e.text not in known})
        fresh = dict(zip(todo, encode(todo))) if todo else {}
        vectors = np.zeros((len(rows), dim), dtype="float32")
        for i, e in enumerate(rows):
            vectors[i] = known[e.text] if e.text in known else fresh[e.text]
        return cls(rows, vectors, version, threshold)

    def with_examples(self, examples: Iterable[LearnedExample], encode, version: str = "") -> "LearnedSet":
        """This snapshot plus ``examples`` (a candidate batch)."""
        return LearnedSet.build([*self.examples, *examples], encode, self.vectors.shape[1], version,
                                self.threshold, previous=self)

    def vector_of(self, text: str) -> np.ndarray:
        """The vector of one of the snapshot's (normalised) texts."""
        return self._vec_of[text]

    def matter_scores(self, qvec: np.ndarray) -> dict[str, float]:
        """The best cosine of the query to each taught matter's learned rows."""
        if not len(self._matter_rows):
            return {}
        sims = self.vectors[self._matter_rows] @ qvec
        out: dict[str, float] = {}
        for r, s in zip(self._matter_rows, sims):
            code = self.examples[int(r)].label
            if s > out.get(code, -1.0):
                out[code] = float(s)
        return out

    def match(self, qvec: np.ndarray) -> LearnedMatch | None:
        """The nearest learned example when it is at least as close as the threshold, else ``None``."""
        if not len(self.examples):
            return None
        sims = self.vectors @ qvec
        i = int(np.argmax(sims))
        s = float(sims[i])
        return LearnedMatch(self.examples[i], s) if s >= self.threshold else None
