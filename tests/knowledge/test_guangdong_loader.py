"""The Guangdong guide export loader: every record imports; the mapping of each field; bad records reported."""

from __future__ import annotations

import json

import pytest

from knowledge.loaders.guangdong import import_guangdong, is_raw_export
from tests.knowledge.conftest import GUANGDONG_SRC


def test_all_2262_records_import_cleanly(guangdong_import):
    report = guangdong_import.report
    assert report.records == 2262
    assert report.imported == 2262
    assert report.errors == []
    matters = guangdong_import.matters
    assert len({m.code for m in matters}) == 2262
    assert all(m.code.startswith("GD-") and m.source == "guangdong-guides" and not m.verified for m in matters)


def test_oddities_are_counted(guangdong_import):
    odd = guangdong_import.report.odd
    # Measured on the 2021 snapshot: material_intro is the string 无 in 1,446 records, 824 have no offline
    # window, 66 have no URL. The counts must add up with what the matters carry.
    matters = guangdong_import.matters
    assert odd["materials.none"] == 1446
    assert odd["materials.none"] + odd["materials.empty_list"] == sum(1 for m in matters if not m.materials)
    assert odd["place.online_only"] == sum(1 for m in matters if m.places and m.places[0].level == "线上") == 824
    assert odd["online_link.none"] == sum(1 for m in matters if not m.online_link) == 66
    assert odd["place.none"] == sum(1 for m in matters if not m.places) == 7
    assert "name.whitespace_trimmed" in odd
    assert all(line.split(":")[0] for line in guangdong_import.report.lines())


def test_first_record_mapping(guangdong_import):
    rec = json.loads((GUANGDONG_SRC / "policy.json").open(encoding="utf-8").readline())
    m = guangdong_import.matters[0]
    assert m.code == f"GD-{rec['TASK_CODE']}"
    assert m.name == rec["TASK_NAME"]
    assert m.department == rec["DEPT_NAME"] == "广东省发展和改革委员会"
    assert m.matter_type == "行政许可"
    assert [x.name for x in m.materials] == rec["material_intro"]
    assert all(x.form == "其他" for x in m.materials)  # the export does not say 原件/复印件
    assert m.legal_time_limit == "30个工作日" and m.promised_time_limit == "7个工作日"
    assert m.places[0].address == "广州市越秀区东风中路305号5号楼808房"
    assert m.places[0].level == "其他"
    assert m.consult_phone == "020-34121084" and m.complaint_phone == "020-83134173"
    assert m.online_link == rec["URL"]
    assert m.service_object == rec["service_object_name"]
    assert m.conditions == [rec["accept_standard"]]


def test_names_are_trimmed_and_alternative_names_become_aliases(guangdong_import):
    assert all(m.name == m.name.strip() and "\u3000" not in m.name for m in guangdong_import.matters)
    with_alias = [m for m in guangdong_import.matters if m.aliases]
    assert with_alias and all(m.name not in m.aliases for m in with_alias)


def test_bad_records_are_reported_not_fatal(tmp_path):
    good = {"TASK_CODE": "X1", "TASK_NAME": "测试事项", "DEPT_NAME": "某局", "TASK_TYPE_TEXT": "公共服务",
            "material_intro": ["身份证", "身份证", ""], "handle_time": "3(自然日)", "handle_time_limit": "即办",
            "handle_location": "办理地点：无", "URL": None, "consult_phone": "无", "service_object_name": "自然人"}
    lines = [json.dumps(good, ensure_ascii=False), "{not json", json.dumps({"TASK_NAME": "没有编码"}),
             json.dumps([1, 2]), json.dumps(good, ensure_ascii=False), ""]
    (tmp_path / "policy.json").write_text("\n".join(lines), encoding="utf-8")
    result = import_guangdong(tmp_path)
    r = result.report
    assert r.records == 5 and r.imported == 1
    assert [e.split(":")[0] for e in r.errors] == ["line 2", "line 3", "line 4"]
    assert r.odd["code.duplicate_skipped"] == 1
    m = result.matters[0]
    assert [x.name for x in m.materials] == ["身份证"]
    assert r.odd["materials.duplicate_item"] == 1 and r.odd["materials.empty_item"] == 1
    assert m.legal_time_limit == "3个自然日" and r.odd["legal_time_limit.calendar_days"] == 1
    assert m.promised_time_limit == "即办" and r.odd["promised_time_limit.unparsed"] == 1
    assert m.places == [] and m.consult_phone == "" and m.online_link == ""
    assert m.service_object == ["自然人"]


def test_missing_export_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="policy.json"):
        import_guangdong(tmp_path)


def test_raw_export_is_told_apart_from_a_kb_file(tmp_path):
    raw = tmp_path / "raw.json"
    raw.write_text('{"TASK_CODE": "1"}\n', encoding="utf-8")
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"code": "GD-1"}\n', encoding="utf-8")
    assert is_raw_export(raw) and not is_raw_export(kb)
