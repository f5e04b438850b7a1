"""Calibration of the decision thresholds on held-out data of our own (never the evaluation set).

Held out (seeded): a quarter of each intent's hand-written examples and a quarter of every authored guide's
example questions / colloquial phrasings. The classifier is trained and the index built without them; then

* the fusion weights (BM25 weight, pinyin weight, authored prior) maximise the mean top-1 of three sets: the
  held-out matter questions, homophone-typo copies of them (one character replaced by a same-sounding one,
  :mod:`nlu.phonetic`), and own questions about catalogue entries (``nlu/data/catalogue_questions.yml``, part
  ``calibrate``: the catalogue's matters have a name and no guide, so none of their questions is in the index),
* the sibling re-scoring weights (:mod:`nlu.rerank`) are then set one at a time (two passes) for the same top-1,
* the learned re-ranker is trained without the held-out questions for each share of guides in catalogue form
  (:func:`nlu.ranker.bare_form`) and the share with the best mean top-1 is kept, if it beats the re-scoring;
  then its alternatives scorer (the order after the first place) for each share, kept with the share of the best
  mean top-3 if that beats the ranker's own order,
* the learned query adapter (:mod:`nlu.adapter`) is trained without the held-out questions, and the strength of its
  map (0: off) with the best mean of the three sets' top-1 and top-3 through the choices above is kept,
* ``oos_threshold`` maximises the accuracy of the full routing decision on held-out matter questions (must be
  routed) versus held-out out-of-scope and chit-chat examples (must not be),
* ``oos_override_threshold`` and ``oos_override_slope`` (route a question the classifier calls out of scope when a
  matter matches it at least threshold + slope × the classifier's confidence) maximise balanced accuracy: held-out
  matter questions, typo copies and catalogue questions versus every hand-written out-of-scope and chit-chat
  example, each classified by a classifier trained without it,
* the follow-up rule (a follow-up names a matter only with a content term) is measured on every hand-written
  follow-up that names no matter versus held-out KB questions worded as follow-ups,
* ``ambiguity_margin`` is the top-1/top-2 gap that best separates wrong top-1 answers from right ones (at most a
  quarter of the questions flagged),
* ``intent_threshold`` is the classifier confidence below which held-out predictions are mostly wrong (at most
  a tenth flagged).
"""

from __future__ import annotations

import copy
import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from nlu.adapter import QueryAdapter
from nlu.adapter import train as train_adapter
from nlu.engine import NLU, Calibration
from nlu.index import FusionWeights, MatterIndex, matter_texts
from nlu.intents import MATTER_INTENTS, label_question, IntentClassifier, kb_examples, load_examples, load_names_matter
from nlu.phonetic import PhoneticIndex, chars_by_sound, sound_alike_typo
from nlu.ranker import DEPTH as RANKER_DEPTH
from nlu.ranker import candidate_features, train, train_alternatives
from nlu.rerank import FEATURES, MatterTerms, RerankWeights, features
from nlu.text import MAX_MODEL_CHARS, normalize, strip_frame


FOLLOW_UPS = ("ask_materials", "ask_location", "ask_time", "ask_fee", "request_human")
CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue_questions.yml"
VAGUE_FILE = Path(__file__).resolve().parent / "data" / "vague_questions.yml"
#: Slopes tried for the out-of-scope override (matter score asked for per unit of out-of-scope confidence).
OVERRIDE_SLOPES = (0.0, 0.2, 0.4, 0.6)
#: Strengths of the query adapter's map tried (0: not used).
ADAPTER_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Shares of guides in catalogue form tried for the learned re-ranker.
BARE_SHARES = (0.0, 0.05, 0.1, 0.25, 0.5)


def load_vague_questions(path: Path = VAGUE_FILE) -> list[str]:
    """Own vague questions (``questions:`` in ``nlu/data/vague_questions.yml``).

    Raises:
        ValueError: the file is not ``{questions: [str, ...]}``.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("questions")
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ValueError(f"{path}: expected `questions:` with a list of strings")
    return items


def load_catalogue_questions(path: Path = CATALOGUE_FILE) -> dict[str, list[tuple[str, str]]]:
    """Own questions about catalogue entries by part (``calibrate``, ``check``): ``[(matter code, question)]``.

    Raises:
        ValueError: the file is not ``{part: [[code, question], ...]}``.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, list[tuple[str, str]]] = {}
    for part, items in data.items():
        if not isinstance(items, list) or not all(isinstance(x, list) and len(x) == 2 for x in items):
            raise ValueError(f"{path}: part {part!r} must be a list of [code, question]")
        out[str(part)] = [(str(c), str(q)) for c, q in items]
    return out


@dataclass
class _Item:
    text: str
    intent: str
    code: str | None
    vec: np.ndarray
    terms: list[str]
    phonetic: dict[int, float]


def _split(seq: Sequence, frac: float, rng: random.Random) -> tuple[list, list]:
    items = list(seq)
    rng.shuffle(items)
    n = int(round(len(items) * frac))
    return items[n:], items[:n]


@dataclass
class HeldOut:
    """The held-out split of own data and what is built without it (see :func:`held_out`)."""

    reduced: list
    examples: dict[str, list[str]]
    named_raw: set[str]
    vecs: dict[str, np.ndarray]
    index: MatterIndex
    classifier: IntentClassifier
    phonetic: PhoneticIndex
    matter_terms: MatterTerms
    matter_items: list[_Item]
    typo_items: list[_Item]
    intent_items: list[_Item]
    #: own questions about catalogue entries, by part (``calibrate``, ``check``)
    catalogue: dict[str, list[_Item]] = field(default_factory=dict)
    #: own vague questions (a family of matters named, nothing that tells them apart)
    vague: list[_Item] = field(default_factory=list)
    #: the query adapter trained without the held-out questions (:mod:`nlu.adapter`)
    adapter: QueryAdapter | None = None

    def item(self, text: str, intent: str, code: str | None, tok) -> _Item:
        """A question as :meth:`nlu.engine.NLU.parse` reads it (framing stripped), with its vector."""
        n = strip_frame(normalize(text, MAX_MODEL_CHARS))
        return _Item(n, intent, code, self.vecs[n], tok.terms(n), self.phonetic.scores(n))


def held_out(nlu: NLU, seed: int = 13, holdout: float = 0.25, log=print) -> HeldOut:
    """Hold out (seeded) a quarter of every authored guide's example questions and colloquial phrasings and of
    each intent's hand-written examples, add homophone-typo copies of the held-out matter questions, and build the
    index, classifier, pinyin index and term sets without them (vectors encoded once with ``nlu``'s encoder).

    Args:
        nlu: a loaded NLU (its encoder, tokenizer and KB are reused).
        seed: random seed of the split.
        holdout: fraction held out.
        log: progress printer.
    """
    rng = random.Random(seed)
    enc, tok = nlu.encoder, nlu.tokenizer
    # --- held-out matter questions: remove them from their guides ------------------------------------------
    held_q: list[tuple[str, str]] = []
    reduced = []
    for m in nlu.matters:
        if m.source != "authored":
            reduced.append(m)
            continue
        keep_ex, out_ex = _split(m.examples, holdout, rng)
        keep_co, out_co = _split(m.colloquial, holdout, rng)
        held_q += [(q, m.code) for q in out_ex + out_co]
        reduced.append(m.model_copy(update={"examples": keep_ex, "colloquial": keep_co}))
    # --- held-out intent examples ----------------------------------------------------------------------------
    examples = load_examples()
    named_raw = set(load_names_matter())
    train_ex, held_i = {}, []
    for intent, items in examples.items():
        keep, out = _split(items, holdout, rng)
        train_ex[intent] = keep
        held_i += [(t, intent) for t in out]
    # --- homophone-typo copies of the held-out matter questions ---------------------------------------------
    by_sound = chars_by_sound(t for m in nlu.matters for t in [m.name, *m.aliases, *m.colloquial, *m.examples])
    typo_q = []
    for q, c in held_q:
        t = sound_alike_typo(normalize(q, MAX_MODEL_CHARS), by_sound, rng)
        if t:
            typo_q.append((t, c))
    # --- encode everything once ------------------------------------------------------------------------------
    texts = sorted({t for m in nlu.matters for t in matter_texts(m)})
    pairs = [(normalize(t, MAX_MODEL_CHARS), i) for i, items in train_ex.items() for t in items]
    pairs += [(normalize(t, MAX_MODEL_CHARS), i) for t, i, _ in kb_examples(reduced)]
    pairs = [(t, i) for t, i in pairs if t]
    known = set(nlu.index.code_pos)
    catalogue = {part: [(c, q) for c, q in items if c in known] for part, items in load_catalogue_questions().items()}
    vague = load_vague_questions()
    asked = [t for t, _ in held_q + typo_q + held_i] + [q for items in catalogue.values() for _, q in items] + vague
    asked += [t for i, items in examples.items() if i in ("out_of_scope", "chitchat", *FOLLOW_UPS) for t in items]
    extra = sorted({strip_frame(normalize(t, MAX_MODEL_CHARS)) for t in asked} | {t for t, _ in pairs})
    allt = sorted(set(texts) | set(extra))
    log(f"calibrate: encoding {len(allt)} texts")
    vecs = dict(zip(allt, enc.encode(allt)))
    index = MatterIndex.build(reduced, enc, tok, vectors_of=vecs)
    clf = IntentClassifier.fit(np.stack([vecs[t] for t, _ in pairs]), [i for _, i in pairs])
    phonetic = PhoneticIndex.from_matters(reduced)
    mterms = MatterTerms.build(reduced, tok, index.doc_terms)
    h = HeldOut(reduced, examples, named_raw, vecs, index, clf, phonetic, mterms, [], [], [])
    h.adapter = train_adapter(reduced, index)
    log(f"calibrate: query adapter {h.adapter.notes if h.adapter is not None else 'not trained'}")
    h.matter_items = [h.item(q, "ask_matter", c, tok) for q, c in held_q]
    h.typo_items = [h.item(q, "ask_matter", c, tok) for q, c in typo_q]
    h.intent_items = [h.item(t, i, None, tok) for t, i in held_i]
    h.catalogue = {part: [h.item(q, "ask_matter", c, tok) for c, q in items] for part, items in catalogue.items()}
    h.vague = [h.item(q, "ask_matter", None, tok) for q in vague]
    h.pairs = pairs
    return h


def calibrate(nlu: NLU, seed: int = 13, holdout: float = 0.25, log=print) -> Calibration:
    """Measure the thresholds for ``nlu``'s KB and model.

    Args:
        nlu: a loaded NLU (its encoder, tokenizer and KB are reused).
        seed: random seed of the held-out split.
        holdout: fraction held out.
        log: progress printer.

    Returns:
        The calibration (not yet saved).
    """
    t0 = time.perf_counter()
    enc, tok = nlu.encoder, nlu.tokenizer
    h = held_out(nlu, seed, holdout, log)
    examples, named_raw = h.examples, h.named_raw
    index, clf, phonetic, mterms = h.index, h.classifier, h.phonetic, h.matter_terms
    matter_items, typo_items, intent_items = h.matter_items, h.typo_items, h.intent_items

    def item(text: str, intent: str, code: str | None) -> _Item:
        return h.item(text, intent, code, tok)

    log(f"calibrate: {len(matter_items)} held-out matter questions (+{len(typo_items)} homophone-typo copies), "
        f"{len(intent_items)} held-out intent examples")
    cat_items = h.catalogue.get("calibrate", [])
    check_items = h.catalogue.get("check", [])
    log(f"calibrate: {len(cat_items)} own catalogue-entry questions for the choices, {len(check_items)} to check")
    # the objective: the mean of the sets' top-1 (held-out, typo copies, catalogue entries), each set counting once
    sets = [s for s in (matter_items, typo_items, cat_items) if s]
    set_of = {id(x): j for j, items in enumerate(sets) for x in items}
    all_items = [x for its in sets for x in its]

    def mean_of(ok_by_item: Sequence[tuple[_Item, bool]]) -> float:
        hit = np.zeros(len(sets))
        for x, ok in ok_by_item:
            hit[set_of[id(x)]] += ok
        return float(np.mean(hit / [len(items) for items in sets]))

    def share(ok: Sequence[tuple[_Item, bool]], items: Sequence[_Item]) -> float:
        ids = {id(x) for x in items}
        return float(np.mean([o for x, o in ok if id(x) in ids])) if ids else 0.0

    def fused_ok(w: FusionWeights) -> list[tuple[_Item, bool]]:
        return [(x, index.search(x.vec, x.terms, 1, w, phonetic=x.phonetic)[0].code == x.code) for x in all_items]

    # --- 1. fusion weights ---------------------------------------------------------------------------------
    best = None
    for ws in (0.0, 0.25, 0.5, 0.75):
        for wp in (0.0, 0.1, 0.2, 0.3, 0.5):
            for prior in (0.0, 0.02, 0.05):
                w = FusionWeights(1.0, ws, prior, wp)
                top1 = mean_of(fused_ok(w))
                if best is None or top1 > best[0] + 1e-9:
                    best = (top1, w)
    top1, weights = best
    ok = fused_ok(weights)
    top1_clean, top1_typo = share(ok, matter_items), share(ok, typo_items)
    log(f"calibrate: weights {weights} held-out top-1 {top1_clean:.3f} (typo copies {top1_typo:.3f})")

    # --- 1b. sibling re-scoring: features of the best candidates are fixed by the fusion; weights one by one ----
    rerank = RerankWeights()
    cands = []
    for x in all_items:
        hits = index.search(x.vec, x.terms, rerank.depth, weights, phonetic=x.phonetic)
        pos = [index.code_pos[h.code] for h in hits]
        cands.append((x, hits, features(x.text, x.terms, pos, mterms, index.bm25.idf)))

    def rerank_top1(rw: RerankWeights) -> float:
        return mean_of([(x, rw.apply(h, f)[0].code == x.code) for x, h, f in cands])

    best_r = rerank_top1(rerank)
    for _ in range(2):
        for f in FEATURES:
            for v in (0.0, 0.025, 0.05, 0.075, 0.1, 0.15):
                trial = dataclasses.replace(rerank, **{f: v})
                acc = rerank_top1(trial)
                if acc > best_r + 1e-9:
                    best_r, rerank = acc, trial

    r_ok = [(x, rerank.apply(h, f)[0].code == x.code) for x, h, f in cands]
    r_clean, r_typo, r_cat = share(r_ok, matter_items), share(r_ok, typo_items), share(r_ok, cat_items)
    log(f"calibrate: rerank {rerank} held-out top-1 {r_clean:.3f} (typo copies {r_typo:.3f}, catalogue {r_cat:.3f})")

    # --- 1c. the learned re-ranker (nlu/ranker.py), trained from the reduced KB's own questions as the NLU trains
    # it from the whole KB, for each share of guides in catalogue form; used instead of the hand-weighted
    # re-scoring only when it wins on the held-out questions
    ranker, bare, k_best = None, 0.0, -1.0
    k_clean = k_typo = k_cat = 0.0
    # the candidates' features do not depend on the scorer: computed once for every scorer tried
    learned = [(x, hs, candidate_features(x.text, x.vec, x.terms, hs[:RANKER_DEPTH], index, mterms))
               for x, hs, _ in cands]
    for b in BARE_SHARES:
        trial = train(h.reduced, index, tok, phonetic, mterms, weights, enc.encode, bare=b)
        if trial is None:
            continue
        ok = [(x, trial.apply(hs, fx)[0].code == x.code) for x, hs, fx in learned]
        acc = mean_of(ok)
        log(f"calibrate: learned re-ranker, {b:.2f} of guides in catalogue form: held-out top-1 "
            f"{share(ok, matter_items):.3f} (typo copies {share(ok, typo_items):.3f}, catalogue "
            f"{share(ok, cat_items):.3f}); mean {acc:.4f}")
        if acc > k_best + 1e-9:
            ranker, bare, k_best = trial, b, acc
            k_clean, k_typo, k_cat = share(ok, matter_items), share(ok, typo_items), share(ok, cat_items)
    use_ranker = ranker is not None and k_best > best_r + 1e-9
    log(f"calibrate: learned re-ranker {'used' if use_ranker else 'not used'} (mean top-1 {k_best:.4f} against "
        f"the re-scoring's {best_r:.4f}){f'; share in catalogue form {bare}' if use_ranker else ''}")
    alt_bare, top3_plain, top3_alt = None, 0.0, 0.0
    if use_ranker:
        r_clean, r_typo, r_cat = k_clean, k_typo, k_cat
        # --- 1d. the alternatives scorer (places 2 and after; the first stays the ranker's), for each share of
        # guides in catalogue form, kept when it raises the mean top-3 of the three sets
        def top3(r) -> float:
            return mean_of([(x, x.code in [y.code for y in r.apply(hs, fx)[:3]]) for x, hs, fx in learned])

        top3_plain = top3_alt = top3(ranker)
        plain = ranker
        for b in BARE_SHARES:
            alt = train_alternatives(h.reduced, index, tok, phonetic, mterms, weights, enc.encode, bare=b)
            if alt is None:
                continue
            trial = dataclasses.replace(plain, alternatives=alt)
            acc = top3(trial)
            log(f"calibrate: alternatives scorer, {b:.2f} of guides in catalogue form: mean top-3 {acc:.4f} "
                f"(without it {top3_plain:.4f})")
            if acc > top3_alt + 1e-9:
                ranker, alt_bare, top3_alt = trial, b, acc
        log(f"calibrate: alternatives scorer {'used, share ' + str(alt_bare) if alt_bare is not None else 'not used'}")

    probe = copy.copy(nlu)
    probe.index, probe.classifier, probe.phonetic, probe.matter_terms = index, clf, phonetic, mterms
    probe.ranker = ranker if use_ranker else None
    probe.adapter = None  # never the served NLU's (trained with the held-out questions)
    cal = Calibration(weights=weights, rerank=rerank, ranker=use_ranker, model=enc.key,
                      ranker_bare=bare if use_ranker else 0.0, ranker_alternatives=alt_bare)
    probe.calibration = cal

    # --- 1e. the query adapter (nlu/adapter.py, trained without the held-out questions): the strength of its map
    # (0: off) with the best mean of the three sets' top-1 and top-3 through the fusion and re-scoring chosen above
    # (the re-ranker is trained on plain embeddings whatever the strength, as the NLU trains it)
    strength, adapter_scores = 0.0, {}
    for a in ADAPTER_STRENGTHS if h.adapter is not None else ():
        probe.adapter = h.adapter.scaled(a) if a else None
        firsts = [(x, [y.code for y in probe.ranked(x.text, x.vec, 3)]) for x in all_items]
        t1, t3 = mean_of([(x, c[:1] == [x.code]) for x, c in firsts]), mean_of([(x, x.code in c) for x, c in firsts])
        adapter_scores[a] = (round(t1, 4), round(t3, 4))
        log(f"calibrate: query adapter strength {a}: mean top-1 {t1:.4f}, mean top-3 {t3:.4f}")
        if (t1 + t3) / 2 > (sum(adapter_scores.get(strength, (0, 0))) / 2) + 1e-9:
            strength = a
    probe.adapter = h.adapter.scaled(strength) if strength else None
    cal.adapter = strength
    log(f"calibrate: query adapter {'strength ' + str(strength) if strength else 'not used'}")

    # --- 2. thresholds with the full decision --------------------------------------------------------------
    cat_hits = {part: [(x, [y.code for y in probe.ranked(x.text, x.vec, 3)]) for x in items]
                for part, items in h.catalogue.items()}
    cat_notes = {f"catalogue_{part}_top{k}": round(float(np.mean([x.code in codes[:k] for x, codes in rows])), 4)
                 for part, rows in cat_hits.items() if rows for k in (1, 3)}
    log(f"calibrate: own catalogue-entry questions {cat_notes}")
    cache = []
    for x in matter_items + intent_items:
        ranking = clf.predict(x.vec)
        hits = probe.ranked(x.text, x.vec, 5)
        cache.append((x, ranking, hits))

    def routed(res: dict) -> bool:
        return bool(res["matters"]) and not res["out_of_scope"]

    scores = sorted({round(h[0].score, 3) for _, _, h in cache if h})
    grid = []
    for t in np.arange(0.70, 1.40, 0.01):
        cal.oos_threshold = float(t)
        ok = n = 0
        for x, ranking, hits in cache:
            res = probe.decide(x.text, x.text, ranking, hits)
            if x.code is not None:
                ok += routed(res)
                n += 1
            elif x.intent in ("out_of_scope", "chitchat"):
                ok += not routed(res)
                n += 1
        grid.append((ok / n, float(t)))
    top_acc = max(a for a, _ in grid)
    plateau = [t for a, t in grid if a >= top_acc - 1e-9]
    best_t = (top_acc, plateau[len(plateau) // 2])  # the middle of the best range: the widest margin
    cal.oos_threshold = round(best_t[1], 3)
    log(f"calibrate: oos_threshold {cal.oos_threshold} (held-out routing accuracy {best_t[0]:.3f}; "
        f"{len(scores)} distinct top scores)")

    # --- 2b. follow-ups: every hand-written follow-up that names no matter (they are not in the index, so their
    # matter scores are unbiased) must get no matter; held-out KB questions worded as follow-ups must get one.
    bare = [item(t, i, None) for i, items in examples.items() if i in FOLLOW_UPS for t in items
            if t not in named_raw]
    pos = [x for x in matter_items if label_question(x.text) != "ask_matter"]
    probe.generic_terms = nlu.generic_terms
    def follow_found(x):
        top = probe.ranked(x.text, x.vec, 1)[0].score
        return top >= cal.oos_threshold and probe.has_content(x.text)
    f_acc = (sum(follow_found(x) for x in pos) + sum(not follow_found(x) for x in bare)) / max(1, len(pos) + len(bare))
    log(f"calibrate: follow-up rule accuracy {f_acc:.3f} ({len(bare)} bare follow-ups, {len(pos)} held-out "
        f"follow-ups naming a matter)")

    # --- 2c. out-of-scope override: a question the classifier calls out of scope but that matches a matter
    # strongly enough for how sure the classifier is (best score ≥ threshold + slope × its confidence) is routed.
    # Positives: the three sets of matter questions (held-out, typo copies, catalogue entries; the mean of their
    # shares routed); negatives: every hand-written out-of-scope / chit-chat example (not in the index, so their
    # matter scores are unbiased), each classified by a classifier trained without it (4 folds), so that its
    # confidence is what a new complaint gets. Balanced accuracy; on ties the smaller slope, then the higher
    # threshold.
    positives = [(x, clf.predict(x.vec), probe.ranked(x.text, x.vec, 5)) for x in all_items]
    raw_negatives = [(t, i) for i, items in examples.items() if i in ("out_of_scope", "chitchat") for t in items]
    negatives = []
    for k in range(4):
        fold = raw_negatives[k::4]
        drop = {normalize(t, MAX_MODEL_CHARS) for t, _ in fold}
        kept = [(t, i) for t, i in h.pairs if t not in drop]
        clf_k = IntentClassifier.fit(np.stack([h.vecs[t] for t, _ in kept]), [i for _, i in kept])
        for t, i in fold:
            x = item(t, i, None)
            negatives.append((x, clf_k.predict(x.vec), probe.ranked(x.text, x.vec, 5)))

    # only a question the classifier calls out of scope can change with the override: the others are decided once
    cal.oos_override_threshold = cal.oos_override_slope = 0.0
    fixed = {id(x): routed(probe.decide(x.text, x.text, r, h)) for x, r, h in positives + negatives
             if r[0][0] != "out_of_scope"}

    def is_routed(x, r, h) -> bool:
        got = fixed.get(id(x))
        return routed(probe.decide(x.text, x.text, r, h)) if got is None else got

    def balanced(t: float, slope: float) -> float:
        cal.oos_override_threshold, cal.oos_override_slope = t, slope
        pos_ok = mean_of([(x, is_routed(x, r, h)) for x, r, h in positives])
        neg_ok = np.mean([not is_routed(x, r, h) for x, r, h in negatives])
        return 0.5 * (pos_ok + neg_ok)

    base_o = balanced(0.0, 0.0)
    best_o = (base_o, 0.0, 0.0)
    for slope in OVERRIDE_SLOPES:
        for t in np.arange(1.6, 0.6, -0.01):
            acc = balanced(round(float(t), 3), slope)
            if acc > best_o[0] + 1e-9:
                best_o = (acc, round(float(t), 3), slope)
    cal.oos_override_threshold, cal.oos_override_slope = best_o[1], best_o[2]
    log(f"calibrate: oos_override_threshold {cal.oos_override_threshold} + {cal.oos_override_slope} × confidence "
        f"(balanced routing accuracy {best_o[0]:.3f}, without the override {base_o:.3f})")

    # --- 3. ambiguity margin -------------------------------------------------------------------------------
    # Specific questions (held-out and catalogue): an answer is right when its first matter is, a question back is
    # right when it was not (at most a quarter of them flagged). Vague questions (``vague_questions.yml``: a family
    # named, nothing that tells its members apart) are right only as a question back. Each question counts once.
    gaps = [(hits[0].score - hits[1].score, hits[0].code == x.code) for x, _, hits in cache
            if x.code is not None and len(hits) > 1]
    cat_ids = {id(x) for x in cat_items}
    gaps += [(hits[0].score - hits[1].score, hits[0].code == x.code) for x, _, hits in positives
             if id(x) in cat_ids and len(hits) > 1]
    vague = [hits[0].score - hits[1].score for x in h.vague for hits in [probe.ranked(x.text, x.vec, 2)]
             if len(hits) > 1]

    def margin_utility(m: float) -> float:
        specific = sum(c for g, c in gaps if g >= m) + sum(not c for g, c in gaps if g < m)
        return (specific + sum(g < m for g in vague)) / max(1, len(gaps) + len(vague))

    best_m = (margin_utility(0.0), 0.0)
    for m in np.arange(0.0, 0.3, 0.005):
        if sum(1 for g, _ in gaps if g < m) > 0.25 * len(gaps):
            break
        util = margin_utility(float(m))
        if util > best_m[0] + 1e-12:
            best_m = (util, float(m))
    cal.ambiguity_margin = round(best_m[1], 3)
    vague_flagged = float(np.mean([g < cal.ambiguity_margin for g in vague])) if vague else 0.0
    specific_flagged = float(np.mean([g < cal.ambiguity_margin for g, _ in gaps])) if gaps else 0.0
    log(f"calibrate: ambiguity_margin {cal.ambiguity_margin} ({len(vague)} vague questions, {vague_flagged:.3f} "
        f"asked back; {specific_flagged:.3f} of {len(gaps)} specific questions asked back)")
    # --- 3b. with the learned re-ranker: the gap of the two best fused scores, for the questions the margin does
    # not flag (the same utility, at most a tenth of them flagged)
    if probe.ranker is not None:
        fgaps = []
        for x, _, hits in cache:
            if x.code is None or len(hits) < 2 or hits[0].score - hits[1].score < cal.ambiguity_margin:
                continue
            fused = sorted((h.fused for h in hits if h.fused is not None), reverse=True)
            if len(fused) > 1:
                fgaps.append((fused[0] - fused[1], hits[0].code == x.code))
        best_f = (sum(c for _, c in fgaps), 0.0)
        for m in np.arange(0.0, 0.1, 0.0025):
            if sum(1 for g, _ in fgaps if g < m) > 0.10 * len(fgaps):
                break
            util = sum(c for g, c in fgaps if g >= m) + sum(not c for g, c in fgaps if g < m)
            if util >= best_f[0]:
                best_f = (util, float(m))
        cal.flat_margin = round(best_f[1], 4)
        log(f"calibrate: flat_margin {cal.flat_margin}")

    # --- 4. intent threshold -------------------------------------------------------------------------------
    conf = [(r[0][1], r[0][0] == x.intent or (x.intent in MATTER_INTENTS and r[0][0] in MATTER_INTENTS))
            for x, r, _ in cache if x.code is None]
    best_i = (sum(c for _, c in conf), 0.0)
    for t in np.arange(0.0, 0.9, 0.025):
        if sum(1 for p, _ in conf if p < t) > 0.10 * len(conf):
            break
        util = sum(c for p, c in conf if p >= t) + sum(not c for p, c in conf if p < t)
        if util > best_i[0]:
            best_i = (util, float(t))
    cal.intent_threshold = round(best_i[1], 3)
    intent_acc = np.mean([c for _, c in conf]) if conf else 0.0
    log(f"calibrate: intent_threshold {cal.intent_threshold} (held-out intent accuracy {intent_acc:.3f})")
    cal.notes = {"seed": seed, "holdout": holdout, "heldout_matter_questions": len(matter_items),
                 "heldout_intent_examples": len(intent_items), "heldout_typo_copies": len(typo_items),
                 "heldout_top1_fused": round(top1_clean, 4), "heldout_typo_top1_fused": round(top1_typo, 4),
                 "heldout_top1": round(r_clean, 4), "heldout_typo_top1": round(r_typo, 4),
                 "heldout_top1_learned_reranker": round(k_clean, 4), **cat_notes,
                 "heldout_typo_top1_learned_reranker": round(k_typo, 4),
                 "mean_top3_learned_reranker": round(top3_plain, 4), "mean_top3_with_alternatives": round(top3_alt, 4),
                 "heldout_routing_accuracy": round(best_t[0], 4),
                 "vague_questions": len(vague), "vague_asked_back": round(vague_flagged, 4),
                 "specific_asked_back": round(specific_flagged, 4),
                 "override_balanced_accuracy": round(float(best_o[0]), 4),
                 "override_negatives": len(negatives), "followup_accuracy": round(f_acc, 4),
                 "heldout_intent_accuracy": round(float(intent_acc), 4),
                 "query_adapter": {**h.adapter.notes, "strengths_top1_top3": adapter_scores} if h.adapter else None,
                 "kb_fingerprint": nlu.fingerprint, "seconds": round(time.perf_counter() - t0, 1),
                 "data": "own examples (nlu/data/intents.yml) + KB guide examples; never the evaluation set"}
    return cal
