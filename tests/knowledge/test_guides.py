"""Authored YAML guides: parsing, and errors that point at the right line."""

from __future__ import annotations

import textwrap
from pathlib import Path

from knowledge.loaders.guides import load_guides, parse_guide

GOOD = """\
code: JN-TEST-001
name: 测试事项
aliases: [测试别名]
department: 区测试局
materials:
  - name: 居民身份证
    form: 原件
    copies: 1
  - name: 申请表
    form: 原件
    requirement: conditional
    note: 代办时
places:
  - name: 金牛区政务服务中心
    level: 区政务大厅
source: authored
verified: false
"""


def write(tmp_path: Path, text: str, name: str = "g.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def only_issue(parsed):
    assert parsed.matter is None
    assert len(parsed.issues) == 1, [str(i) for i in parsed.issues]
    return parsed.issues[0]


def test_good_guide_parses(tmp_path):
    parsed = parse_guide(write(tmp_path, GOOD))
    assert parsed.issues == []
    m = parsed.matter
    assert m.code == "JN-TEST-001" and m.aliases == ["测试别名"]
    assert m.materials[1].requirement == "conditional" and m.level == "区政务大厅"
    assert parsed.line("materials.1") == 9 and parsed.line("code") == 1


def test_wrong_value_points_at_its_line(tmp_path):
    path = write(tmp_path, GOOD.replace("    form: 原件\n    requirement", "    form: 原件加复印件\n    requirement"))
    issue = only_issue(parse_guide(path))
    assert issue.line == 10
    assert issue.field == "materials.1.form"
    assert str(issue) == f"{path}:10: materials.1.form: {issue.message}"
    assert "原件加复印件" in issue.message


def test_unknown_field_points_at_the_key(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, GOOD.replace("department:", "departement:"))))
    assert (issue.line, issue.field) == (4, "departement")
    assert "unknown field" in issue.message and "department" in issue.message


def test_unquoted_number_gets_a_hint(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, GOOD + "consult_phone: 12345\n")))
    assert (issue.line, issue.field) == (18, "consult_phone")
    assert "quotes" in issue.message


def test_missing_required_field(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, GOOD.replace("name: 测试事项\n", ""))))
    assert issue.field == "name" and issue.line == 1 and "required" in issue.message.lower()


def test_yaml_syntax_error_has_its_line(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, GOOD.replace("aliases: [测试别名]", "aliases: [测试别名"))))
    assert issue.field == "-" and "YAML syntax error" in issue.message and issue.line >= 3


def test_duplicate_key_is_an_error(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, GOOD + "name: 又一个名字\n")))
    assert (issue.line, issue.field) == (18, "name") and "line 2" in issue.message


def test_a_list_of_matters_is_refused(tmp_path):
    issue = only_issue(parse_guide(write(tmp_path, "- code: A\n- code: B\n")))
    assert "one matter per file" in issue.message


def test_empty_file_and_wrong_source(tmp_path):
    assert "empty" in only_issue(parse_guide(write(tmp_path, "", "e.yml"))).message
    issue = only_issue(parse_guide(write(tmp_path, GOOD.replace("source: authored", "source: sichuan-catalog"))))
    assert (issue.line, issue.field) == (16, "source")


def test_load_guides_reads_yml_and_yaml_in_name_order(tmp_path):
    write(tmp_path, GOOD.replace("JN-TEST-001", "JN-TEST-002"), "b.yaml")
    write(tmp_path, GOOD, "a.yml")
    write(tmp_path, "not a guide", "notes.txt")
    parsed = load_guides([tmp_path])
    assert [p.path.name for p in parsed] == ["a.yml", "b.yaml"]
    assert [p.matter.code for p in parsed] == ["JN-TEST-001", "JN-TEST-002"]
