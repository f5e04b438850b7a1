"""``jinxiaoer kb validate|stats|import``: output format, exit codes, duplicate and dangling codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.cli import build_parser
from assistant.settings import Settings
from knowledge.loaders.jsonl import write_matters
from knowledge.schema import Matter
from knowledge.validate import validate
from tests.knowledge.conftest import GUIDES_DIR, KB_DIR, REPO_ROOT, SICHUAN_SRC, require

GUIDE = """\
code: {code}
name: {name}
materials:
  - name: 身份证
related: [{related}]
source: authored
verified: false
"""


@pytest.fixture()
def kb(tmp_path):
    kb_dir, guides = tmp_path / "data", tmp_path / "guides"
    guides.mkdir()
    write_matters(kb_dir / "catalog.jsonl", [Matter(code="511A1", name="甲事项", source="sichuan-catalog"),
                                             Matter(code="511A2", name="乙事项", source="sichuan-catalog")])
    (guides / "a.yml").write_text(GUIDE.format(code="511A1", name="甲", related="511A2"), encoding="utf-8")
    (guides / "b.yml").write_text(GUIDE.format(code="JN-B", name="乙", related="511A1"), encoding="utf-8")
    return kb_dir, guides


def run(argv, kb_dir, guides, capsys):
    args = build_parser().parse_args(argv)
    code = args.func(args, Settings(kb_dir=kb_dir, guides_dir=guides))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_clean_kb_validates(kb, capsys):
    code, out, err = run(["kb", "validate"], *kb, capsys)
    assert code == 0 and out == "" and "0 error(s), 0 warning(s)" in err


def test_wrong_field_reported_with_file_and_line(kb, capsys):
    kb_dir, guides = kb
    (guides / "c.yml").write_text("code: JN-C\nname: 丙\nmaterials:\n  - name: 户口簿\n    copies: 两份\n"
                                  "source: authored\n", encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1
    assert out.splitlines() == [f"{guides / 'c.yml'}:5: materials.0.copies: "
                                "Input should be a valid integer, unable to parse string as an integer"]


def test_duplicate_codes_between_guides(kb, capsys):
    kb_dir, guides = kb
    (guides / "c.yml").write_text(GUIDE.format(code="JN-B", name="另一个乙", related="511A1"), encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1
    assert out.strip() == (f"{guides / 'c.yml'}:1: code: duplicate code JN-B: another guide has it "
                           f"({guides / 'b.yml'}:1)")


def test_duplicate_codes_in_catalogue_files(kb, capsys):
    kb_dir, guides = kb
    write_matters(kb_dir / "more.jsonl", [Matter(code="511A3", name="丙", source="sichuan-catalog"),
                                          Matter(code="511A2", name="乙二", source="sichuan-catalog")])
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1
    assert out.strip() == f"{kb_dir / 'more.jsonl'}:2: code: duplicate code 511A2: also at {kb_dir / 'catalog.jsonl'}:2"


def test_dangling_related_and_renews(kb, capsys):
    kb_dir, guides = kb
    (guides / "b.yml").write_text(GUIDE.format(code="JN-B", name="乙", related="511A1, JN-NOPE")
                                  + "renews: JN-B\n", encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1
    assert out.splitlines() == [
        f"{guides / 'b.yml'}:5: related.1: unknown code JN-NOPE (no matter has it)",
        f"{guides / 'b.yml'}:8: renews: a matter cannot renew itself",
    ]


def test_guide_code_that_is_neither_catalogue_nor_project_code(kb, capsys):
    kb_dir, guides = kb
    (guides / "c.yml").write_text(GUIDE.format(code="511A9", name="错码", related="511A1"), encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1 and "c.yml:1: code: 511A9 is not a catalogue code" in out


def test_validate_one_file_uses_the_rest_as_context(kb, tmp_path):
    kb_dir, guides = kb
    other = tmp_path / "draft"
    other.mkdir()
    draft = other / "new.yml"
    draft.write_text(GUIDE.format(code="JN-NEW", name="新", related="JN-B"), encoding="utf-8")
    assert validate([draft], kb_dir, guides) == []  # JN-B is known from the guides folder
    draft.write_text(GUIDE.format(code="JN-B", name="新", related="511A1"), encoding="utf-8")
    issues = validate([draft], kb_dir, guides)
    assert [(i.file.endswith("new.yml"), i.field) for i in issues] == [(True, "code")]
    # problems in context files are not reported when checking one file
    (guides / "a.yml").write_text("code: [broken", encoding="utf-8")
    assert [i.field for i in validate([draft], kb_dir, guides)] == ["code"]


def test_unknown_and_missing_paths(kb, tmp_path):
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    issues = validate([tmp_path / "x.txt", tmp_path / "missing.yml"], *kb)
    assert sorted(i.message for i in issues) == ["no such file or folder",
                                                 "not a KB file (.jsonl) or a guide (.yml/.yaml)"]


def test_warning_for_guide_without_materials(kb, capsys):
    kb_dir, guides = kb
    (guides / "c.yml").write_text("code: JN-C\nname: 丙\nsource: authored\n", encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 0 and "c.yml:1: materials: warning: an authored guide without any material" in out
    code, _, _ = run(["kb", "validate", "--strict-warnings"], kb_dir, guides, capsys)
    assert code == 1


def test_ambiguity_warnings(kb, capsys):
    kb_dir, guides = kb
    (guides / "a.yml").write_text(GUIDE.format(code="511A1", name="甲", related="511A2")
                                  + "aliases: [乙事项]\nexamples: [甲乙怎么办]\n", encoding="utf-8")
    (guides / "c.yml").write_text("code: JN-C\nname: 丙\nmaterials: [{name: 户口簿}]\nsource: authored\n"
                                  "colloquial: [别的, 甲乙 怎么办]\n", encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 0
    assert out.splitlines() == [
        f"{guides / 'a.yml'}:8: aliases.0: warning: '乙事项' is the name of another matter (511A2)",
        f"{guides / 'c.yml'}:5: colloquial.1: warning: '甲乙 怎么办' is also given for 511A1 ({guides / 'a.yml'})",
    ]


def test_verified_needs_source_ref(kb, capsys):
    kb_dir, guides = kb
    (guides / "b.yml").write_text(GUIDE.format(code="JN-B", name="乙", related="511A1").replace(
        "verified: false", "verified: true"), encoding="utf-8")
    code, out, _ = run(["kb", "validate"], kb_dir, guides, capsys)
    assert code == 1 and out.strip().startswith(f"{guides / 'b.yml'}:7: verified: verified: true needs source_ref")
    (guides / "b.yml").write_text(GUIDE.format(code="JN-B", name="乙", related="511A1").replace(
        "verified: false", "verified: true\nsource_ref: https://www.sczwfw.gov.cn/x 核对 2026-11-20"), encoding="utf-8")
    assert run(["kb", "validate"], kb_dir, guides, capsys)[0] == 0


def test_show_prints_the_merged_matter(kb, capsys):
    code, out, _ = run(["kb", "show", "甲事项", "--json"], *kb, capsys)  # the catalogue name is now an alias
    data = json.loads(out)
    assert code == 0 and data["code"] == "511A1" and data["name"] == "甲" and data["aliases"] == ["甲事项"]
    code, out, _ = run(["kb", "show", "511A2"], *kb, capsys)
    assert code == 0 and out.startswith("# 511A2 乙事项") and "catalogue entry" in out and "code: 511A2" in out
    code, _, err = run(["kb", "show", "没有"], *kb, capsys)
    assert code == 1 and "no matter" in err


def test_stats_json(kb, capsys):
    code, out, _ = run(["kb", "stats", "--json"], *kb, capsys)
    stats = json.loads(out)
    assert code == 0
    assert stats["matters"] == 3 and stats["by_source"] == {"authored": 2, "sichuan-catalog": 1}
    assert stats["authored_overrides"] == 1 and stats["authored_new"] == 1


def test_import_sichuan_via_cli(tmp_path, capsys):
    require(SICHUAN_SRC)
    code, out, _ = run(["kb", "import", "sichuan", "--src", str(SICHUAN_SRC), "--out-dir", str(tmp_path)],
                       tmp_path, tmp_path, capsys)
    assert code == 0 and "imported 1135 matters" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ATTRIBUTION.md", "LICENSE.sichuan-catalog",
                                                          "sichuan_catalog.jsonl"]
    code, _, err = run(["kb", "import", "sichuan", "--src", str(tmp_path / "none")], tmp_path, tmp_path, capsys)
    assert code == 1 and "error:" in err


def test_import_guangdong_via_cli(tmp_path, capsys):
    src = tmp_path / "export"
    src.mkdir()
    rec = {"TASK_CODE": "T1", "TASK_NAME": "测试事项", "DEPT_NAME": "某局", "material_intro": ["身份证"],
           "handle_time": "5(工作日)", "handle_time_limit": "无", "handle_location": "无线下办理窗口"}
    (src / "policy.json").write_text(json.dumps(rec, ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    (src / "LICENSE.upstream").write_text("MIT", encoding="utf-8")
    (src / "SOURCE.txt").write_text("repo:     https://example.org/r\ncommit:   abc123 (HEAD)\nlicense:  MIT (x)\n",
                                    encoding="utf-8")
    out = tmp_path / "kb" / "gd.jsonl"
    code, stdout, _ = run(["kb", "import", "guangdong", "--src", str(src), "--out", str(out)], tmp_path, tmp_path,
                          capsys)
    assert code == 1  # one record could not be imported: reported, the rest written
    assert "records: 2" in stdout and "imported: 1" in stdout and "line 2: not valid JSON" in stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["LICENSE.gd", "gd.ATTRIBUTION.md", "gd.jsonl"]
    attribution = (out.parent / "gd.ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "https://example.org/r" in attribution and "`abc123`" in attribution and "MIT" in attribution
    assert validate([out], tmp_path, tmp_path) == []
    code, _, _ = run(["kb", "import"], tmp_path, tmp_path, capsys)
    assert code == 2


def test_cli_end_to_end_exit_code(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("code: JN-Z\nname: 某\nfee: [1\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "kb", "validate", str(bad)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{bad}:") and "YAML syntax error" in proc.stdout


def test_committed_kb_has_no_errors():
    """CI gate: the committed catalogue and all authored guides validate."""
    errors = [str(i) for i in validate([], KB_DIR, GUIDES_DIR) if i.severity == "error"]
    assert errors == []
