"""Unit tests without the model: normalisation, BM25, tokenizer terms, button payloads, intent labelling."""

import pytest

from nlu.bm25 import BM25
from nlu.intents import label_question, load_examples, load_names_matter
from nlu.payload import parse_payload
from nlu.intents import SOCIAL_WORDS
from nlu.text import MAX_MODEL_CHARS, as_elsewhere, has_cjk, normalize, strip_frame


def test_normalize_fullwidth_traditional_control_and_case():
    assert normalize("ＡＢＣ１２３？") == "abc123?"
    assert normalize("養老金認證咋個辦") == "养老金认证咋个办"
    assert normalize("\x00养老\x07金\u200b认证\x1b") == "养老 金认证"
    assert normalize("  多个   空格\t\n换行 ") == "多个 空格 换行"
    assert normalize("") == "" and normalize(None) == ""  # type: ignore[arg-type]


def test_normalize_caps_length():
    text = "办营业执照" * 2000  # 10,000 characters (its speed is measured by `make bench`, bench/nlu.py)
    out = normalize(text, MAX_MODEL_CHARS)
    assert len(out) == MAX_MODEL_CHARS and out == text[:MAX_MODEL_CHARS]


def test_has_cjk():
    assert has_cjk("hello 你好") and not has_cjk("hello 😀 123")


@pytest.mark.parametrize("text, want", [
    ("我在深圳上班", "我在外地上班"),
    ("退休了想去三亚市养老", "退休了想去外地养老"),
    ("我是黑龙江人", "我是外地人"),
    ("孩子在宜宾出生的", "孩子在外地出生的"),   # elsewhere in Sichuan is elsewhere too
    ("我在都江堰上班", "我在都江堰上班"),        # a city of Chengdu is not
    ("我在重庆上班", "我在重庆上班"),            # 川渝通办 has its own matters
    ("去澳门要办啥证", "去澳门要办啥证"),
    ("住在中山路", "住在中山路"),                # a city's name inside a street's
    ("身体安康", "身体安康"),                    # and inside a word
    ("", ""),
])
def test_a_city_or_province_elsewhere_said_as_a_place_is_elsewhere(text, want):
    assert as_elsewhere(text) == want


@pytest.mark.parametrize("text, want", [
    ("我老公走了", "我老公去世了"), ("我妈上个月没了，她的社保卡咋办", "我妈上个月去世了，她的社保卡咋办"),
    ("老人不在了以后房子咋过户", "老人去世了以后房子咋过户"),
    ("我爸刚走", "我爸刚去世了"), ("我妈刚走，社保卡咋办", "我妈刚去世了，社保卡咋办"),
    ("我先走了", "我先走了"), ("钱包没了", "钱包没了"), ("车走了没得", "车走了没得"), ("我刚走", "我刚走"),
    ("我妈走路不方便", "我妈走路不方便"),
    ("我老汉儿领失业金的时候走了", "我老汉儿领失业金的时候去世了"), ("我妈住院期间没了", "我妈住院期间去世了"),
    ("我去办证的时候走了", "我去办证的时候走了"), ("我爸上班的时候走了一趟", "我爸上班的时候走了一趟"),
])
def test_a_relatives_death_is_said_plainly_and_other_leaving_is_left(text, want):
    assert strip_frame(text) == want


def test_a_relatives_leaving_is_no_goodbye():
    assert SOCIAL_WORDS["goodbye"].search("好的我走了") and not SOCIAL_WORDS["goodbye"].search("我老公走了")


def test_bm25_ranks_matching_document_first_and_normalises():
    docs = [["养老金", "认证"], ["营业执照", "个体户", "设立"], ["户口", "迁移"]]
    bm = BM25(docs)
    s = bm.normalized(["营业执照", "个体户"])
    assert max(s, key=s.get) == 1
    assert 0 < s[1] <= 1.0
    # Unknown words lower the normalised score (the query is mostly about something else).
    assert bm.normalized(["营业执照", "天气", "下雨", "好热"])[1] < s[1]
    assert bm.normalized(["天气"]) == {}


def test_payload_valid_unknown_and_malformed():
    known = {"511A0074300005"}
    intents = {"ask_matter", "ask_materials"}
    ok = parse_payload('/ask_matter{"matter": "511A0074300005"}', intents, known.__contains__)
    assert ok == {"intent": "ask_matter", "entities": {"matter": "511A0074300005"}}
    assert parse_payload('/ask_materials{"matter": "NOPE"}', intents, known.__contains__) == {
        "intent": "ask_materials", "entities": {}}
    assert parse_payload('/ask_matter{"matter": 511A}', intents, known.__contains__) == {
        "intent": "ask_matter", "entities": {}}
    assert parse_payload("/ask_matter", intents, known.__contains__) == {"intent": "ask_matter", "entities": {}}
    assert parse_payload('/drop_tables{"matter": "511A0074300005"}', intents, known.__contains__) is None
    assert parse_payload("/ 不是按钮", intents, known.__contains__) is None
    assert parse_payload('/ask_matter{"matter": ["511A0074300005"]}', intents, known.__contains__)["entities"] == {
        "matter": "511A0074300005"}


def test_label_question_by_wording():
    assert label_question("开饭馆要带啥子材料") == "ask_materials"
    assert label_question("补身份证好多钱") == "ask_fee"
    assert label_question("几天能办好") == "ask_time"
    assert label_question("在哪里办") == "ask_location"
    assert label_question("想开个小卖部") == "ask_matter"


def test_own_examples_are_enough_and_follow_up_markers_exist():
    ex = load_examples()
    for intent in ("greet", "goodbye", "thanks", "affirm", "deny", "ask_matter", "ask_materials", "ask_location",
                   "ask_time", "ask_fee", "request_human", "out_of_scope", "chitchat"):
        assert len(ex[intent]) >= 25, intent
    assert len(ex["out_of_scope"]) >= 100
    every = {t for items in ex.values() for t in items}
    assert set(load_names_matter()) <= every


def test_builtin_traditional_table_covers_common_matter_words():
    """Without OpenCC the built-in table still simplifies the words of common questions."""
    from nlu.text import _T2S

    table = str.maketrans(_T2S)
    assert "養老金認證咋個辦".translate(table) == "养老金认证咋个办"
    assert "補辦營業執照".translate(table) == "补办营业执照"
    assert "戶口遷移證".translate(table) == "户口迁移证"
