"""Sibling discrimination (nlu/rerank.py + nlu/data/variants.yml). Phrasings written for these tests."""

import numpy as np
import pytest

from nlu.index import MatterHit
from nlu.rerank import FEATURES, RerankWeights, VariantCues


@pytest.fixture(scope="module")
def cues():
    return VariantCues()


@pytest.mark.parametrize("text,kind", [
    ("我那个卫生许可证下个月就满期了，到期了咋整", "renew"),
    ("店子不开了，执照要去销掉不", "cancel"),
    ("驾驶证搞丢了", "reissue"),
    ("老房子是我爸的遗产", "inherit"),
    ("房子按揭还没还完", "mortgage"),
    ("想看下我的证做好没", "lookup"),
    ("公司法人换人了", "change"),
    ("我那个个体执照不想要了", "cancel"),
    ("我去年换了个单位上班", "change"),
])
def test_query_cues(cues, text, kind):
    assert kind in cues.of_query(text)


@pytest.mark.parametrize("text", ["驾照搞掉了，还没过期", "证没到期，就是烂了", "执照都没有期满"])
def test_an_end_said_not_to_have_come_asks_no_renewal(cues, text):
    assert "renew" not in cues.of_query(text)


@pytest.mark.parametrize("text, kinds", [
    ("换门面的时候营业执照搞掉了", {"reissue"}),  # (换门面的时候: when it happened, no change asked)
    ("快到期的时候要带啥", {"renew"}),  # (nothing else said: the clause is what is asked)
])
def test_a_kind_said_only_in_a_clause_of_when_is_not_asked_when_the_rest_says_one(cues, text, kinds):
    assert cues.of_query(text) == kinds


@pytest.mark.parametrize("text", ["店子想歇业几个月再开", "税务上办个停业"])
def test_a_pause_is_no_cancellation(cues, text):
    # (市场主体歇业备案, 停业登记 and 烟草专卖零售许可证停业 are named by these words: a pause, not an end)
    assert "cancel" not in cues.of_query(text)


@pytest.mark.parametrize("name,kinds", [
    ("不动产抵押登记", {"mortgage"}), ("不动产转移登记（继承、受遗赠）", {"transfer", "inherit"}),
    ("烟草专卖零售许可证延续", {"renew"}), ("个体工商户注销登记", {"cancel"}), ("居民户口簿", set()),
])
def test_name_cues(cues, name, kinds):
    assert cues.of_name(name) == kinds


def test_apply_reorders_by_bonus_and_never_raises_the_best_score():
    hits = [MatterHit("A", "a", 1.00), MatterHit("B", "b", 0.98), MatterHit("C", "c", 0.50)]
    w = RerankWeights(variant=0.1)
    x = np.zeros((3, len(FEATURES)), dtype="float32")
    x[1, FEATURES.index("variant")] = 1.0   # B is the kind asked for
    x[0, FEATURES.index("variant")] = -1.0  # A is another kind
    out = w.apply(hits, x)
    assert [h.code for h in out] == ["B", "A", "C"]
    assert max(h.score for h in out) <= max(h.score for h in hits)
    assert RerankWeights().apply(hits, np.zeros((3, len(FEATURES)))) == sorted(hits, key=lambda h: -h.score)
    assert not RerankWeights().active and w.active


def _first(nlu, text):
    r = nlu.parse(text)
    assert r["matters"] and not r["out_of_scope"], r
    return r["matters"][0]["name"]


@pytest.mark.parametrize("text,want", [
    ("我爸走了，他名下那套房子要转到我名下，继承过户咋个办", "继承"),
    ("房子要押给银行贷款，不动产那边要办啥子登记", "抵押"),
    ("开发商交房了，新房的不动产权证第一次办", "首次"),
])
def test_real_estate_siblings(nlu, text, want):
    names = [m["name"] for m in nlu.parse(text)["matters"][:3]]
    assert any(want in n for n in names), names


@pytest.mark.parametrize("text,want,not_want", [
    ("烟酒店的烟草证明年就到期了，要提前续不", "延续", "新办"),
    ("残疾证弄丢了，补一个要带啥子", "补", "新办"),
])
def test_variant_cues_pick_the_sibling(nlu, text, want, not_want):
    first = _first(nlu, text)
    assert want in first and not_want not in first, first


def test_a_question_that_asks_for_no_kind_marks_the_derived_kinds(cues):
    """«…咋办» with no request kind: a reissue / renewal sibling gets ``unasked``, the new-registration one not;
    once the question asks for a reissue, nothing is ``unasked``."""
    from nlu.rerank import MatterTerms, features

    names = ["证照遗失补领、换发申请", "个体工商户设立登记", "居民户口簿"]
    mt = MatterTerms([frozenset()] * 3, [frozenset()] * 3, [frozenset()] * 3, [cues.of_name(n) for n in names], cues)
    col = FEATURES.index("unasked")
    plain = features("营业执照咋个弄", [], [0, 1, 2], mt, {})
    assert list(plain[:, col]) == [1.0, 0.0, 0.0]
    asked = features("营业执照搞丢了咋个弄", [], [0, 1, 2], mt, {})
    assert list(asked[:, col]) == [0.0, 0.0, 0.0]
