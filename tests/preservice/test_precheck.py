"""预审 on colloquial material names."""

from __future__ import annotations

import pytest

from assistant.preservice.precheck import mentioned_documents, precheck, precheck_parts


@pytest.fixture(scope="module")
def getihu(kb):
    m = kb.get("511A0074300005")
    assert m is not None and m.name == "个体工商户设立登记"
    return m


def _status(items):
    return {i.name: i.status for i in items}


def test_id_card_and_rental_contract_for_a_sole_trader(getihu):
    items = precheck(getihu, "我带了身份证和租房合同，办个体户还差啥")
    st = _status(items)
    assert st["经营者居民身份证"] == "have"
    # a lease is half of a rented place's proof: the landlord's title deed is still needed
    assert st["经营场所使用证明"] == "partial"
    assert "房产证" in next(i.hint for i in items if i.name == "经营场所使用证明")
    assert st["个体工商户登记（备案）申请书"] == "missing"
    assert st["委托代理人身份证明及委托书"] == "conditional"
    text = precheck_parts(getihu, items)[0]["text"]
    assert "✅ 已有：经营者居民身份证" in text and "❌ 还差：个体工商户登记（备案）申请书" in text


def test_title_deed_by_its_colloquial_name(getihu):
    st = _status(precheck(getihu, "房本和身份证都带了，申请表也填了"))
    assert st["经营场所使用证明"] == "have"
    assert st["经营者居民身份证"] == "have"
    assert st["个体工商户登记（备案）申请书"] == "have"


def test_lease_plus_landlord_deed_is_complete(getihu):
    st = _status(precheck(getihu, "租赁合同、房东的房产证复印件、身份证"))
    assert st["经营场所使用证明"] == "have"


def test_negated_documents_are_not_ticked(getihu):
    st = _status(precheck(getihu, "身份证带了，但是没带租房合同"))
    assert st["经营者居民身份证"] == "have"
    assert st["经营场所使用证明"] == "missing"


@pytest.mark.parametrize("text,canon", [
    ("户口本", "居民户口簿"), ("房产证", "不动产权证书"), ("门面合同", "房屋租赁合同"), ("社保卡", "社会保障卡"),
    ("一寸照", "证件照"), ("健康证", "健康证明"), ("残疾证", "残疾人证"), ("驾照", "驾驶证"),
])
def test_synonyms(text, canon):
    have, _ = mentioned_documents(f"我有{text}")
    assert canon in {c for _, c in have}


def test_conditional_items_say_when_they_apply(kb, getihu):
    items = precheck(getihu, "身份证")
    fam = next(i for i in items if i.name == "家庭经营的家庭成员关系证明")
    assert fam.status == "conditional" and "家庭形式经营" in fam.hint
    # with the family documents mentioned, it is ticked
    items = precheck(getihu, "身份证、户口本、结婚证")
    assert _status(items)["家庭经营的家庭成员关系证明"] == "have"
