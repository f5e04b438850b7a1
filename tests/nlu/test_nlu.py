"""The real NLU (m3e-small, committed KB, calibrated thresholds) on our own phrasings and on bad input.

Uses the session-scoped ``kb`` / ``nlu`` fixtures of tests/conftest.py (the index is cached on disk)."""


import pytest

from knowledge.schema import Matter

RASA_KEYS = {"text", "intent", "intent_ranking", "entities", "matters", "out_of_scope", "ambiguous"}


def _names(result, k=3):
    return [m["name"] for m in result["matters"][:k]]


@pytest.fixture(scope="module")
def codes(kb):
    def code(name):
        m = kb.by_name(name)
        assert m is not None, name
        return m.code
    return code


def test_small_shop_maps_to_individual_business_registration(nlu):
    r = nlu.parse("想开个杂货铺子，要办哪些证")
    assert RASA_KEYS <= set(r)
    assert r["intent"]["name"] == "ask_matter" and not r["out_of_scope"]
    assert "个体工商户设立登记" in _names(r)


def test_pension_certification_top1(nlu):
    r = nlu.parse("我老汉退休了，每年那个养老金认证咋个整嘛")
    assert r["matters"][0]["name"].startswith("养老保险") and "认证" in r["matters"][0]["name"]


def test_a_clear_answer_carries_the_top_matter_as_its_entity(nlu):
    # no ambiguity margin: the answer is never "ambiguous" (the ambiguous case is the next-but-one test)
    saved = nlu.calibration.ambiguity_margin
    nlu.calibration.ambiguity_margin = 0.0
    try:
        r = nlu.parse("我老汉退休了，每年那个养老金认证咋个整嘛")
    finally:
        nlu.calibration.ambiguity_margin = saved
    assert r["ambiguous"] is False
    assert r["entities"][0]["entity"] == "matter" and r["entities"][0]["value"] == r["matters"][0]["code"]


@pytest.mark.parametrize("text", ["今天天气咋样", "楼下火锅店油烟熏得人遭不住", "明年成都房价会不会跌"])
def test_out_of_scope(nlu, text):
    r = nlu.parse(text)
    assert r["out_of_scope"] is True and r["matters"] == [] and r["entities"] == []


def test_request_human(nlu):
    r = nlu.parse("帮我转接人工服务")
    assert r["intent"]["name"] == "request_human" and not r["out_of_scope"]


def test_follow_up_is_a_materials_question(nlu):
    r = nlu.parse("那办这个得带些啥东西")
    assert r["intent"]["name"] == "ask_materials" and not r["out_of_scope"]


@pytest.mark.parametrize("text", ["在哪办", "去哪办", "到哪办"])
def test_where_alone_is_a_location_question_about_no_matter(nlu, text):
    """jieba makes «哪办» a word the guides have: «在哪办» alone offered 公证业务预约办理 and two other matters."""
    r = nlu.parse(text)
    assert r["intent"]["name"] == "ask_location" and r["matters"] == []
    assert _names(nlu.parse(f"居住证{text}"))[0] == "居住证办理"


def test_materials_question_naming_a_matter(nlu):
    r = nlu.parse("补办社保卡要带啥子材料")
    assert r["intent"]["name"] == "ask_materials"
    assert any("社会保障卡" in n or "社保卡" in n for n in _names(r))


@pytest.mark.parametrize("text,intent", [("你好呀", "greet"), ("谢谢你哈", "thanks"), ("拜拜", "goodbye"),
                                         ("要得", "affirm"), ("不是这个", "deny")])
def test_social_intents_carry_no_matter(nlu, text, intent):
    r = nlu.parse(text)
    assert r["intent"]["name"] == intent and r["matters"] == []


@pytest.mark.parametrize("text", ["咋办", "怎么办", "那咋个办嘛", "咋个弄", "这个咋办", "要收费不", "办下来要多久"])
def test_nothing_but_stop_words_names_no_matter(nlu, text):
    """«咋办» alone found a guide that happens to say 咋办 («中国公民收养子女登记», read as a goodbye naming it) and
    that card was the answer."""
    r = nlu.parse(text)
    assert r["matters"] == [] and "named_matter" not in r and r["entities"] == [] and not r["out_of_scope"]


def test_a_matter_with_stop_words_is_still_named(nlu):
    """身份证 is a word of follow-ups too («要带身份证不») but a word of a matter's name: it still names one."""
    assert "居民身份证办理（包括临时）" in _names(nlu.parse("身份证咋办"))
    assert "居民身份证办理（包括临时）" in _names(nlu.parse("身份证要多少钱"))


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02", "😀", "😀😀😀"])
def test_empty_and_symbol_only_input_is_fallback(nlu, text):
    r = nlu.parse(text)
    assert r["intent"]["name"] == "nlu_fallback" and r["matters"] == [] and r["entities"] == []
    assert r["text"] == text


def test_ten_thousand_characters_are_safe(nlu):
    # speed of a 10,000-character parse is measured by `make bench` (bench/nlu.py), not asserted here
    text = "我想办营业执照，" + "啊" * 9990
    r = nlu.parse(text)
    assert RASA_KEYS <= set(r) and r["text"] == text
    assert any("个体工商户" in n or "营业执照" in n for n in _names(r, 3))


def test_english_is_not_routed_to_a_matter(nlu):
    r = nlu.parse("what is the weather like tomorrow")
    assert r["matters"] == []


def test_traditional_characters_route_like_simplified(nlu):
    a, b = nlu.parse("養老金認證咋個辦"), nlu.parse("养老金认证咋个办")
    assert _names(a, 1) == _names(b, 1) and a["matters"]


def test_control_characters_inside_text(nlu):
    r = nlu.parse("养老金\x00认证\x1b咋个整")
    assert r["matters"] and "认证" in r["matters"][0]["name"]


def test_button_payload_is_parsed_and_validated(nlu, codes):
    code = codes("个体工商户设立登记")
    r = nlu.parse(f'/ask_materials{{"matter": "{code}"}}')
    assert r["intent"]["name"] == "ask_materials"
    assert r["entities"][0]["value"] == code and r["matters"][0]["code"] == code
    r = nlu.parse('/ask_materials{"matter": "000-NOT-A-CODE"}')
    assert r["intent"]["name"] == "ask_materials" and r["entities"] == [] and r["matters"] == []
    r = nlu.parse('/ask_matter{"matter": ')
    assert r["intent"]["name"] == "ask_matter" and r["entities"] == []


def test_ambiguous_returns_top3_without_entity(nlu):
    # Force a wide margin: every answer with a runner-up is ambiguous.
    saved = nlu.calibration.ambiguity_margin
    nlu.calibration.ambiguity_margin = 10.0
    try:
        r = nlu.parse("营业执照怎么办")
    finally:
        nlu.calibration.ambiguity_margin = saved
    assert r["ambiguous"] is True and len(r["matters"]) >= 3 and r["entities"] == []


def test_search_returns_k_hits(nlu):
    hits = nlu.search("公积金提取", k=4)
    assert len(hits) == 4 and hits[0].score >= hits[-1].score
    assert nlu.search("", k=3) == []


def _small_kb():
    class KB:
        matters = [
            Matter(code="T1", name="个体工商户设立登记", aliases=["办营业执照"], colloquial=["开个小卖部"],
                   examples=["开店要办啥证"], source="authored"),
            Matter(code="T2", name="养老保险定期待遇领取资格认证", aliases=["养老金认证"], source="authored"),
            Matter(code="T3", name="居住证办理", source="sichuan-catalog"),
        ]
    return KB()


def test_index_and_classifier_are_reused_from_the_cache(tmp_path, nlu):
    from nlu import NLU

    first = NLU(_small_kb(), cache_dir=tmp_path)
    assert not first.index_from_cache and not first.classifier_from_cache
    files = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".npz", ".txt"))
    assert any(f.startswith("index-") for f in files) and any(f.startswith("intents-") for f in files)
    second = NLU(_small_kb(), cache_dir=tmp_path)
    assert second.index_from_cache and second.classifier_from_cache
    assert second.load_seconds < first.load_seconds
    assert [h.code for h in second.search("开个小卖部", 3)] == [h.code for h in first.search("开个小卖部", 3)]
    assert second.search("开个小卖部", 1)[0].code == "T1"
    # A changed KB gets a new index (fingerprint differs).
    kb = _small_kb()
    kb.matters = kb.matters + [Matter(code="T4", name="社会保障卡补领", source="authored")]
    third = NLU(kb, cache_dir=tmp_path)
    assert not third.index_from_cache and third.search("社保卡丢了补办", 1)[0].code == "T4"


def test_framed_question_routes_like_the_plain_one(nlu):
    plain = nlu.parse("老年优待证咋个办")
    framed = nlu.parse("关于成都市金牛区老年优待证咋个办的咨询")
    assert framed["matters"] and framed["matters"][0]["code"] == plain["matters"][0]["code"]


@pytest.mark.parametrize("framed", ["我先问下身份证在哪办", "我想问一下身份证在哪办", "问下身份证在哪办",
                                    "我打听一下身份证在哪办"])
def test_asking_to_ask_first_is_framing(framed):
    from nlu.text import strip_frame

    assert strip_frame(framed) == "身份证在哪办"
