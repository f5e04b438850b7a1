"""Okapi BM25 over one text document per matter (small, in memory, inverted index)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


class BM25:
    """BM25 with the usual ``k1``/``b`` and a query-normalised score in [0, 1].

    Args:
        docs: one list of terms per document.
        k1: term-frequency saturation.
        b: length normalisation.
    """

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.doc_len = [len(d) for d in docs]
        self.avgdl = (sum(self.doc_len) / self.n) if self.n else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, d in enumerate(docs):
            for term, tf in Counter(d).items():
                self.postings[term].append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self._norm = [k1 * (1 - b + b * dl / self.avgdl) for dl in self.doc_len]
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """A term's documents and their score contributions as arrays (computed once per term, on first use)."""
        got = self._arrays.get(term)
        if got is None:
            idf = self.idf.get(term)
            if idf is None:
                return None
            plist = self.postings[term]
            docs = np.fromiter((d for d, _ in plist), dtype=np.int64, count=len(plist))
            k1 = self.k1
            contrib = np.fromiter((idf * tf * (k1 + 1) / (tf + self._norm[d]) for d, tf in plist), dtype=np.float64,
                                  count=len(plist))
            got = self._arrays[term] = (docs, contrib)
        return got

    def with_docs(self, changed: dict[int, tuple[list[str], list[str]]]) -> "BM25":
        """A copy with some documents replaced, equal to a fresh build over the new documents: only the postings
        and idf of the terms involved are recomputed (and every document's length norm, for the new average).

        Args:
            changed: document position → ``(its old terms, its new terms)``.
        """
        new = object.__new__(type(self))
        new.k1, new.b, new.n = self.k1, self.b, self.n
        new.doc_len = list(self.doc_len)
        new.postings = defaultdict(list, self.postings)  # posting lists are shared until one is touched
        new.idf = dict(self.idf)
        for i, (old, fresh) in changed.items():
            counts = Counter(fresh)
            for term in set(old) | set(counts):
                plist = [(d, tf) for d, tf in new.postings.get(term, []) if d != i]
                if term in counts:
                    plist.append((i, counts[term]))
                    plist.sort()
                if plist:
                    new.postings[term] = plist
                    new.idf[term] = math.log(1 + (new.n - len(plist) + 0.5) / (len(plist) + 0.5))
                else:
                    new.postings.pop(term, None)
                    new.idf.pop(term, None)
            new.doc_len[i] = len(fresh)
        new.avgdl = (sum(new.doc_len) / new.n) if new.n else 1.0
        new._norm = [new.k1 * (1 - new.b + new.b * dl / new.avgdl) for dl in new.doc_len]
        new._arrays = {}
        return new

    def score_array(self, query: list[str]) -> np.ndarray:
        """Raw BM25 scores of every document (0 where no query term occurs), by document position."""
        acc = np.zeros(self.n, dtype=np.float64)
        for term in dict.fromkeys(query):  # each distinct term once, in order of appearance
            got = self._term_arrays(term)
            if got is not None:
                acc[got[0]] += got[1]  # a term's documents are distinct
        return acc

    def scores(self, query: list[str]) -> dict[int, float]:
        """Raw BM25 score of every document that shares a term with ``query`` (others score 0)."""
        acc = self.score_array(query)
        nz = np.flatnonzero(acc)
        return dict(zip(nz.tolist(), acc[nz].tolist()))

    def max_score(self, query: list[str]) -> float:
        """The score a document of average length holding each query term once would get: the normaliser that
        makes scores comparable across queries. A term no document has counts with the highest idf, so a query
        that is mostly about things the KB does not know scores low."""
        unseen = math.log(1 + (self.n + 0.5) / 0.5)
        return sum(self.idf.get(t, unseen) for t in set(query))

    def normalized_array(self, query: list[str]) -> np.ndarray:
        """:meth:`normalized` as an array over every document (0 where no query term occurs)."""
        top = self.max_score(query)
        if top <= 0:
            return np.zeros(self.n, dtype=np.float64)
        return np.minimum(1.0, self.score_array(query) / top)

    def normalized(self, query: list[str]) -> dict[int, float]:
        """Scores divided by :meth:`max_score`, clipped to [0, 1] (documents sharing a term with ``query``)."""
        acc = self.normalized_array(query)
        nz = np.flatnonzero(acc)
        return dict(zip(nz.tolist(), acc[nz].tolist()))
