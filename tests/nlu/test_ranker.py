"""The learned re-ranker (nlu/ranker.py): training from the KB's own questions, its scoring, its cache."""

import numpy as np
import pytest

from knowledge.schema import Matter
from nlu.index import FusionWeights, MatterHit
from nlu.ranker import (ALT_FEATURES, FEATURES, Ranker, _fold_questions, bare_form, by_type, cache_key, fit,
                        load_or_train, train, train_alternatives, training_rows)


def _lists(rng, n, signal):
    """Synthetic candidate lists: the right candidate is first by fused score only half of the time, and has the
    ``signal`` feature set (others mostly not)."""
    xs, ys = [], []
    for _ in range(n):
        x = np.zeros((6, len(FEATURES)))
        x[:, 0] = np.sort(rng.uniform(0.8, 1.0, 6))[::-1]
        y = int(rng.integers(0, 2))
        x[:, FEATURES.index(signal)] = (rng.uniform(size=6) < 0.15).astype(float)
        x[y, FEATURES.index(signal)] = 1.0
        xs.append(x)
        ys.append(y)
    return xs, ys


def test_fit_learns_the_feature_that_marks_the_right_candidate():
    rng = np.random.default_rng(3)
    xs, ys = _lists(rng, 400, "name_cover")
    theta = fit(xs, ys)
    assert theta is not None and theta[0] == pytest.approx(1.0)  # in fused-score units
    others = [w for f, w in zip(FEATURES, theta) if f not in ("fused", "name_cover")]
    assert theta[FEATURES.index("name_cover")] > max(abs(w) for w in others)
    before = np.mean([y == 0 for y in ys])
    after = np.mean([int(np.argmax(x @ theta)) == y for x, y in zip(xs, ys)])
    assert after > before + 0.2


def test_fit_is_deterministic_and_refuses_an_unusable_scorer():
    rng = np.random.default_rng(5)
    xs, ys = _lists(rng, 200, "conditions")
    assert np.array_equal(fit(xs, ys), fit(xs, ys))
    # the right candidate is always the one with the lowest fused score and nothing else tells it apart: the
    # fused score's weight comes out negative, so no scorer in fused-score units exists
    plain = []
    for x in xs:
        x = x.copy()
        x[:, 1:] = 0.0
        plain.append(x)
    assert fit(plain, [len(x) - 1 for x in plain]) is None
    assert fit([], []) is None


def test_apply_reorders_and_keeps_the_best_fused_score_first():
    r = Ranker({f: 0.0 for f in FEATURES[1:]} | {"variant": 0.2})
    hits = [MatterHit("A", "a", 1.00), MatterHit("B", "b", 0.95), MatterHit("C", "c", 0.50)]
    x = np.zeros((3, len(FEATURES)))
    x[:, 0] = [h.score for h in hits]
    x[1, FEATURES.index("variant")] = 1.0
    out = r.apply(hits, x)
    assert [h.code for h in out] == ["B", "A", "C"]
    # the new first keeps the best fused score; the gaps are the ranker's (B 0.95+0.2 vs A 1.00, C 0.50)
    assert out[0].score == pytest.approx(1.00)
    assert out[1].score == pytest.approx(1.00 - 0.15) and out[2].score == pytest.approx(0.50 - 0.15)
    assert r.apply(hits[:1], x[:1]) == hits[:1]


def test_alternatives_order_the_places_after_the_first_and_keep_the_scores_of_the_places():
    """The first place is the ranker's; the others are in the alternatives scorer's order, here one that prefers
    a catalogue entry (not authored) with a close embedding; each place keeps the score the ranker gives it, so
    the gap between the first two (which decides a question back) does not move."""
    plain = Ranker({f: 0.0 for f in FEATURES[1:]} | {"authored": 0.1})
    hits = [MatterHit("G1", "g1", 1.00), MatterHit("G2", "g2", 0.96), MatterHit("C1", "c1", 0.95),
            MatterHit("G3", "g3", 0.60)]
    x = np.zeros((4, len(FEATURES)))
    x[:, 0] = [h.score for h in hits]
    x[:, FEATURES.index("authored")] = [1, 1, 0, 1]
    x[:, FEATURES.index("dense")] = [0.9, 0.8, 0.85, 0.5]
    before = plain.apply(hits, x)
    assert [h.code for h in before] == ["G1", "G2", "C1", "G3"]
    alt = {f: 0.0 for f in ALT_FEATURES[1:]} | {"dense": 1.0, "dense*authored": -1.0}  # a catalogue entry's cosine
    with_alt = Ranker(plain.weights, alternatives=alt)
    after = with_alt.apply(hits, x)
    assert [h.code for h in after] == ["G1", "C1", "G2", "G3"]
    assert [h.score for h in after] == pytest.approx([h.score for h in before])
    assert [h.fused for h in after] == [1.00, 0.95, 0.96, 0.60]
    # the typed columns: each feature but the fused score and ``authored``, for authored candidates only
    t = by_type(x)
    assert t.shape == (4, len(ALT_FEATURES))
    assert list(t[:, ALT_FEATURES.index("dense*authored")]) == pytest.approx([0.9, 0.8, 0.0, 0.5])
    assert np.array_equal(t[:, :len(FEATURES)], x)


def test_a_ranker_with_alternatives_round_trips_and_has_its_own_cache_key(tmp_path):
    r = Ranker({"dense": 0.5}, 8, {"questions": 60}, {"dense*authored": -0.25})
    r.save(tmp_path / "r.json")
    assert Ranker.load(tmp_path / "r.json") == r
    w = FusionWeights()
    keys = {cache_key("kb", "m", w, bare=0.05), cache_key("kb", "m", w, bare=0.05, alt_bare=0.1),
            cache_key("kb", "m", w, bare=0.05, alt_bare=0.25)}
    assert len(keys) == 3


def _kb():
    m = [
        Matter(code="A1", name="不动产首次登记", aliases=["新房办证"], source="authored",
               examples=["新房子第一次办证", "开发商交房了怎么办产权证", "新房的房产证怎么办"],
               colloquial=["新房子的证咋个办", "交房了办证"]),
        Matter(code="A2", name="不动产转移登记", aliases=["二手房过户"], source="authored",
               examples=["二手房过户怎么办", "买了二手房要办什么", "房子卖了怎么过户"],
               colloquial=["二手房咋个过户", "买的旧房子办证"]),
        Matter(code="A3", name="不动产抵押登记", aliases=["房屋抵押"], source="authored",
               examples=["房子抵押给银行要办什么", "贷款抵押登记怎么办", "按揭买房抵押"],
               colloquial=["房子押给银行咋个办", "抵押贷款的登记"]),
        Matter(code="A4", name="居民身份证换领", aliases=["身份证到期换证"], source="authored",
               examples=["身份证过期了怎么换", "身份证到期换新的", "换身份证要带什么"],
               colloquial=["身份证满了咋个换", "身份证要到期了"]),
        Matter(code="C1", name="居住证办理", source="sichuan-catalog"),
    ]
    return m


def test_folds_cover_every_own_question_once():
    matters = _kb()
    folds = _fold_questions(matters, 4, seed=29)
    got = sorted((i, q) for f in folds for i, q in f)
    want = sorted((i, q) for i, m in enumerate(matters) if m.source == "authored"
                  for q in dict.fromkeys([*m.examples, *m.colloquial]))
    assert got == want
    assert folds == _fold_questions(matters, 4, seed=29)


def test_training_on_a_small_kb_is_cached_and_deterministic(nlu, tmp_path):
    from nlu.index import MatterIndex
    from nlu.phonetic import PhoneticIndex
    from nlu.rerank import MatterTerms

    matters = _kb()
    index = MatterIndex.build(matters, nlu.encoder, nlu.tokenizer)
    phon = PhoneticIndex.from_matters(matters)
    terms = MatterTerms.build(matters, nlu.tokenizer, index.doc_terms)
    w = FusionWeights(1.0, 0.5, 0.05, 0.3)
    calls = []

    def build():
        calls.append(1)
        return train(matters, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode, folds=2)

    # too few questions to learn from: nothing is trained, nothing cached
    first, cached = load_or_train(tmp_path, "k", build)
    assert first is None and not cached and not list(tmp_path.glob("ranker-*"))
    # the same questions many times over are enough for the unit test of the plumbing
    many = [m.model_copy(update={"examples": [f"{q}{s}" for q in m.examples for s in ("", "呀", "嘛", "哦", "啊")]})
            for m in matters]
    index = MatterIndex.build(many, nlu.encoder, nlu.tokenizer)
    phon = PhoneticIndex.from_matters(many)
    terms = MatterTerms.build(many, nlu.tokenizer, index.doc_terms)

    def build_many():
        calls.append(1)
        return train(many, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode, folds=2)

    a, cached_a = load_or_train(tmp_path, "k2", build_many)
    b, cached_b = load_or_train(tmp_path, "k2", build_many)
    assert a is not None and not cached_a and cached_b
    assert a.weights == b.weights and len(calls) == 2
    assert a.notes["questions"] >= 50
    assert train(many, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode, folds=2).weights == a.weights
    assert a.alternatives is None
    both = train(many, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode, folds=2, alt_bare=0.5)
    assert both.weights == a.weights and set(both.alternatives) == set(ALT_FEATURES[1:])
    assert both.alternatives == train_alternatives(many, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode,
                                                   folds=2, bare=0.5)


def test_a_guide_in_catalogue_form_has_its_name_only_and_is_not_authored():
    guide = _kb()[0].model_copy(update={"conditions": ["新建商品房"], "materials": []})
    bare = bare_form(guide)
    assert (bare.code, bare.name, bare.source) == ("A1", "不动产首次登记", "sichuan-catalog")
    assert bare.aliases == bare.colloquial == bare.examples == bare.conditions == bare.materials == []
    assert guide.examples and guide.source == "authored"  # the KB's own copy is untouched


def test_a_guide_added_leaves_every_other_guides_folds_as_they_were():
    # (a guide added or edited in the workbench retrains the ranker; the other guides' questions must not move
    # between folds, or one edit reshuffles what the ranker learns from everything else)
    matters = _kb()
    before = _fold_questions(matters, 4, seed=29)
    added = [Matter(code="N1", name="中国公民收养子女登记", source="authored", examples=["领养孩子要什么条件"],
                    colloquial=["想领养个娃娃"]), *matters]
    after = _fold_questions(added, 4, seed=29)
    shifted = [[(i - 1, q) for i, q in fold if i > 0] for fold in after]
    assert shifted == before


def test_training_searches_a_share_of_guides_in_catalogue_form(nlu):
    """Without it every right answer the ranker learns from is a guide with many texts, and it learns to put the
    catalogue's entries (a name only) last; with a share of guides searched in catalogue form, some right answers
    are such entries."""
    from nlu.index import MatterIndex
    from nlu.phonetic import PhoneticIndex
    from nlu.rerank import MatterTerms

    matters = _kb()
    index = MatterIndex.build(matters, nlu.encoder, nlu.tokenizer)
    phon = PhoneticIndex.from_matters(matters)
    terms = MatterTerms.build(matters, nlu.tokenizer, index.doc_terms)
    w = FusionWeights(1.0, 0.5, 0.0, 0.3)
    col = FEATURES.index("authored")

    def gold_authored(bare):
        xs, ys, _ = training_rows(matters, index, nlu.tokenizer, phon, terms, w, nlu.encoder.encode, folds=2,
                                  bare=bare)
        return [x[y, col] for x, y in zip(xs, ys)]

    assert set(gold_authored(0.0)) == {1.0}
    assert set(gold_authored(1.0)) == {0.0}
    some = gold_authored(0.5)
    assert set(some) == {0.0, 1.0} and some == gold_authored(0.5)  # seeded
    assert cache_key("kb", "m", w, bare=0.05) != cache_key("kb", "m", w, bare=0.0)


def test_the_cache_key_follows_the_request_kind_cues(tmp_path, monkeypatch):
    """The ranker's features read the cues of nlu/data/variants.yml: an edited cue file trains a new ranker."""
    import nlu.ranker as ranker_module
    from nlu.rerank import VARIANTS_FILE, VariantCues

    w = FusionWeights()
    before = cache_key("kb", "m", w, bare=0.05)
    edited = tmp_path / "variants.yml"
    edited.write_text(VARIANTS_FILE.read_text(encoding="utf-8").replace("[继承,", "[继承, 留给我,"), encoding="utf-8")
    assert VariantCues(edited).fingerprint != VariantCues().fingerprint
    assert VariantCues(edited).query_cues["inherit"][:2] == ("继承", "留给我")
    monkeypatch.setattr(ranker_module, "VariantCues", lambda: VariantCues(edited))
    assert cache_key("kb", "m", w, bare=0.05) != before
