"""The pinyin-aware matcher (nlu/phonetic.py) and its effect on routing: same-sounding characters and
Sichuan-accent confusions. Every phrasing here was written for these tests (not from nlu/data/intents.yml, the
guides or the evaluation set)."""

import random

import pytest

from knowledge.schema import Matter
from nlu.phonetic import (PhoneticIndex, align_cost, chars_by_sound, fold_syllable, folded_pinyin,
                          folded_syllables, sound_alike_typo, syllable_cost)


@pytest.mark.parametrize("syllable,folded", [
    ("zhang", "zan"), ("chi", "ci"), ("shi", "si"),          # zh/z ch/c sh/s
    ("neng", "len"), ("nan", "lan"),                         # n/l, eng/en
    ("hu", "fu"), ("hua", "fa"), ("huan", "fan"), ("hui", "fei"), ("huang", "fan"), ("hun", "fen"),  # f/h
    ("xing", "xin"), ("bang", "ban"), ("jiang", "jian"),     # in/ing an/ang
    ("ju", "jv"), ("lü", "lv"), ("er", "er"), ("a", "a"),
])
def test_fold_syllable(syllable, folded):
    assert fold_syllable(syllable) == folded


@pytest.mark.parametrize("a,b", [
    ("设保卡", "社保卡"), ("营叶执照", "营业执照"), ("公鸡金", "公积金"), ("生分正", "身份证"),
    ("刘动人口", "流动人口"), ("湖口", "户口"), ("养老经", "养老金"), ("恼火", "老火"), ("农保", "龙宝"), ("牛肉", "刘肉"),
])
def test_same_sounding_texts_fold_alike(a, b):
    assert folded_pinyin(a) == folded_pinyin(b)


def test_different_words_do_not_fold_alike():
    assert folded_pinyin("社保卡") != folded_pinyin("医保卡")
    assert folded_pinyin("户口") != folded_pinyin("护照")


def test_runs_are_split_on_non_han_characters():
    assert folded_syllables("社保卡A12营业执照") == [["se", "bao", "ka"], ["yin", "ye", "zi", "zao"]]
    assert folded_syllables("") == [] and folded_syllables("abc 123") == []


def test_syllable_cost_and_alignment():
    assert syllable_cost("se", "se") == 0.0
    assert syllable_cost("bao", "pao") == 0.5  # same final
    assert syllable_cost("ka", "mo") == 1.0
    term = folded_syllables("营业执照")[0]
    assert align_cost(term, folded_syllables("我想问营叶执照咋个办")[0]) == 0.0
    assert align_cost(term, folded_syllables("营业照")[0]) == 1.0  # one syllable missing
    assert align_cost(term, []) == 4.0


def _matters():
    return [
        Matter(code="K1", name="社会保障卡补领", aliases=["社保卡补办"], colloquial=["社保卡掉了"], source="authored"),
        Matter(code="K2", name="个体工商户设立登记", aliases=["办营业执照"], source="authored"),
        Matter(code="K3", name="居民身份证换领", aliases=["换身份证"], source="authored"),
        Matter(code="K4", name="户口迁移审批", aliases=["户口迁入"], source="authored"),
        Matter(code="K5", name="住房公积金提取", aliases=["取公积金"], source="sichuan-catalog"),
    ]


@pytest.mark.parametrize("text,code", [
    ("设保卡弄丢了想补一张", "K1"),
    ("我要开店，营叶执照在哪点办", "K2"),
    ("生分证到期了要换", "K3"),
    ("湖口签到金牛区", "K4"),           # 户口迁到: f/h and a same-sound 签
    ("公鸡金咋个取出来", "K5"),
])
def test_phonetic_index_search_finds_the_matter(text, code):
    idx = PhoneticIndex.from_matters(_matters())
    res = idx.search(text, k=3)
    assert res and res[0][0] == code
    assert all(0.0 <= s <= 1.0 for _, s in res)
    assert [s for _, s in res] == sorted((s for _, s in res), reverse=True)
    hit = idx.hits(text, 1)[0]
    assert hit.code == code and hit.term


def test_phonetic_index_without_chinese_finds_nothing():
    idx = PhoneticIndex.from_matters(_matters())
    assert idx.search("", 3) == [] and idx.search("hello 123", 3) == []


def test_sound_alike_typo_changes_one_character_to_a_homophone():
    by_sound = chars_by_sound(["社保卡设置射击", "营业执照叶子"])
    rng = random.Random(3)
    for _ in range(20):
        t = sound_alike_typo("社保卡营业执照", by_sound, rng)
        assert t is not None and len(t) == 7
        assert sum(a != b for a, b in zip(t, "社保卡营业执照")) == 1
        assert folded_pinyin(t) == folded_pinyin("社保卡营业执照")
    assert sound_alike_typo("abc", by_sound, rng) is None


# --- the real NLU -------------------------------------------------------------------------------------------
def _top(r, k=3):
    return [m["name"] for m in r["matters"][:k]]


@pytest.mark.parametrize("text,want", [
    ("设保卡弄丢了，咋个补办嘛", "社会保障卡"),
    ("开个小面馆，营叶执照去哪点办", "个体工商户"),
    ("公鸡金咋个取出来", "公积金"),
    ("生分证过期了咋个换新的", "身份证"),
    ("养老金人证每年都要搞吗", "认证"),
    ("结昏证在哪里领", "婚姻登记"),
])
def test_homophone_typos_route_to_the_matter(nlu, text, want):
    r = nlu.parse(text)
    assert not r["out_of_scope"], r
    assert any(want in n for n in _top(r)), _top(r)


def test_typo_and_correct_text_agree_on_the_first_matter(nlu):
    a, b = nlu.parse("设保卡掉了要补办"), nlu.parse("社保卡掉了要补办")
    assert _top(a, 1) == _top(b, 1) and a["matters"]


def test_parse_keeps_the_rasa_format_and_hits_carry_the_phonetic_part(nlu):
    r = nlu.parse("营叶执照咋个办")
    assert {"text", "intent", "intent_ranking", "entities", "matters", "out_of_scope", "ambiguous"} <= set(r)
    assert all(set(m) == {"code", "name", "score"} for m in r["matters"])
    hits = nlu.search("营叶执照咋个办", 3)
    assert hits and all(h.phonetic >= 0.0 for h in hits)


def test_phonetic_index_cache_gives_the_same_answers(tmp_path):
    built = PhoneticIndex.load_or_build(_matters(), tmp_path, "fp1")
    assert len(list(tmp_path.glob("phonetic-*fp1.json"))) == 1
    cached = PhoneticIndex.load_or_build(_matters(), tmp_path, "fp1")
    for text in ("设保卡弄丢了", "湖口签到金牛区", "公鸡金咋个取"):
        assert cached.search(text, 3) == built.search(text, 3)
    (next(tmp_path.glob("phonetic-*fp1.json"))).write_text("{broken", encoding="utf-8")
    assert PhoneticIndex.load_or_build(_matters(), tmp_path, "fp1").search("设保卡", 1)[0][0] == "K1"
    assert PhoneticIndex.load_or_build(_matters(), None, "fp1").search("设保卡", 1)[0][0] == "K1"
