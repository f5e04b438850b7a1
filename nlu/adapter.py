"""A learned linear map of a question's embedding toward the texts of its matter, trained from the KB's own questions.

m3e-small places a question close to questions worded like it, not always close to the name and phrasings of the
matter it is about. The adapter learns ``q ↦ normalise(q + q·A)`` (``A`` a square matrix, L2-regularised toward
the identity map) so that a question's cosine to its own matter's rows rises against every other row of the
index. Only the question side moves: the index, the cached vectors and every row stay as they are, and the map is
applied once per parse (one small matrix product) before the matter search (:meth:`nlu.engine.NLU.ranked`). The
intent classifier and the paraphrase match of what helpers taught keep the plain embedding.

Training data are the KB's own questions only: the example questions and colloquial phrasings of the authored
guides, which are rows of the index themselves. Each is scored against every row but its own (the same text may be
a row of several matters; all of them are left out), and the loss is the softmax cross-entropy of its matter's
other rows against all rows (``scale`` is the softmax's inverse temperature, in cosine units). The weights are
found by L-BFGS from ``A = 0`` (deterministic for one KB and machine), cached next to the index (keyed by the KB
fingerprint, the model and the training settings). Whether the NLU uses it is decided by :mod:`nlu.calibrate` on
held-out questions of its own (the adapter is trained there without them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlu.cache import load_or_build
from nlu.text import MAX_MODEL_CHARS, normalize

log = logging.getLogger(__name__)

VERSION = 1
#: The softmax's inverse temperature (cosine units) and the L2 weight of ``A``, chosen on the calibration's held-out
#: questions (docs/benchmarks.md, issue 9, tenth round).
SCALE = 20.0
L2 = 1e-3
ITERATIONS = 100


@dataclass
class QueryAdapter:
    """A trained map (see the module docstring).

    Attributes:
        matrix: ``A`` (``dim × dim``, float32); a question's matter vector is ``normalise(q + q·A)``.
        notes: how it was trained (questions, rows, loss before and after, seconds).
    """

    matrix: np.ndarray
    notes: dict = field(default_factory=dict)

    def scaled(self, strength: float) -> "QueryAdapter":
        """The map with ``A`` times ``strength`` (1: as trained; the calibration chooses it)."""
        return QueryAdapter((self.matrix * np.float32(strength)).astype("float32"),
                            {**self.notes, "strength": strength})

    def apply(self, qvec: np.ndarray) -> np.ndarray:
        """The matter vector of one normalised embedding (or of each row of a matrix of them), normalised."""
        v = np.asarray(qvec, dtype="float32")
        out = v + v @ self.matrix
        norm = np.linalg.norm(out, axis=-1, keepdims=True)
        return (out / np.maximum(norm, 1e-12)).astype("float32")

    def save(self, path: Path) -> None:
        """Write as ``.npz`` (atomically)."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, matrix=self.matrix, notes=json.dumps(self.notes))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "QueryAdapter":
        """Read an adapter written by :meth:`save`."""
        with np.load(path) as data:
            return cls(data["matrix"].astype("float32"), json.loads(str(data["notes"])))


def cache_key(fingerprint: str, model_key: str, scale: float = SCALE, l2: float = L2,
              iterations: int = ITERATIONS) -> str:
    """The cache key of an adapter: KB, model, training settings, this module's version."""
    parts = [VERSION, fingerprint, model_key, scale, l2, iterations]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def training_questions(matters: Sequence, index) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """The authored guides' questions as rows of ``index``.

    Returns:
        ``(vectors, own rows of each (every row with the same text), matter position of each)``.
    """
    rows_of_text: dict[str, list[int]] = {}
    for r, t in enumerate(index.row_texts):
        rows_of_text.setdefault(t, []).append(r)
    vecs, own, pos = [], [], []
    for m in matters:
        if m.source != "authored" or m.code not in index.code_pos:
            continue
        for q in dict.fromkeys([*m.examples, *m.colloquial]):
            rows = rows_of_text.get(normalize(q, MAX_MODEL_CHARS))
            if rows:
                vecs.append(index.vectors[rows[0]])
                own.append(np.asarray(rows))
                pos.append(index.code_pos[m.code])
    dim = index.vectors.shape[1]
    return (np.asarray(vecs, dtype="float32").reshape(-1, dim), own, np.asarray(pos, dtype="int64"))


def train(matters: Sequence, index, scale: float = SCALE, l2: float = L2,
          iterations: int = ITERATIONS) -> QueryAdapter | None:
    """Train an adapter for ``index`` (built from ``matters``) on the authored guides' questions; ``None`` when
    fewer than 50 of them have another row of their matter to learn from."""
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    Q, own, pos = training_questions(matters, index)
    V = np.asarray(index.vectors, dtype="float32")
    row_matter = np.asarray(index.row_matter)
    self_i = np.concatenate([np.full(len(r), i) for i, r in enumerate(own)]) if own else np.zeros(0, int)
    self_r = np.concatenate(own) if own else np.zeros(0, int)
    rows_of: dict[int, np.ndarray] = {}
    for p in set(pos.tolist()):
        rows_of[p] = np.flatnonzero(row_matter == p)
    pos_pairs = [(i, r) for i, (p, mine) in enumerate(zip(pos, own)) for r in rows_of[int(p)] if r not in set(mine)]
    if len({i for i, _ in pos_pairs}) < 50:
        return None
    pos_i = np.array([i for i, _ in pos_pairs])
    pos_r = np.array([r for _, r in pos_pairs])
    n, dim = Q.shape
    keep = np.bincount(pos_i, minlength=n) > 0

    def loss(a: np.ndarray) -> tuple[float, np.ndarray]:
        A = a.reshape(dim, dim).astype("float32")
        qp = Q + Q @ A
        norm = np.linalg.norm(qp, axis=1, keepdims=True)
        qh = qp / norm
        S = scale * (qh @ V.T)
        S[self_i, self_r] = -np.inf
        E = np.exp(S - S.max(axis=1, keepdims=True))
        Z = E.sum(axis=1)
        Ep = E[pos_i, pos_r]
        Zp = np.bincount(pos_i, weights=Ep, minlength=n)
        value = float(np.sum(np.log(Z[keep]) - np.log(Zp[keep]))) / n
        G = E * (keep / Z / n).astype("float32")[:, None]
        G[pos_i, pos_r] -= (Ep / Zp[pos_i] / n).astype("float32")
        dqh = scale * (G @ V)
        dqp = (dqh - qh * np.sum(dqh * qh, axis=1, keepdims=True)) / norm
        grad = (Q.T @ dqp).astype("float64").ravel()
        return value + l2 * float(a @ a), grad + 2 * l2 * a

    start = np.zeros(dim * dim)
    before = loss(start)[0]
    res = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    adapter = QueryAdapter(res.x.reshape(dim, dim).astype("float32"), {
        "questions": int(keep.sum()), "rows": int(len(V)), "loss_before": round(before, 4),
        "loss_after": round(float(res.fun), 4), "iterations": int(res.nit),
        "seconds": round(time.perf_counter() - t0, 1)})
    log.info("nlu.adapter.trained questions=%d loss=%.4f->%.4f seconds=%.1f", adapter.notes["questions"], before,
             res.fun, adapter.notes["seconds"])
    return adapter


def load_or_train(cache_dir: Path | None, key: str, build) -> tuple[QueryAdapter | None, bool]:
    """The cached adapter for ``key``, else ``build()`` (cached when it gives one; :func:`nlu.cache.load_or_build`).

    Returns:
        ``(adapter or None, from_cache)``.
    """
    path = cache_dir / f"adapter-{key}.npz" if cache_dir is not None else None
    return load_or_build(path, QueryAdapter.load, build, QueryAdapter.save)
