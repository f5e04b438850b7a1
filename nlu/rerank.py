"""Sibling discrimination: a linear re-scoring of the best fused candidates with evidence the fused score does not
weigh, to separate sibling matters (不动产首次 / 转移 / 继承 / 抵押登记, 许可新办 / 延续 / 变更 / 注销, 户口 / 身份证 …).

For each of the top candidates of a question it computes term evidence from the KB's own texts:

* ``exclusive``: the share of the question's term weight (BM25 idf) found in this candidate's texts but not in
  the other candidates' (继承 is in 不动产继承登记's texts, not in its siblings');
* ``name_cover``: the share of the candidate's name-and-alias term weight that the question mentions (a question
  that never says 抵押 is unlikely to mean 不动产抵押登记);
* ``conditions``: the share of the question's term weight found in the candidate's conditions and material names
  (因买卖、赠与 …);
* ``variant`` / ``variant_extra``: hand-written cues for the kind of request (``nlu/data/variants.yml``: new,
  renew, change, cancel, reissue, look-up, booking, transfer, inheritance, mortgage): +1 when the candidate's name
  is of a kind the question asks for, -1 when the question asks for other kinds only; ``variant_extra`` = 1 when
  the candidate's name is also of kinds the question does not ask for;
* ``unasked``: 1 when the question asks for no kind at all and the candidate's name is of a kind other than new
  (a plain «营业执照咋办» is about getting one, not about a reissue, a change or a cancellation).

:class:`RerankWeights` adds ``sum(weight * feature)`` (less the best candidate's sum) to each candidate's fused score
and re-orders them. The weights
are fitted by :mod:`nlu.calibrate` on held-out questions of the KB's own guides (never on the evaluation set).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from nlu.index import MatterHit
from nlu.text import normalize

VARIANTS_FILE = Path(__file__).resolve().parent / "data" / "variants.yml"
#: An end said not to have come («还没过期», «没到期»): no renewal asked.
_NOT_ENDED = re.compile(r"(?:还|都|也)?(?:没|没有|未|不)(?:到期|过期|期满)")
#: A clause of when something happened («搬家的时候», «去年过户那时候»).
_WHEN_CLAUSE = re.compile(r"(^|[，,。！!？?\s])[\u4e00-\u9fff]{1,8}?(?:的时候|那时候|时候)")

#: The re-scoring features, in column order (see the module docstring).
FEATURES = ("exclusive", "name_cover", "conditions", "variant", "variant_extra", "unasked")
#: How many fused candidates are re-ranked.
DEPTH = 8


class VariantCues:
    """The kinds of request a text names (see ``nlu/data/variants.yml``).

    Args:
        path: the cue file.
    """

    def __init__(self, path: Path = VARIANTS_FILE):
        text = path.read_text(encoding="utf-8")
        #: the cues' version: what a model trained on their features is keyed by
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:12]
        data = yaml.safe_load(text) or {}
        self.name_cues = {k: tuple(v.get("name") or ()) for k, v in (data.get("variants") or {}).items()}
        self.query_cues = {k: tuple(v.get("query") or ()) for k, v in (data.get("variants") or {}).items()}

    @property
    def words(self) -> frozenset[str]:
        """Every cue word (of names and of questions): words that say which kind of request, not which matter."""
        return frozenset(c for cues in (*self.name_cues.values(), *self.query_cues.values()) for c in cues)

    def of_name(self, text: str) -> frozenset[str]:
        """The kinds a matter name or alias is of (``不动产抵押登记`` → ``{"mortgage"}``)."""
        return frozenset(k for k, cues in self.name_cues.items() if any(c in text for c in cues))

    def of_query(self, text: str) -> frozenset[str]:
        """The kinds a (normalised) question asks for (``卫生许可证快到期了`` → ``{"renew"}``; an end said not to have
        come, ``还没过期``, asks for none). When the rest says a kind, one said only in a clause of when something
        happened is not asked: ``搬家的时候把许可证弄丢了`` asks for a reissue, not a change."""
        text = _NOT_ENDED.sub(" ", text)
        rest = _WHEN_CLAUSE.sub(r"\1 ", text)
        kinds = self._kinds_said(rest) if rest != text else frozenset()
        return kinds or self._kinds_said(text)

    def _kinds_said(self, text: str) -> frozenset[str]:
        return frozenset(k for k, cues in self.query_cues.items() if any(c in text for c in cues))


@dataclass
class MatterTerms:
    """Per matter, the term sets of its texts (built with the NLU's tokenizer) and its kinds of request."""

    doc: list[frozenset[str]]
    name: list[frozenset[str]]
    conditions: list[frozenset[str]]
    variants: list[frozenset[str]]
    cues: VariantCues

    @classmethod
    def build(cls, matters: Sequence, tokenizer, doc_terms: Sequence[Sequence[str]],
              cues: VariantCues | None = None) -> "MatterTerms":
        """Term sets of ``matters`` (``doc_terms``: the BM25 documents' terms, in the same order)."""
        cues = cues or VariantCues()
        names, conds, kinds = [], [], []
        for m in matters:
            names.append(frozenset(tokenizer.terms(normalize(" ".join([m.name, *m.aliases])))))
            text = " ".join([*m.conditions, *(x.name for x in m.materials)])
            conds.append(frozenset(tokenizer.terms(normalize(text))) if text else frozenset())
            kinds.append(cues.of_name(normalize(m.name)))
        return cls([frozenset(d) for d in doc_terms], names, conds, kinds, cues)

    def with_matters(self, changed: dict, tokenizer, doc_terms: Sequence[Sequence[str]]) -> "MatterTerms":
        """New term sets where the matters at some positions (position → ``Matter``) changed; ``doc_terms``: the
        new BM25 documents' terms of every matter."""
        part = MatterTerms.build(list(changed.values()), tokenizer, [doc_terms[i] for i in changed], self.cues)
        doc, name, conds, kinds = list(self.doc), list(self.name), list(self.conditions), list(self.variants)
        for j, i in enumerate(changed):
            doc[i], name[i], conds[i], kinds[i] = part.doc[j], part.name[j], part.conditions[j], part.variants[j]
        return MatterTerms(doc, name, conds, kinds, self.cues)

    def called_by(self) -> frozenset[str]:
        """The words (two characters or more, no character pairs) of every matter's name and aliases."""
        return frozenset(t for terms in self.name for t in terms if len(t) >= 2 and not t.startswith("#"))


def features(query: str, qterms: Sequence[str], positions: Sequence[int], terms: MatterTerms,
             idf: dict[str, float]) -> np.ndarray:
    """The feature matrix (one row per candidate, columns :data:`FEATURES`).

    Args:
        query: the normalised question.
        qterms: the question's BM25 terms.
        positions: the candidates' matter positions in the KB, best first.
        terms: the KB's term sets.
        idf: term → idf (the BM25's); terms the KB does not know carry no weight.
    """
    q = {t: idf[t] for t in set(qterms) if t in idf}
    total = sum(q.values()) or 1.0
    n = len(positions)
    x = np.zeros((n, len(FEATURES)), dtype="float32")
    if not n:
        return x
    docs = [terms.doc[p] for p in positions]
    in_docs = {t: sum(t in d for d in docs) for t in q}
    asked = terms.cues.of_query(query)
    for i, p in enumerate(positions):
        doc, name, cond, kinds = docs[i], terms.name[p], terms.conditions[p], terms.variants[p]
        excl = sum(w * (1.0 - (in_docs[t] - 1) / max(1, n - 1)) for t, w in q.items() if t in doc)
        name_w = sum(idf.get(t, 0.0) for t in name) or 1.0
        variant = 0.0 if not asked or not kinds else 1.0 if kinds & asked else -1.0
        x[i] = (excl / total,
                sum(idf.get(t, 0.0) for t in name if t in q) / name_w,
                sum(w for t, w in q.items() if t in cond) / total,
                variant,
                float(bool(asked) and bool(kinds - asked)),
                float(not asked and bool(kinds - {"new"})))
    return x


@dataclass
class RerankWeights:
    """The weight of each feature of :data:`FEATURES` in the re-scoring (all 0: no re-ranking) and how many
    fused candidates are re-scored."""

    exclusive: float = 0.0
    name_cover: float = 0.0
    conditions: float = 0.0
    variant: float = 0.0
    variant_extra: float = 0.0
    unasked: float = 0.0
    depth: int = DEPTH

    @property
    def active(self) -> bool:
        """Whether any weight is non-zero."""
        return any(getattr(self, f) for f in FEATURES)

    def vector(self) -> np.ndarray:
        """The weights in :data:`FEATURES` order."""
        return np.array([getattr(self, f) for f in FEATURES], dtype="float64")

    def apply(self, hits: list[MatterHit], x: np.ndarray) -> list[MatterHit]:
        """The hits re-ordered by ``score + weights · features - the best candidate's bonus`` (the first
        ``len(x)`` hits have features, the others a bonus of 0). Relative to the best bonus, so that no score rises:
        the re-scoring re-orders candidates, it does not make an out-of-scope question look more in scope."""
        if len(hits) < 2 or not len(x):
            return hits
        bonus = np.zeros(len(hits), dtype="float64")
        bonus[:len(x)] = x[:len(hits)] @ self.vector()
        top = float(bonus.max())
        out = [replace(h, score=float(h.score + b - top)) for h, b in zip(hits, bonus)]
        out.sort(key=lambda h: (-h.score, h.code))
        return out

    def as_dict(self) -> dict:
        """JSON-able form (kept in the calibration file)."""
        return asdict(self)
