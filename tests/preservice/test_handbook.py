"""企业服务一本通: facts from what a firm says, and the policies that fit."""

from __future__ import annotations

import pytest

from assistant.preservice.handbook import FirmFacts, Handbook, extract_facts, load_handbook


@pytest.mark.parametrize("text,facts", [
    ("我们是做餐饮的小微企业，有啥子扶持政策", FirmFacts("餐饮", "小微", None, None)),
    ("开火锅店的个体户，开了三年，在金牛区", FirmFacts("餐饮", "个体工商户", 3.0, "金牛区")),
    ("科技公司，刚注册", FirmFacts("科技", None, 0.0, None)),
    ("便利店，成立不到一年，武侯区的", FirmFacts("零售", None, 0.99, "其他区")),
    ("成立18个月了", FirmFacts(None, None, 1.5, None)),
])
def test_facts(text, facts):
    assert extract_facts(text) == facts


def test_restaurant_small_firm_gets_fitting_policies_and_is_asked_for_the_rest():
    hb = Handbook.load()
    matches = hb.match(extract_facts("我们是做餐饮的小微企业，有啥子扶持政策"))
    fits = [m.policy.id for m in matches if not m.unknown]
    maybe = {m.policy.id: m.unknown for m in matches if m.unknown}
    assert "xiaowei-shuifei-jianmian" in fits
    assert "shipin-xuke-gaocheng" in fits
    assert maybe["canyin-xiaofei-huodong"] == ["district"]
    assert maybe["chuangye-danbao-daikuan"] == ["age_years"]
    ids = {m.policy.id for m in matches}
    assert "keji-qiye-peiyu" not in ids          # another industry
    assert "zhongdian-qiye-shouxi" not in ids    # for medium/large firms


def test_more_facts_narrow_the_list():
    hb = Handbook.load()
    facts = FirmFacts("餐饮", "小微", 8.0, "其他区")
    ids = {m.policy.id for m in hb.match(facts)}
    assert "canyin-xiaofei-huodong" not in ids   # 金牛区 firms only
    assert "chuangye-danbao-daikuan" not in ids  # at most 5 years old
    assert all(not m.unknown for m in hb.match(facts))


def test_handbook_entries_are_well_formed(tmp_path):
    assert len(load_handbook()) >= 10
    (tmp_path / "x.yml").write_text("policies:\n  - id: a\n    title: T\n", encoding="utf-8")
    with pytest.raises(ValueError, match="entry 1"):
        load_handbook(tmp_path)
