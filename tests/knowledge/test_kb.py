"""KnowledgeBase: loading, override/merge rules, lookups, fingerprint, speed."""

from __future__ import annotations


import pytest

from knowledge.errors import KBError
from knowledge.kb import KnowledgeBase
from knowledge.loaders.jsonl import write_matters
from knowledge.schema import Material, Matter, office_of, office_said
from tests.knowledge.conftest import GUANGDONG_SRC, GUIDES_DIR, KB_DIR, require

LINK = "http://www.sczwfw.gov.cn/x?areaCode=510106000000&itemCode=511A0074300005-510106000000-000-1-1-00"


def catalogue() -> list[Matter]:
    return [
        Matter(code="511A0074300005", name="个体工商户设立登记", department="区行政审批局", main_item="个体工商户登记",
               matter_type="行政许可", online_link=LINK, source="sichuan-catalog", source_ref="sczwfw:1"),
        Matter(code="511A0074300009", name="个体工商户注销登记", department="区行政审批局",
               matter_type="行政许可", source="sichuan-catalog"),
        Matter(code="512B0001", name="求职创业补贴申领", source="sichuan-catalog"),
        Matter(code="512B0002", name="求职创业补贴申领", source="sichuan-catalog"),
    ]


GUIDE = """\
code: 511A0074300005
name: 个体户营业执照办理
aliases: [办个体执照]
materials:
  - name: 经营者身份证
    form: 原件
related: [511A0074300009]
source: authored
verified: false
"""

NEW_GUIDE = """\
code: JN-GJJ-001
name: 住房公积金提取
materials:
  - name: 身份证
source: authored
verified: false
"""


@pytest.fixture()
def dirs(tmp_path):
    kb_dir, guides = tmp_path / "data", tmp_path / "guides"
    guides.mkdir()
    write_matters(kb_dir / "catalog.jsonl", catalogue())
    (guides / "a.yml").write_text(GUIDE, encoding="utf-8")
    (guides / "b.yml").write_text(NEW_GUIDE, encoding="utf-8")
    return kb_dir, guides


def test_guide_overrides_catalogue_and_keeps_its_link_and_department(dirs):
    kb = KnowledgeBase.load(*dirs)
    assert len(kb) == 5
    m = kb.get("511A0074300005")
    assert m.source == "authored" and m.name == "个体户营业执照办理"
    assert m.online_link == LINK and m.department == "区行政审批局"
    assert m.main_item == "个体工商户登记" and m.matter_type == "行政许可" and m.source_ref == "sczwfw:1"
    assert m.aliases == ["办个体执照", "个体工商户设立登记"]  # the official name still finds it
    assert [x.name for x in m.materials] == ["经营者身份证"]
    # the override keeps the catalogue position; new authored matters come last
    assert [x.code for x in kb.matters] == ["511A0074300005", "511A0074300009", "512B0001", "512B0002",
                                            "JN-GJJ-001"]
    assert kb.guide_files["JN-GJJ-001"].name == "b.yml"
    assert [x.code for x in kb.related("511A0074300005")] == ["511A0074300009"]


def test_guide_values_win_over_catalogue_values(dirs):
    kb_dir, guides = dirs
    (guides / "a.yml").write_text(GUIDE + "department: 金牛区行政审批局\nonline_link: https://example.gov.cn/x\n",
                                  encoding="utf-8")
    m = KnowledgeBase.load(kb_dir, guides).get("511A0074300005")
    assert m.department == "金牛区行政审批局" and m.online_link == "https://example.gov.cn/x"


def test_lookups(dirs):
    kb = KnowledgeBase.load(*dirs)
    assert kb.get("nope") is None and "JN-GJJ-001" in kb
    assert kb.by_name("个体户营业执照办理").code == "511A0074300005"
    assert kb.by_name(" 个体工商户设立登记 ").code == "511A0074300005"  # via alias, spaces ignored
    assert kb.by_name("住房公积金提取").code == "JN-GJJ-001"
    assert kb.by_name("不存在的事项") is None
    assert [m.code for m in kb.all_by_name("求职创业补贴申领")] == ["512B0001", "512B0002"]
    assert ("办个体执照", "511A0074300005") in kb.lexicon()


def test_by_name_normalises_width():
    kb = KnowledgeBase([Matter(code="A", name="企业投资项目备案（技术改造）", source="sichuan-catalog")])
    assert kb.by_name("企业投资项目备案(技术改造)").code == "A"


def test_by_name_prefers_authored():
    kb = KnowledgeBase([Matter(code="A", name="同名", source="sichuan-catalog"),
                        Matter(code="JN-B", name="同名", source="authored")])
    assert kb.by_name("同名").code == "JN-B"


def test_fingerprint_is_stable_and_content_sensitive(dirs):
    a = KnowledgeBase.load(*dirs)
    b = KnowledgeBase(list(reversed(a.matters)))
    assert a.fingerprint() == b.fingerprint() and len(a.fingerprint()) == 64
    changed = [m.model_copy(update={"fee": "不收费"}) if m.code == "512B0001" else m for m in a.matters]
    assert KnowledgeBase(changed).fingerprint() != a.fingerprint()


def test_duplicate_codes_in_constructor_are_refused():
    m = Matter(code="A", name="x", source="authored")
    with pytest.raises(ValueError, match="duplicate matter code A"):
        KnowledgeBase([m, m])


def test_invalid_guide_is_skipped_and_reported_unless_strict(dirs, caplog):
    kb_dir, guides = dirs
    (guides / "c.yml").write_text(NEW_GUIDE.replace("JN-GJJ-001", "JN-X").replace("verified: false",
                                                                                  "verified: maybe"),
                                  encoding="utf-8")
    with caplog.at_level("INFO", logger="knowledge.kb"):
        kb = KnowledgeBase.load(kb_dir, guides)
    events = [(r.event, r.fields) for r in caplog.records if getattr(r, "event", "").startswith("knowledge.")]
    assert events[0][0] == "knowledge.kb.issue" and "c.yml:6: verified:" in events[0][1]["issue"]
    assert events[-1][0] == "knowledge.kb.loaded" and events[-1][1]["errors"] == 1
    assert kb.get("JN-X") is None and len(kb) == 5
    assert [(i.line, i.field) for i in kb.issues if i.severity == "error"] == [(6, "verified")]
    with pytest.raises(KBError, match=r"c.yml:6: verified: "):
        KnowledgeBase.load(kb_dir, guides, strict=True)


def test_duplicate_codes_across_catalogue_files(dirs):
    kb_dir, guides = dirs
    write_matters(kb_dir / "other.jsonl", catalogue()[:1])
    with pytest.raises(KBError, match=r"other.jsonl:1: code: duplicate code 511A0074300005: also at .*catalog.jsonl:1"):
        KnowledgeBase.load(kb_dir, guides, strict=True)
    kb = KnowledgeBase.load(kb_dir, guides)  # non-strict: the first one wins
    assert len(kb) == 5


def test_missing_kb_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="kb import sichuan"):
        KnowledgeBase.load(tmp_path / "missing", tmp_path)


def test_missing_guides_dir_is_fine(dirs, tmp_path):
    kb = KnowledgeBase.load(dirs[0], tmp_path / "no-guides")
    assert len(kb) == 4 and kb.authored == []


def test_committed_kb_loads():
    # (load time is measured by the benchmark, bench/nlu.py, not asserted here)
    kb = KnowledgeBase.load(KB_DIR, GUIDES_DIR)
    assert len(kb) >= 1135
    assert kb.get("511A0074300005") is not None


def test_committed_kb_without_shared(committed_kb):
    # The committed files alone (no ../shared) carry the whole catalogue.
    sichuan = [m for m in committed_kb.matters if m.source == "sichuan-catalog"]
    overridden = [m for m in committed_kb.authored if not m.code.startswith(("JN-", "GD-"))]
    assert len(sichuan) + len(overridden) == 1135
    assert all(m.online_link for m in overridden)  # catalogue link kept or set by the guide


def test_include_guangdong_adds_all_records():
    require(GUANGDONG_SRC)
    base = KnowledgeBase.load(KB_DIR, GUIDES_DIR)
    kb = KnowledgeBase.load(KB_DIR, GUIDES_DIR, include_guangdong=True, guangdong_path=GUANGDONG_SRC)
    assert len(kb) == len(base) + 2262
    assert sum(1 for m in kb.matters if m.source == "guangdong-guides") == 2262
    assert kb.fingerprint() != base.fingerprint()


def test_include_guangdong_from_an_imported_file(tmp_path, dirs):
    path = tmp_path / "gd.jsonl"
    write_matters(path, [Matter(code="GD-1", name="广东事项", materials=[Material(name="身份证", form="其他")],
                                source="guangdong-guides")])
    kb = KnowledgeBase.load(*dirs, include_guangdong=True, guangdong_path=path)
    assert kb.get("GD-1").materials[0].form == "其他"
    with pytest.raises(FileNotFoundError):
        KnowledgeBase.load(*dirs, include_guangdong=True, guangdong_path=tmp_path / "none")


@pytest.mark.parametrize("one, other", [("区人社局", "金牛区人力资源和社会保障局"), ("区税务局", "国家税务总局成都市金牛区税务局"),
                                        ("区公安分局", "成都市公安局金牛区分局"), ("区医疗保障局", "金牛区医疗保障局"),
                                        ("区行政审批局", "金牛区行政审批局（文化和旅游）"), ("区气象局", "金牛区气象局")])
def test_a_department_written_long_or_short_is_one_office(one, other):
    assert office_of(one) == office_of(other) != ""


def test_departments_of_different_offices_stay_apart():
    offices = {office_of(d) for d in ("区人社局", "区医疗保障局", "区民政局", "区税务局", "区气象局", "区林业局")}
    assert len(offices) == 6 and office_of("") == ""


@pytest.mark.parametrize("text, office", [("要去人社局报告不", "人社"), ("派出所能办不", "公安"), ("工商局那边咋说", "市监"),
                                          ("营业执照咋办", ""), ("税务局和人社局都要去吗", "")])
def test_an_office_named_by_its_everyday_name_is_the_office_of_its_departments(text, office):
    assert office_said(text) == office
    if office:
        assert office in {office_of(d) for d in ("区人社局", "区公安分局", "区市监局")}
