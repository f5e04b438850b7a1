"""A learned re-ranker of the best fused candidates, trained at index-build time from the KB's own texts.

The hand-weighted sibling re-scoring (:mod:`nlu.rerank`) adds a few features with weights found one at a time.
This module learns one linear scorer over more evidence about each of the ``depth`` best fused candidates:

* the fused score and its parts (embedding cosine, BM25, what the pinyin match adds), whether it is an authored
  guide;
* the re-scoring features of :mod:`nlu.rerank` (exclusive terms, name cover, conditions, request-kind cues);
* each candidate's embedding cosine and BM25 score relative to the best candidate's, how much its second-closest
  text backs up its closest one (a matter that several of its texts match, not one phrasing by chance), and how
  many texts it has (a matter with many example rows wins the max more often by chance).

Training data are the KB's own questions only: the example questions and colloquial phrasings of the authored
guides, in ``folds`` seeded folds (each guide's questions drawn by its own code: a guide added or edited moves no
other guide's questions between folds). For each fold the index, the pinyin index and the term sets are rebuilt without
the fold's questions (vectors are reused, nothing is encoded but a few framed questions), and each question of the
fold is searched as a citizen's question would be; its guide's matter is the right candidate. Most matters are
catalogue entries with a name only, and a citizen asks about them too; trained on guides alone, the scorer learns
that the right answer is always a guide with many texts (``authored``, ``rows``, ``support``) and puts catalogue
entries last. So a share of each fold's guides (seeded; ``bare``, set by the calibration) is searched in catalogue
form — name only, not authored (:func:`bare_form`) — and their questions teach what a right catalogue entry looks
like. The weights minimise
a listwise softmax loss (L-BFGS, L2), deterministic for one KB. The scorer is expressed in units of the fused score
(each weight divided by the fused score's): :meth:`Ranker.apply` re-orders by ``score + bonus`` and shifts the
scores so that the first keeps the best fused score (the out-of-scope threshold keeps its meaning).

Trained by :meth:`nlu.engine.NLU` when the calibration asks for it (``Calibration.ranker``), cached next to the
index (keyed by the KB fingerprint, the model and the fusion weights). Whether it is used is decided by
:mod:`nlu.calibrate` on held-out questions of its own (the ranker is trained there without them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nlu.cache import load_or_build
from nlu.index import FusionWeights, MatterHit, MatterIndex
from nlu.rerank import FEATURES as RERANK_FEATURES
from nlu.rerank import MatterTerms, VariantCues, features
from nlu.text import MAX_MODEL_CHARS, normalize, strip_frame

log = logging.getLogger(__name__)

#: The scorer's features, in column order (the first is the fused score, the unit of the bonus).
FEATURES = ("fused", "dense", "sparse", "phonetic", "authored", *RERANK_FEATURES, "dense_gap", "sparse_gap",
            "support", "rows")
#: The alternatives scorer's features: :data:`FEATURES`, then each but the fused score and ``authored`` again,
#: counted for authored guides only (:func:`by_type`): a catalogue entry's evidence weighs on its own terms.
TYPED = tuple(f for f in FEATURES if f not in ("fused", "authored"))
ALT_FEATURES = (*FEATURES, *(f"{f}*authored" for f in TYPED))
#: How many fused candidates are re-scored.
DEPTH = 8
VERSION = 2


def candidate_features(norm: str, qvec: np.ndarray, terms: Sequence[str], hits: Sequence[MatterHit],
                       index: MatterIndex, mterms: MatterTerms) -> np.ndarray:
    """The feature matrix of the candidates ``hits`` (one row each, columns :data:`FEATURES`).

    Args:
        norm: the normalised question (framing stripped).
        qvec: its embedding.
        terms: its BM25 terms.
        hits: the fused candidates, best first.
        index: the matter index they come from.
        mterms: the KB's term sets (same positions as ``index``).
    """
    n = len(hits)
    x = np.zeros((n, len(FEATURES)), dtype="float64")
    if not n:
        return x
    pos = [index.code_pos[h.code] for h in hits]
    x[:, 5:5 + len(RERANK_FEATURES)] = features(norm, terms, pos, mterms, index.bm25.idf)
    top_dense = max(h.dense for h in hits)
    top_sparse = max(h.sparse for h in hits)
    j = 5 + len(RERANK_FEATURES)
    for i, (h, p) in enumerate(zip(hits, pos)):
        rows = index._rows_of.get(p)
        second = h.dense
        if rows is not None and len(rows) > 1:
            sims = index.vectors[rows] @ qvec
            second = float(np.partition(sims, len(sims) - 2)[-2])
        x[i, 0:5] = (h.score, h.dense, h.sparse, h.phonetic, float(index.authored[p]))
        x[i, j:] = (h.dense - top_dense, h.sparse - top_sparse, second - h.dense,
                    math.log1p(len(rows)) if rows is not None else 0.0)
    return x


def by_type(x: np.ndarray) -> np.ndarray:
    """The alternatives scorer's matrix (columns :data:`ALT_FEATURES`) of a :data:`FEATURES` matrix."""
    authored = x[:, FEATURES.index("authored")][:, None]
    return np.hstack([x, x[:, [FEATURES.index(f) for f in TYPED]] * authored])


@dataclass
class Ranker:
    """A trained scorer: the bonus weights (in fused-score units, one per feature but the fused score itself).

    Attributes:
        weights: ``{feature: weight}`` for :data:`FEATURES` but ``fused``.
        depth: how many fused candidates are re-scored.
        notes: how it was trained (questions, folds, fold top-1 before and after).
        alternatives: ``None``, or the weights (``{feature: weight}`` for :data:`ALT_FEATURES` but ``fused``) of a
            second scorer that orders the candidates after the first: trained on more guides in catalogue form,
            it ranks catalogue entries and guides each on their own evidence, which puts the right matter among
            the first three more often, where the first scorer is the better judge of the first place.
    """

    weights: dict[str, float]
    depth: int = DEPTH
    notes: dict | None = None
    alternatives: dict[str, float] | None = None

    def vector(self) -> np.ndarray:
        """The weights in :data:`FEATURES` order (0 for the fused score)."""
        return np.array([0.0, *(self.weights.get(f, 0.0) for f in FEATURES[1:])], dtype="float64")

    def apply(self, hits: list[MatterHit], x: np.ndarray) -> list[MatterHit]:
        """The hits re-ordered by ``score + bonus`` (the first ``len(x)`` hits have features, the others a bonus
        of 0), shifted so that the new first hit has the best fused score of all: the order and the gaps are the
        ranker's, the best score stays what the fused search found (so the out-of-scope threshold keeps its
        meaning whichever candidate comes first). With :attr:`alternatives`, the hits after the first are in
        that scorer's order, and each place keeps the score the ranker gives to that place (the gap between the
        first two, which decides a question back, is the ranker's)."""
        if len(hits) < 2 or not len(x):
            return hits
        from dataclasses import replace

        n = min(len(x), len(hits))
        fused = np.array([h.score for h in hits], dtype="float64")
        total = fused.copy()
        total[:n] += x[:n] @ self.vector()
        shift = max(h.score for h in hits) - float(total.max())
        order = sorted(range(len(hits)), key=lambda i: (-total[i], hits[i].code))
        scores = total[order] + shift
        if self.alternatives is not None:
            alt = fused.copy()
            w = np.array([0.0, *(self.alternatives.get(f, 0.0) for f in ALT_FEATURES[1:])], dtype="float64")
            alt[:n] += by_type(x[:n]) @ w
            order = [order[0], *sorted(order[1:], key=lambda i: (-alt[i], hits[i].code))]
        return [replace(hits[i], score=float(sc), fused=hits[i].score) for i, sc in zip(order, scores)]

    def save(self, path: Path) -> None:
        """Write as JSON (atomically)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Ranker":
        """Read a ranker written by :meth:`save`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        alt = data.get("alternatives")
        return cls({str(k): float(v) for k, v in data["weights"].items()}, int(data.get("depth", DEPTH)),
                   data.get("notes"), None if alt is None else {str(k): float(v) for k, v in alt.items()})


def cache_key(fingerprint: str, model_key: str, weights: FusionWeights, depth: int = DEPTH, bare: float = 0.0,
              alt_bare: float | None = None) -> str:
    """The cache key of a ranker: KB, model, fusion weights, depth, shares of guides in catalogue form (of the
    scorer and of the alternatives scorer, if any), the request-kind cues its features read, this module's
    version."""
    parts = [VERSION, fingerprint, model_key, asdict(weights), depth, bare, VariantCues().fingerprint]
    if alt_bare is not None:
        parts.append(["alternatives", alt_bare])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def bare_form(matter):
    """A guide as the catalogue gives a matter: its name only (no aliases, phrasings, examples, conditions or
    materials), not authored."""
    return matter.model_copy(update={"aliases": [], "colloquial": [], "examples": [], "conditions": [],
                                     "materials": [], "source": "sichuan-catalog"})


def _draw(seed: int, *keys: object) -> random.Random:
    """A random source of its own for ``keys`` (a matter's code, a fold): a guide added or edited changes the draws
    of no other matter, so the others' folds and catalogue forms stay as they were."""
    return random.Random(":".join(map(str, (seed, *keys))))


def _fold_questions(matters: Sequence, folds: int, seed: int) -> list[list[tuple[int, str]]]:
    """Per fold, ``(matter position, question)`` of the authored guides' examples and colloquial phrasings."""
    out: list[list[tuple[int, str]]] = [[] for _ in range(folds)]
    for i, m in enumerate(matters):
        if m.source != "authored":
            continue
        qs = list(dict.fromkeys([*m.examples, *m.colloquial]))
        rng = _draw(seed, m.code)
        rng.shuffle(qs)
        start = rng.randrange(folds)
        for j, q in enumerate(qs):
            out[(start + j) % folds].append((i, q))
    return out


def training_rows(matters: Sequence, index: MatterIndex, tokenizer, phonetic, mterms: MatterTerms,
                  weights: FusionWeights, encode, folds: int = 4, seed: int = 29, depth: int = DEPTH,
                  bare: float = 0.0) -> tuple[list[np.ndarray], list[int], float]:
    """The candidates' features of every own question searched without its fold (see the module docstring).

    Args:
        matters: the matters ``index`` was built from (same order).
        index: their matter index.
        tokenizer: the KB tokenizer.
        phonetic: their pinyin index (:class:`nlu.phonetic.PhoneticIndex`; ``None``: no pinyin scores).
        mterms: their term sets.
        weights: the fusion weights.
        encode: texts → vectors (only for questions whose framing is stripped).
        folds: how many folds.
        seed: the fold split's seed.
        depth: candidates per question.
        bare: the share of each fold's guides searched in catalogue form (:func:`bare_form`), drawn with ``seed``.

    Returns:
        ``(feature matrices, right candidate's row in each, fused top-1 over all questions)``; questions whose
        matter is not among the candidates are counted in the top-1 but not returned.
    """
    vec_of = {t: index.vectors[r] for r, t in enumerate(index.row_texts)}
    per_fold = _fold_questions(matters, folds, seed)
    stripped = {q: strip_frame(normalize(q, MAX_MODEL_CHARS)) for fold in per_fold for _, q in fold}
    todo = sorted({s for s in stripped.values() if s and s not in vec_of})
    vec_of.update(zip(todo, encode(todo)) if todo else [])
    xs: list[np.ndarray] = []
    ys: list[int] = []
    right = total = 0
    for f, fold in enumerate(per_fold):
        if not fold:
            continue
        held: dict[int, set[str]] = {}
        for i, q in fold:
            held.setdefault(i, set()).add(q)
        changed = {}
        for i, qs in sorted(held.items()):
            m = matters[i]
            changed[i] = bare_form(m) if _draw(seed, f, m.code).random() < bare else m.model_copy(update={
                "examples": [q for q in m.examples if q not in qs],
                "colloquial": [q for q in m.colloquial if q not in qs]})
        idx = index.with_matters(changed, None, tokenizer)
        ph = phonetic.with_matters(changed) if phonetic is not None else None
        mt = mterms.with_matters(changed, tokenizer, idx.doc_terms)
        for i, q in fold:
            norm = stripped[q]
            if not norm:
                continue
            qvec = vec_of[norm]
            terms = tokenizer.terms(norm)
            scores = ph.scores(norm) if ph is not None and weights.w_phonetic else None
            hits = idx.search(qvec, terms, depth, weights, phonetic=scores)
            total += 1
            codes = [h.code for h in hits]
            gold = matters[i].code
            right += bool(codes) and codes[0] == gold
            if gold in codes and len(hits) > 1:
                xs.append(candidate_features(norm, qvec, terms, hits, idx, mt))
                ys.append(codes.index(gold))
    return xs, ys, right / max(1, total)


def fit(xs: Sequence[np.ndarray], ys: Sequence[int], l2: float = 1.0) -> np.ndarray | None:
    """Listwise softmax weights ``θ`` over the columns of ``xs`` (the fused score first; L-BFGS; ``l2`` per question
    count); ``None`` when the fused score's weight does not come out positive (the scorer could not be put in
    fused-score units)."""
    from scipy.optimize import minimize

    if not xs:
        return None
    n_f = xs[0].shape[1]
    sizes = [len(x) for x in xs]
    X = np.vstack(xs)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd < 1e-9] = 1.0
    Z = (X - mu) / sd
    starts = np.cumsum([0, *sizes[:-1]])
    gold = starts + np.asarray(ys)
    seg = np.repeat(np.arange(len(xs)), sizes)
    lam = l2 / len(xs)

    def loss(theta):
        z = Z @ theta
        zmax = np.maximum.reduceat(z, starts)
        e = np.exp(z - zmax[seg])
        s = np.add.reduceat(e, starts)
        p = e / s[seg]
        nll = -np.mean(z[gold] - zmax - np.log(s))
        g = p.copy()
        g[gold] -= 1.0
        grad = Z.T @ g / len(xs)
        return nll + lam * theta @ theta, grad + 2 * lam * theta

    theta0 = np.zeros(n_f)
    theta0[0] = 1.0
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    theta = res.x / sd  # back to raw feature units (the mean shift is the same for every candidate of a question)
    if theta[0] <= 1e-6:
        return None
    return theta / theta[0]


def train_alternatives(matters: Sequence, index: MatterIndex, tokenizer, phonetic, mterms: MatterTerms,
                       weights: FusionWeights, encode, folds: int = 4, seed: int = 29, depth: int = DEPTH,
                       bare: float = 0.0) -> dict[str, float] | None:
    """The weights of the alternatives scorer (:attr:`Ranker.alternatives`): the same questions and folds as
    :func:`train`, ``bare`` of the guides in catalogue form, the features :data:`ALT_FEATURES`; ``None`` when there
    is too little to learn from or no usable scorer."""
    xs, ys, _ = training_rows(matters, index, tokenizer, phonetic, mterms, weights, encode, folds, seed, depth, bare)
    theta = fit([by_type(x) for x in xs], ys) if len(xs) >= 50 else None
    return None if theta is None else {f: float(w) for f, w in zip(ALT_FEATURES[1:], theta[1:])}


def train(matters: Sequence, index: MatterIndex, tokenizer, phonetic, mterms: MatterTerms, weights: FusionWeights,
          encode, folds: int = 4, seed: int = 29, depth: int = DEPTH, bare: float = 0.0,
          alt_bare: float | None = None) -> Ranker | None:
    """Train a ranker on the KB's own questions (see the module docstring), with an alternatives scorer trained
    with ``alt_bare`` of the guides in catalogue form unless that is ``None``; ``None`` when there is too little to
    learn from (fewer than 50 questions with their matter among the candidates) or no usable scorer."""
    t0 = time.perf_counter()
    xs, ys, fused_top1 = training_rows(matters, index, tokenizer, phonetic, mterms, weights, encode, folds, seed,
                                       depth, bare)
    if len(xs) < 50:
        return None
    theta = fit(xs, ys)
    if theta is None:
        return None
    ranker = Ranker({f: float(w) for f, w in zip(FEATURES[1:], theta[1:])}, depth)
    after = float(np.mean([int(np.argmax(x @ theta)) == y for x, y in zip(xs, ys)])) * len(xs)
    before = float(np.sum([y == 0 for y in ys]))
    if alt_bare is not None:
        ranker.alternatives = train_alternatives(matters, index, tokenizer, phonetic, mterms, weights, encode, folds,
                                                 seed, depth, alt_bare)
    ranker.notes = {"questions": len(xs), "folds": folds, "seed": seed, "fold_top1_fused": round(fused_top1, 4),
                    "fold_top1_gain": round((after - before) / max(1, len(xs)), 4),
                    "seconds": round(time.perf_counter() - t0, 1)}
    log.info("nlu.ranker.trained questions=%d gain=%.4f seconds=%.1f", len(xs), ranker.notes["fold_top1_gain"],
             ranker.notes["seconds"])
    return ranker


def load_or_train(cache_dir: Path | None, key: str, build) -> tuple[Ranker | None, bool]:
    """The cached ranker for ``key``, else ``build()`` (cached when it gives one; :func:`nlu.cache.load_or_build`).

    Returns:
        ``(ranker or None, from_cache)``.
    """
    path = cache_dir / f"ranker-{key}.json" if cache_dir is not None else None
    return load_or_build(path, Ranker.load, build, Ranker.save)
