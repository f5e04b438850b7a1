"""The learned query adapter (nlu/adapter.py): what it learns, its cache, and that the search uses it."""

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from knowledge.schema import Matter
from nlu.adapter import QueryAdapter, cache_key, load_or_train, train, training_questions

DIM = 48


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _space(seed=7, matters=30, per=6):
    """A synthetic KB and index: each matter has a name row and ``per`` question rows. Questions are worded in one
    of three styles shared across matters, and the style weighs more than the matter, so a question's closest other
    row is mostly another matter's question in the same style. A linear map that drops the style directions fixes
    that, for questions it has not seen too."""
    rng = np.random.default_rng(seed)
    content = _unit(rng.normal(size=(matters, DIM)))
    styles = _unit(rng.normal(size=(3, DIM)))

    def question(m):
        return _unit(0.3 * content[m] + 1.0 * styles[rng.integers(3)] + 0.5 * _unit(rng.normal(size=DIM)))

    texts, vecs, owner, kb = [], [], [], []
    for m in range(matters):
        qs = [f"m{m}问题{j}" for j in range(per)]
        kb.append(Matter(code=f"M{m}", name=f"事项{m}", examples=qs, source="authored"))
        for t, v in [(f"事项{m}", content[m]), *((q, question(m)) for q in qs)]:
            texts.append(t)
            vecs.append(v)
            owner.append(m)
    index = SimpleNamespace(row_texts=texts, vectors=np.asarray(vecs, dtype="float32"),
                            row_matter=np.asarray(owner), code_pos={m.code: i for i, m in enumerate(kb)})
    fresh = [(m, question(m)) for m in range(matters) for _ in range(4)]
    return kb, index, fresh


def _own_nearest(index, pairs, adapter=None):
    """The share of questions whose closest row belongs to their own matter."""
    hits = 0
    for m, v in pairs:
        q = adapter.apply(v) if adapter is not None else v
        hits += int(index.row_matter[int(np.argmax(index.vectors @ q))]) == m
    return hits / len(pairs)


def test_training_questions_are_the_authored_questions_as_rows():
    kb, index, _ = _space(matters=4, per=3)
    kb.append(Matter(code="C", name="目录事项", examples=["没有行的问题"], source="sichuan-catalog"))
    vecs, own, pos = training_questions(kb, index)
    assert len(vecs) == len(own) == len(pos) == 12
    assert all(index.row_texts[r[0]].startswith(f"m{p}") for r, p in zip(own, pos))


def test_the_map_brings_new_questions_to_their_own_matter():
    kb, index, fresh = _space()
    adapter = train(kb, index, scale=20.0, l2=1e-4, iterations=80)
    assert adapter is not None
    assert adapter.notes["loss_after"] < adapter.notes["loss_before"]
    before, after = _own_nearest(index, fresh), _own_nearest(index, fresh, adapter)
    assert before < 0.5 and after > before + 0.3, (before, after)
    v = fresh[0][1].astype("float32")
    assert np.allclose(adapter.scaled(0.0).apply(v), v, atol=1e-6)
    assert np.linalg.norm(adapter.apply(v)) == pytest.approx(1.0, abs=1e-5)


def test_training_is_deterministic_and_needs_enough_questions():
    kb, index, _ = _space(matters=12)
    a, b = train(kb, index, iterations=20), train(kb, index, iterations=20)
    assert np.array_equal(a.matrix, b.matrix)
    small_kb, small, _ = _space(matters=4, per=3)
    assert train(small_kb, small) is None  # 12 questions: too few to learn a map from


def test_the_adapter_is_cached_and_keyed(tmp_path):
    kb, index, _ = _space(matters=12)
    calls = []

    def build():
        calls.append(1)
        return train(kb, index, iterations=10)

    key = cache_key("kb1", "model1")
    first, cached = load_or_train(tmp_path, key, build)
    again, cached_again = load_or_train(tmp_path, key, build)
    assert (cached, cached_again, len(calls)) == (False, True, 1)
    assert np.array_equal(first.matrix, again.matrix) and again.notes == first.notes
    keys = {key, cache_key("kb2", "model1"), cache_key("kb1", "model2"), cache_key("kb1", "model1", scale=10.0),
            cache_key("kb1", "model1", l2=0.1), cache_key("kb1", "model1", iterations=5)}
    assert len(keys) == 6
    (tmp_path / f"adapter-{key}.npz").write_bytes(b"not a file of arrays")
    rebuilt, cached = load_or_train(tmp_path, key, build)
    assert not cached and np.array_equal(rebuilt.matrix, first.matrix)


def test_the_search_orders_by_the_matter_vector_and_keeps_the_plain_scores_of_the_places(nlu):
    """``NLU.ranked`` orders the whole KB by the adapter's matter vector (applied once), and each place keeps the
    plain embedding's score for that place (the thresholds' scale); a ranking among given matters is the plain
    embedding's."""
    rng = np.random.default_rng(11)
    plain = copy.copy(nlu)
    plain.adapter = None
    mapped = copy.copy(nlu)
    mapped.adapter = QueryAdapter((0.6 * rng.normal(size=(nlu.encoder.dim, nlu.encoder.dim)) /
                                   np.sqrt(nlu.encoder.dim)).astype("float32"))
    changed = 0
    for text in ("身份证丢了咋个补办", "公积金怎么提取", "开个小卖部要办啥证", "我妈80多了养老金认证咋整"):
        qvec = nlu.encoder.encode_one(text)
        got = mapped.ranked(text, qvec, 5)
        by_map = plain.ranked(text, mapped.adapter.apply(qvec), 5)
        unmapped = plain.ranked(text, qvec, 5)
        assert [h.code for h in got] == [h.code for h in by_map]
        assert [h.score for h in got] == [h.score for h in unmapped]
        changed += [h.code for h in got] != [h.code for h in unmapped]
        family = [h.code for h in unmapped]
        among = mapped.rank_among(text, family)
        assert [(h.code, h.score) for h in among] == [(h.code, h.score) for h in plain.rank_among(text, family)]
    assert changed  # the map is not a no-op here, so the equalities above say something


def test_the_served_nlu_has_the_adapter_its_calibration_asks_for(nlu):
    strength = nlu.calibration.adapter
    assert (nlu.adapter is not None) == (strength > 0)
    if strength:
        assert nlu.adapter.notes["strength"] == strength
