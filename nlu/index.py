"""Matter search: a faiss inner-product index over the embeddings of every matter text (name, aliases,
colloquial phrasings, example questions — each row points at its matter, a matter scores the max over its rows)
fused with a jieba-BM25 score over one document per matter.

Built once per (KB fingerprint, model) and cached on disk, so a warm start encodes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from nlu.bm25 import BM25
from nlu.embed import Encoder
from nlu.lexicon import Tokenizer
from nlu.text import MAX_MODEL_CHARS, normalize

log = logging.getLogger(__name__)

# The searches are small (a few thousand rows): one thread, so faiss's OpenMP pool does not fight torch's.
faiss.omp_set_num_threads(1)

INDEX_VERSION = 3
_PAREN = re.compile(r"[（(][^）)]*[）)]")


@dataclass(frozen=True)
class MatterHit:
    """One search result.

    Attributes:
        code: the matter code.
        name: the matter name.
        score: the fused score (higher is better; comparable with the calibrated thresholds).
        dense: the embedding cosine (max over the matter's texts).
        sparse: the normalised BM25 score.
        phonetic: what the pinyin match score (:class:`nlu.phonetic.PhoneticIndex`) adds to the BM25 score.
        fused: the fused score before the learned re-ranker changed ``score`` (``None``: not re-ranked).
    """

    code: str
    name: str
    score: float
    dense: float = 0.0
    sparse: float = 0.0
    phonetic: float = 0.0
    fused: float | None = None

    def as_dict(self) -> dict:
        """``{"code", "name", "score"}`` as the parse result and the evaluation output carry it."""
        return {"code": self.code, "name": self.name, "score": round(float(self.score), 4)}


@dataclass
class FusionWeights:
    """How the scores are fused: ``dense*w_dense + sparse*w_sparse + max(0, phonetic - sparse)*w_phonetic +
    authored_prior``."""

    w_dense: float = 1.0
    w_sparse: float = 0.5
    authored_prior: float = 0.02
    w_phonetic: float = 0.0


def matter_texts(matter) -> list[str]:
    """The texts of one matter that go into the dense index (normalised, de-duplicated, non-empty).

    Args:
        matter: a ``knowledge.schema.Matter``.
    """
    out: list[str] = []
    seen: set[str] = set()
    short = _PAREN.sub("", matter.name)
    for t in [matter.name, short, *matter.aliases, *matter.colloquial, *matter.examples]:
        t = normalize(t, MAX_MODEL_CHARS)
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def matter_document(matter) -> str:
    """The BM25 document of one matter: the name twice (names matter most), aliases, colloquial, examples."""
    parts = [matter.name, matter.name, *matter.aliases, *matter.colloquial, *matter.examples]
    return normalize(" ".join(parts))


def kb_fingerprint(matters: Sequence) -> str:
    """A hash of every field the NLU uses (codes, names, aliases, colloquial, examples, material aliases, source).

    Args:
        matters: the KB's matters.
    """
    h = hashlib.sha256(f"v{INDEX_VERSION}".encode())
    for m in matters:
        mats = [[x.name, *x.aliases] for x in m.materials]
        h.update(json.dumps([m.code, m.name, m.aliases, m.colloquial, m.examples, m.source, mats],
                            ensure_ascii=False).encode())
    return h.hexdigest()[:16]


class MatterIndex:
    """The dense + sparse index of a KB.

    Build with :meth:`build` (or :meth:`load_or_build`); query with :meth:`search`.
    """

    def __init__(self, codes: list[str], names: list[str], authored: np.ndarray, row_matter: np.ndarray,
                 row_texts: list[str], vectors: np.ndarray, doc_terms: list[list[str]], bm25: BM25 | None = None):
        self.codes = codes
        self.names = names
        self.authored = authored
        self.row_matter = row_matter
        self.row_texts = row_texts
        self.vectors = vectors
        self.doc_terms = doc_terms
        self.faiss = faiss.IndexFlatIP(vectors.shape[1])
        self.faiss.add(vectors)
        self.bm25 = bm25 if bm25 is not None else BM25(doc_terms)
        order = np.argsort(row_matter, kind="stable")
        self._rows_of: dict[int, np.ndarray] = {}
        if len(order):
            bounds = np.flatnonzero(np.diff(row_matter[order])) + 1
            for chunk in np.split(order, bounds):
                self._rows_of[int(row_matter[chunk[0]])] = chunk
        self.code_pos = {c: i for i, c in enumerate(codes)}

    # ---------------------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, matters: Sequence, encoder: Encoder, tokenizer: Tokenizer,
              vectors_of: dict[str, np.ndarray] | None = None) -> "MatterIndex":
        """Encode and index the matters.

        Args:
            matters: the KB's matters.
            encoder: the sentence encoder.
            tokenizer: the KB tokenizer (for BM25 documents).
            vectors_of: already known vectors by text (calibration re-uses them); missing ones are encoded.
        """
        codes, names, authored, row_matter, row_texts = [], [], [], [], []
        for i, m in enumerate(matters):
            codes.append(m.code)
            names.append(m.name)
            authored.append(m.source == "authored")
            for t in matter_texts(m):
                row_matter.append(i)
                row_texts.append(t)
        known = vectors_of or {}
        todo = sorted({t for t in row_texts if t not in known})
        fresh = dict(zip(todo, encoder.encode(todo))) if todo else {}
        dim = encoder.dim
        vectors = np.zeros((len(row_texts), dim), dtype="float32")
        for r, t in enumerate(row_texts):
            vectors[r] = known[t] if t in known else fresh[t]
        doc_terms = [tokenizer.terms(matter_document(m)) for m in matters]
        return cls(codes, names, np.array(authored, dtype=bool), np.array(row_matter, dtype="int64"), row_texts,
                   vectors, doc_terms)

    def with_matters(self, changed: dict[int, object], encoder: Encoder, tokenizer: Tokenizer) -> "MatterIndex":
        """A new index where the matters at some positions are replaced (their rows and BM25 documents rebuilt;
        every other matter's rows and vectors are reused, so only the changed texts are encoded).

        Args:
            changed: position → the new ``knowledge.schema.Matter`` (same code as before).
            encoder: the sentence encoder.
            tokenizer: the KB tokenizer.
        """
        row_matter: list[int] = []
        row_texts: list[str] = []
        vectors: list[np.ndarray] = []
        rows_of = self._rows_of
        fresh_texts: dict[int, list[str]] = {i: matter_texts(m) for i, m in changed.items()}
        known = {t: self.vectors[r] for i in changed for r in rows_of.get(i, []) for t in [self.row_texts[r]]}
        todo = sorted({t for texts in fresh_texts.values() for t in texts if t not in known})
        known.update(zip(todo, encoder.encode(todo)) if todo else [])
        for i in range(len(self.codes)):
            if i in changed:
                for t in fresh_texts[i]:
                    row_matter.append(i)
                    row_texts.append(t)
                    vectors.append(known[t])
            else:
                for r in rows_of.get(i, []):
                    row_matter.append(i)
                    row_texts.append(self.row_texts[r])
                    vectors.append(self.vectors[r])
        names = list(self.names)
        authored = self.authored.copy()
        doc_terms = list(self.doc_terms)
        for i, m in changed.items():
            names[i] = m.name
            authored[i] = m.source == "authored"
            doc_terms[i] = tokenizer.terms(matter_document(m))
        bm25 = self.bm25.with_docs({i: (self.doc_terms[i], doc_terms[i]) for i in changed})
        matrix = np.vstack(vectors).astype("float32") if vectors else np.zeros((0, self.vectors.shape[1]), "float32")
        return type(self)(list(self.codes), names, authored, np.array(row_matter, dtype="int64"), row_texts,
                          np.ascontiguousarray(matrix), doc_terms, bm25)

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (``.npz``) atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"codes": self.codes, "names": self.names, "row_texts": self.row_texts,
                           "doc_terms": self.doc_terms}, ensure_ascii=False)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, vectors=self.vectors, row_matter=self.row_matter, authored=self.authored,
                 meta=np.frombuffer(meta.encode("utf-8"), dtype="uint8"))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "MatterIndex":
        """Read an index written by :meth:`save`."""
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            return cls(meta["codes"], meta["names"], z["authored"].astype(bool), z["row_matter"], meta["row_texts"],
                       np.ascontiguousarray(z["vectors"], dtype="float32"), meta["doc_terms"])

    @classmethod
    def load_or_build(cls, matters: Sequence, encoder: Encoder, tokenizer: Tokenizer, cache_dir: Path | None,
                      fingerprint: str) -> tuple["MatterIndex", bool]:
        """The cached index for this KB and model, built (and cached) when missing.

        Returns:
            ``(index, from_cache)``.
        """
        path = cache_dir / f"index-{fingerprint}-{encoder.key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            try:
                index = cls.load(path)
                if len(index.codes) == len(matters):
                    return index, True
            except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt
                log.warning("nlu.index.cache_unreadable path=%s error=%s", path, exc)
        t0 = time.perf_counter()
        index = cls.build(matters, encoder, tokenizer)
        log.info("nlu.index.built matters=%d rows=%d seconds=%.1f", len(matters), len(index.row_texts),
                 time.perf_counter() - t0)
        if path is not None:
            index.save(path)
        return index, False

    # ---------------------------------------------------------------------------------------------------------
    def dense_scores(self, qvec: np.ndarray, rows: int = 400) -> dict[int, float]:
        """Max cosine per matter over the best ``rows`` rows."""
        n = min(rows, self.faiss.ntotal)
        if n == 0:
            return {}
        sims, ids = self.faiss.search(qvec.reshape(1, -1), n)
        out: dict[int, float] = {}
        for s, r in zip(sims[0], ids[0]):
            if r < 0:
                continue
            m = int(self.row_matter[r])
            if m not in out:
                out[m] = float(s)
        return out

    def dense_of(self, matter: int, qvec: np.ndarray) -> float:
        """Max cosine of one matter's rows."""
        rows = self._rows_of.get(matter)
        if rows is None:
            return 0.0
        return float(np.max(self.vectors[rows] @ qvec))

    def search(self, qvec: np.ndarray | None, qterms: list[str], k: int = 5, weights: FusionWeights | None = None,
               pool: int = 50, phonetic: dict[int, float] | None = None,
               learned: dict[int, float] | None = None, only: Sequence[int] | None = None) -> list[MatterHit]:
        """The ``k`` best matters for a query.

        Args:
            qvec: the query's normalised embedding (``None``: sparse only).
            qterms: the query's BM25 terms (:meth:`nlu.lexicon.Tokenizer.terms`).
            k: how many hits.
            weights: fusion weights (default :class:`FusionWeights`).
            pool: how many candidates each retriever contributes before fusion.
            phonetic: pinyin match scores by matter position (:meth:`nlu.phonetic.PhoneticIndex.scores`); its
                candidates join the pool.
            learned: the query's best cosine to each matter's learned rows (:meth:`nlu.learned.LearnedSet.
                matter_scores`, by matter position): they count as rows of their matter (max), and join the pool.
            only: score exactly these matter positions (no pool): a ranking within a group of matters.
        """
        w = weights or FusionWeights()
        sparse_arr = self.bm25.normalized_array(qterms) if qterms else None
        dense = self.dense_scores(qvec) if qvec is not None else {}
        for m, v in (learned or {}).items():  # only where a learned row is closer than the matter's own rows
            cur = dense.get(m)
            if cur is None:
                cur = self.dense_of(m, qvec) if qvec is not None else 0.0
            if v > cur:
                dense[m] = v
        phonetic = phonetic or {}
        if only is not None:
            cands = set(only)
        else:
            cands = set(sorted(dense, key=dense.get, reverse=True)[:pool])
            if sparse_arr is not None:
                nz = np.flatnonzero(sparse_arr)
                if len(nz) > pool:  # the pool best (ties at the cut broken by position, like a stable sort)
                    nz = nz[np.argsort(-sparse_arr[nz], kind="stable")[:pool]]
                cands |= set(nz.tolist())
            cands |= set(phonetic)
        hits = []
        for m in cands:
            d = dense.get(m)
            if d is None and qvec is not None:
                d = self.dense_of(m, qvec)
            d = d or 0.0
            s = float(sparse_arr[m]) if sparse_arr is not None else 0.0
            # the sound only adds what the characters miss (a homophone typo): a text typed right gains nothing,
            # so the out-of-scope threshold keeps its meaning
            p = max(0.0, phonetic.get(m, 0.0) - s)
            score = (w.w_dense * d + w.w_sparse * s + w.w_phonetic * p
                     + (w.authored_prior if self.authored[m] else 0.0))
            hits.append(MatterHit(self.codes[m], self.names[m], score, d, s, p))
        hits.sort(key=lambda h: (-h.score, h.code))
        return hits[:k]
