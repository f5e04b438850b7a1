"""The Sichuan catalogue loader: all matters, codes, link re-pointing, task types."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from knowledge.loaders.sichuan import (
    JINNIU_AREA_CODE,
    TASK_TYPES,
    UPSTREAM_AREA_CODE,
    CatalogError,
    catalog_code,
    import_sichuan,
    neutral_department,
    repoint_link,
)
from tests.knowledge.conftest import SICHUAN_SRC


def test_all_1135_matters_with_unique_codes(sichuan_import):
    matters = sichuan_import.matters
    assert len(matters) == 1135
    assert len({m.code for m in matters}) == 1135
    assert [m.code for m in matters] == sorted(m.code for m in matters)
    assert all(m.source == "sichuan-catalog" and m.verified is False for m in matters)


def test_every_link_points_at_jinniu(sichuan_import):
    for m in sichuan_import.matters:
        assert UPSTREAM_AREA_CODE not in m.online_link, m.online_link
        query = parse_qs(urlsplit(m.online_link).query)
        assert query["areaCode"] == [JINNIU_AREA_CODE]
        upstream_item = m.source_ref.removeprefix("sczwfw:")
        if f"-{UPSTREAM_AREA_CODE}-" in upstream_item:
            assert query["itemCode"] == [upstream_item.replace(UPSTREAM_AREA_CODE, JINNIU_AREA_CODE)]
        else:  # province-level or area-less item codes are kept
            assert query["itemCode"] == [upstream_item]
        assert query["taskType"] and query["deptCode"]


def test_codes_equal_the_flat_catalog_codes_except_the_area_less_ones(sichuan_import):
    rows = [json.loads(line) for line in (SICHUAN_SRC / "matters_flat.jsonl").open(encoding="utf-8")]
    by_item = {m.source_ref.removeprefix("sczwfw:"): m.code for m in sichuan_import.matters}
    differing = sorted((r["catalogCode"], by_item[r["itemCode"]]) for r in rows
                       if by_item[r["itemCode"]] != r["catalogCode"])
    # The flat file's naive split gives 'E' twice (unrelated matters) and 'H' once.
    assert differing == [("E", "E-000004-001"), ("E", "E-000021-001"), ("H", "H-000185-001")]


def test_matter_type_mapped_for_every_row(sichuan_import):
    assert all(m.matter_type in TASK_TYPES.values() for m in sichuan_import.matters)
    m = next(m for m in sichuan_import.matters if m.code == "511A0074300005")
    assert m.name == "个体工商户设立登记"
    assert m.matter_type == "行政许可"


def test_departments_kept_without_upstream_area_name(sichuan_import):
    departments = {m.department for m in sichuan_import.matters}
    assert len(departments) == 34
    assert "区税务局" in departments
    assert not any("广安" in m.department or "广安" in m.name for m in sichuan_import.matters)
    assert all(m.main_item for m in sichuan_import.matters)


def test_js_export_gives_identical_matters(sichuan_import):
    from_js = import_sichuan(SICHUAN_SRC / "bszl-data.js")
    assert [m.model_dump() for m in from_js.matters] == [m.model_dump() for m in sichuan_import.matters]


@pytest.mark.parametrize("item, code", [
    ("511A0074300005-511602000000-000-11511301008778183N-1-00", "511A0074300005"),
    ("G-000007-001-511602000000-000-115113010833722043-1-00", "G-000007-001"),
    ("511A0077700002-510000000000-000-8282348-1-00", "511A0077700002"),
    ("E-000004-001-11511301008778386B", "E-000004-001"),
    ("E-000021-001-1111111111111111", "E-000021-001"),
    ("weird", "weird"),
])
def test_catalog_code(item, code):
    assert catalog_code(item) == code


def test_repoint_link_keeps_other_parameters_in_order():
    link = ("http://www.sczwfw.gov.cn/x?areaCode=511602000000&itemCode=511A1-511602000000-000-9-1-00"
            "&taskType=1&deptCode=76726532-X")
    assert repoint_link(link) == ("http://www.sczwfw.gov.cn/x?areaCode=510106000000"
                                  "&itemCode=511A1-510106000000-000-9-1-00&taskType=1&deptCode=76726532-X")
    assert "areaCode=510106000000" in repoint_link("http://h/x?itemCode=A")


def test_neutral_department():
    assert neutral_department("广安区税务局") == "区税务局"
    assert neutral_department(" 区市监局 ") == "区市监局"


def test_malformed_rows_are_reported_with_file_and_line(tmp_path):
    good = {"department": "区民政局", "main_item": "未分类", "name": "婚姻登记",
            "link": "http://h/x?areaCode=511602000000&itemCode=511A1-511602000000-0&taskType=7"}
    f = tmp_path / "matters_flat.jsonl"
    f.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"matters_flat.jsonl:2: not a catalogue row"):
        import_sichuan(tmp_path)
    f.write_text(json.dumps({**good, "link": "http://h/x?areaCode=1"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r":1: link without itemCode"):
        import_sichuan(tmp_path)
    f.write_text((json.dumps(good, ensure_ascii=False) + "\n") * 2, encoding="utf-8")
    with pytest.raises(CatalogError, match=r":2: code 511A1 already used by .*:1"):
        import_sichuan(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="neither matters_flat.jsonl nor bszl-data.js"):
        import_sichuan(tmp_path / "empty")
    with pytest.raises(CatalogError, match="no such file or folder"):
        import_sichuan(tmp_path / "nothing-here")


def test_unknown_task_type_leaves_type_empty_and_is_noted(tmp_path):
    row = {"department": "区民政局", "main_item": "未分类", "name": "某事项",
           "link": "http://h/x?areaCode=511602000000&itemCode=511A1-511602000000-0&taskType=99"}
    (tmp_path / "matters_flat.jsonl").write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    result = import_sichuan(tmp_path)
    assert result.matters[0].matter_type == ""
    assert any("unknown taskType" in n for n in result.notes)
