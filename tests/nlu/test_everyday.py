"""Everyday words said again in the catalogue's terms (nlu/everyday.py, nlu/data/everyday_words.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.everyday import EVERYDAY_FILE, MAX_REWRITES, EverydayWords


def _write(tmp_path: Path, words: dict) -> Path:
    path = tmp_path / "words.yml"
    path.write_text(yaml.safe_dump({"words": words}, allow_unicode=True), encoding="utf-8")
    return path


def test_every_term_of_the_file_is_said_in_some_name(kb):
    words = yaml.safe_load(EVERYDAY_FILE.read_text(encoding="utf-8"))["words"]
    names = [m.name for m in kb.matters]
    unused = [t for t in words if not any(str(t) in n for n in names)]
    assert not unused, f"terms no matter's name says (a name changed?): {unused}"
    assert all(isinstance(ws, list) and ws for ws in words.values())


def test_a_word_is_put_back_into_its_term_longest_word_first(tmp_path):
    e = EverydayWords.load(_write(tmp_path, {"动物诊疗": ["宠物医院"], "医疗机构": ["医院"],
                                             "宗教活动场所": ["寺庙", "教堂"]}))
    assert e.rewrites("我们寺庙想扩建大殿") == ["我们宗教活动场所想扩建大殿"]
    # («宠物医院» is one word: not 宠物 + 医院 → 宠物医疗机构)
    assert e.rewrites("宠物医院搬家了") == ["动物诊疗搬家了"]
    assert e.rewrites("身份证丢了") == []


def test_a_word_of_several_terms_is_said_each_way_up_to_the_cap(tmp_path):
    e = EverydayWords.load(_write(tmp_path, {"机动车驾驶员培训": ["驾校"], "驾驶培训机构": ["驾校"],
                                             "教练车": ["驾校车"], "招生站点": ["报名点"]}))
    assert e.rewrites("驾校不想开了") == ["机动车驾驶员培训不想开了", "驾驶培训机构不想开了"]
    # (every word said is put back in the first text; the longest word's other terms follow, up to the cap)
    said = e.rewrites("驾校想设个报名点")
    assert said[0] == "机动车驾驶员培训想设个招生站点"
    assert len(said) <= MAX_REWRITES
    assert e.rewrites("驾校车要备案不") == ["教练车要备案不"]


def test_a_word_the_kb_names_things_by_is_left_as_it_is(tmp_path):
    path = _write(tmp_path, {"基本医疗保险": ["医保"], "宗教活动场所": ["寺庙"]})
    e = EverydayWords.load(path, known=["医保电子凭证申领"])
    assert e.rewrites("医保咋交") == []
    assert e.rewrites("寺庙要登记不") == ["宗教活动场所要登记不"]


def test_a_malformed_file_is_refused_with_where(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("words:\n  宗教活动场所: 寺庙\n", encoding="utf-8")
    with pytest.raises(ValueError, match="宗教活动场所"):
        EverydayWords.load(path)
    assert EverydayWords.load(tmp_path / "missing.yml").rewrites("寺庙") == []


@pytest.mark.parametrize("text, name", [
    ("我们寺庙想扩建大殿", "宗教活动场所扩建审批"),
    ("想开个驾校要备案啥", "机动车驾驶员培训备案"),
])
def test_a_question_in_everyday_words_finds_the_catalogue_entry(nlu, text, name):
    parse = nlu.parse(text)
    assert not parse["out_of_scope"]
    assert parse["matters"][0]["name"] == name


def test_a_question_in_no_everyday_word_is_searched_as_before(nlu):
    plain = "社会保障卡补领要带什么材料"
    assert nlu.everyday.rewrites(plain) == []
    assert nlu.parse(plain)["matters"][0]["name"] == "社会保障卡补领、换领、换发"
