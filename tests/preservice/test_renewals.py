"""The renewal catalogue: derived from the Sichuan catalogue, and the district's editable list of 26."""

from __future__ import annotations

import pytest

from assistant.preservice.renewals import (DISTRICT_LIST, RenewalCatalogue, derive_renewal_matters, is_renewal_name,
                                           load_district_list)


def test_derived_renewal_matters_cover_the_catalogue(kb):
    matters = derive_renewal_matters(kb)
    codes = {m.code for m in matters}
    # the Sichuan catalogue has about 47 renewal-type matters (plus authored renewal guides)
    sichuan = [m for m in matters if not m.code.startswith("JN-")]  # catalogue codes (some with authored guides)
    assert 40 <= len(sichuan) <= 55, len(sichuan)
    for code in ("511A0005200008", "511A0013700020", "511A2200500013", "511A0015500013", "511A1839900002",
                 "511A62001002", "511A0012600007"):
        assert code in codes
    names = [m.name for m in matters]
    assert not any("补发" in n or "遗失" in n or "档案" in n for n in names)


@pytest.mark.parametrize("name,expected", [
    ("食品(含保健食品)经营许可延续", True), ("医疗机构执业审批（校验）（县级）", True), ("巡游出租汽车经营许可证到期换证", True),
    ("证照遗失补领、换发申请", False), ("对重大活动档案延期移交的审查", False), ("个体工商户设立登记", False),
])
def test_renewal_wording(name, expected):
    assert is_renewal_name(name) is expected


def test_district_list_has_26_licences_each_linked_to_a_kb_renewal_matter(kb):
    cat = RenewalCatalogue.load(kb)
    assert len(cat.types) == 26
    assert cat.missing_matters() == []
    derived = {m.code for m in derive_renewal_matters(kb)}
    assert all(t.renewal_code in derived for t in cat.types)


@pytest.mark.parametrize("text,key", [
    ("食品经营许可证", "food_business"), ("烟草证", "tobacco_retail"), ("我们的卫生许可证", "public_place_hygiene"),
    ("KTV许可证", "entertainment"), ("道路货运许可证", "road_freight"), ("护士证", "nurse_practice"),
    ("food_business", "food_business"), ("诊所许可证", "medical_institution"),
])
def test_licence_type_found_by_colloquial_name(text, key):
    assert RenewalCatalogue.load().find(text).key == key


def test_unknown_licence_type():
    assert RenewalCatalogue.load().find("驾驶证") is None
    assert RenewalCatalogue.load().find("") is None


def test_editable_list_errors_name_the_entry(tmp_path):
    bad = tmp_path / "list.yml"
    bad.write_text("licences:\n  - key: a\n    name: A\n    renewal_code: '1'\n  - key: a\n    name: B\n"
                   "    renewal_code: '2'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="entry 2: duplicate key 'a'"):
        load_district_list(bad)
    bad.write_text("licences:\n  - key: x\n    name: X\n    renewal_code: '1'\n    number_pattern: '[unclosed'\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="bad number_pattern"):
        load_district_list(bad)
    assert load_district_list(DISTRICT_LIST)  # the shipped file is valid
