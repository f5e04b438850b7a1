"""The workbench's guide check is the check of ``jinxiaoer kb validate``: the same data gives the same issues
whether it comes from a guide file or from the guide editor; the spreadsheet row format reads back what it wrote."""

from __future__ import annotations

import yaml

from knowledge.sheet import COLUMNS, column_of, matter_row, row_fields
from knowledge.validate import check_guide, validate


def _issues(issues):
    return sorted((i.field, i.message, i.severity) for i in issues)


def test_editor_and_validate_report_the_same_problems(kb, tmp_path):
    from assistant.settings import Settings

    s = Settings(environment="test")
    data = kb.get("JN-GJJ-002").model_dump(mode="json")
    data["materials"][0]["form"] = "扫描件"
    data["materials"][1]["copies"] = -1
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    from_file = validate([path], s.kb_dir, s.guides_dir)
    matter, from_editor = check_guide(data, kb.matters)
    assert matter is None
    assert _issues(from_editor) == _issues(from_file)
    assert {i.field for i in from_editor} == {"materials.0.form", "materials.1.copies"}

    # cross-checks: an unknown related code, verified without a source
    data = kb.get("JN-GJJ-002").model_dump(mode="json")
    data.update(related=["NO-SUCH-CODE"], verified=True, source_ref="")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    from_file = validate([path], s.kb_dir, s.guides_dir)
    matter, from_editor = check_guide(data, kb.matters)
    assert matter is None
    errors = {(i.field, i.message) for i in from_editor if i.severity == "error"}
    # (the file repeats the code of the committed guide, which validate also reports; the editor replaces it)
    assert errors == {(i.field, i.message) for i in from_file if i.severity == "error" and i.field != "code"}
    assert {f for f, _ in errors} == {"related.0", "verified"}


def test_a_good_edit_passes_and_a_phrase_of_another_guide_is_a_warning(kb):
    data = kb.get("JN-GJJ-002").model_dump(mode="json")
    data["materials"].append({"name": "社保缴费证明", "form": "复印件", "copies": 2})
    matter, issues = check_guide(data, kb.matters)
    assert matter is not None and issues == []
    data["examples"].append(kb.get("JN-GJJ-001").examples[0])
    matter, issues = check_guide(data, kb.matters)
    assert matter is not None
    assert [(i.field, i.severity) for i in issues] == [(f"examples.{len(data['examples']) - 1}", "warning")]


def test_sheet_rows_read_back_to_the_same_guide(kb):
    header = [h for _, h in COLUMNS]
    assert [column_of(h) for h in header] == [f for f, _ in COLUMNS]
    for m in kb.authored:
        cells = dict(zip([f for f, _ in COLUMNS], matter_row(m)))
        assert row_fields(cells, m) == m.model_dump(), m.code
