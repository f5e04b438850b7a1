"""Unsure intents of a message that names a matter (nlu/engine.py ``NLU.decide``): a yes or a no that a matter
intent nearly matches (``«不动产登记的事情»`` starts like ``«不是»``) and a detail question the classifier only
guesses (``«我要抵押贷款»`` read as a fee question) are asked about the matter as a whole."""

import pytest

from nlu.index import MatterHit


def _decide(probe, ranking, top=1.1, text=None, second=0.3):
    probe.calibration.intent_threshold = 0.25
    m, other = probe.matters[0], probe.matters[1]
    text = text if text is not None else m.name  # the matter's own terms: a content term
    hits = [MatterHit(m.code, m.name, top), MatterHit(other.code, other.name, top - second)]
    return probe.decide(text, text, ranking, hits)


@pytest.mark.parametrize("answer", ["deny", "affirm"])
def test_a_yes_or_no_nearly_matched_by_a_matter_intent_is_a_matter_question(probe, answer):
    res = _decide(probe, [(answer, 0.35), ("ask_matter", 0.34), ("ask_materials", 0.1)])
    assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code
    # clearly a yes or no, said as an answer of its own: no matter, whatever the message names
    word = {"deny": "不用了，", "affirm": "是的，"}[answer]
    res = _decide(probe, [(answer, 0.8), ("ask_matter", 0.1)], text=word + probe.matters[0].name)
    assert res["intent"]["name"] == answer and res["matters"] == []
    # a lead of the threshold or more keeps the answer
    res = _decide(probe, [(answer, 0.6), ("ask_fee", 0.34)])
    assert res["intent"]["name"] == answer and res["matters"] == []


def test_other_social_intents_keep_the_rule_of_the_threshold(probe):
    res = _decide(probe, [("thanks", 0.35), ("ask_matter", 0.34)])
    assert res["intent"]["name"] == "thanks" and res["matters"] == []
    res = _decide(probe, [("thanks", 0.2), ("ask_matter", 0.19)])
    assert res["intent"]["name"] == "ask_matter"


def test_a_yes_or_no_without_a_matter_found_stays_an_answer(probe):
    res = _decide(probe, [("deny", 0.35), ("ask_matter", 0.34)], top=0.5)
    assert res["intent"]["name"] == "deny" and res["matters"] == []


def test_an_unsure_detail_question_naming_a_matter_asks_about_the_matter(probe):
    res = _decide(probe, [("ask_fee", 0.21), ("ask_matter", 0.18), ("precheck_materials", 0.12)])
    assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code
    # a sure one is kept
    res = _decide(probe, [("ask_fee", 0.7), ("ask_matter", 0.2)])
    assert res["intent"]["name"] == "ask_fee" and res["matters"]
    # unsure and nothing found: the dialogue's context decides (no matter of its own)
    res = _decide(probe, [("ask_fee", 0.21), ("ask_matter", 0.18)], top=0.5)
    assert res["intent"]["name"] == "nlu_fallback" and res["matters"] == []


def test_a_matter_named_well_is_not_a_no_because_of_its_first_character(probe):
    # «无犯罪证明» reads like «无» (no) to the classifier; it is the name of a matter the search finds well
    over = probe.calibration.oos_override_threshold
    assert over > 0
    res = _decide(probe, [("deny", 0.8), ("ask_matter", 0.1)], top=over + 0.2)
    assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code
    # found, but not that well: still the answer
    res = _decide(probe, [("deny", 0.8), ("ask_matter", 0.1)], top=max(probe.calibration.oos_threshold, over - 0.1))
    assert res["intent"]["name"] == "deny"


def test_every_greeting_goodbye_and_thanks_example_has_its_words():
    from nlu.intents import SOCIAL_WORDS, load_examples

    examples = load_examples()
    for intent, words in SOCIAL_WORDS.items():
        assert [e for e in examples[intent] if not words.search(str(e))] == [], intent


@pytest.mark.parametrize("social, words", [("goodbye", "再见，"), ("thanks", "谢谢，"), ("greet", "你好，"),
                                           ("chitchat", "你晓得")])  # («我要开个火锅店» read as small talk)
def test_a_social_reading_without_its_words_puts_the_matter_it_names_aside(probe, social, words):
    # «退役了» reads as a goodbye to the classifier; it names 退役报到, which the search finds well. The reading stays
    # (after a matter, «我辞职了» is a detail the dialogue refines with); the matter goes aside for the dialogue
    top = probe.calibration.oos_override_threshold + 0.2
    res = _decide(probe, [(social, 0.9), ("ask_matter", 0.02)], top=top)
    assert res["intent"]["name"] == social and res["matters"] == []
    assert res["named_matter"]["code"] == probe.matters[0].code
    # said with its words: nothing aside
    res = _decide(probe, [(social, 0.9), ("ask_matter", 0.02)], top=top, text=words + probe.matters[0].name)
    assert res["intent"]["name"] == social and "named_matter" not in res


def test_nothing_but_a_matters_name_is_a_question_about_it_whatever_the_classifier_guessed(probe):
    # «身份证» alone: the classifier reads the materials check (its examples list the things people bring) and the
    # word is one of the follow-ups' («要带身份证不»), so no content term counted and nothing was found
    m = next(x for x in probe.matters if any(a == "身份证办理" for a in x.aliases))
    hits = [MatterHit(m.code, m.name, 1.2), MatterHit(probe.matters[1].code, probe.matters[1].name, 0.9)]
    for intent in ("precheck_materials", "ask_materials"):
        res = probe.decide("身份证", "身份证", [(intent, 0.5), ("ask_matter", 0.2)], hits)
        assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == m.code, intent
    # the same word in a sentence is what the classifier said it is
    res = probe.decide("要带身份证不", "要带身份证不", [("ask_materials", 0.6), ("ask_matter", 0.2)], hits)
    assert res["intent"]["name"] == "ask_materials"
    # a feature's own word that a matter is named by too («上门办») keeps the feature
    res = probe.decide("上门办", "上门办", [("book_home_visit", 0.9), ("ask_matter", 0.05)], hits)
    assert res["intent"]["name"] == "book_home_visit"


def test_small_talk_puts_a_matter_aside_only_when_it_names_it_strongly(probe):
    # «帮我算个命» finds 帮办代办 clearly ahead, by «帮»: small talk has no words of its own to miss
    top = probe.calibration.oos_threshold + 0.05
    assert top < probe.calibration.oos_override_threshold
    assert "named_matter" not in _decide(probe, [("chitchat", 0.9), ("ask_matter", 0.02)], top=top)
    assert "named_matter" in _decide(probe, [("goodbye", 0.9), ("ask_matter", 0.02)], top=top)


def test_a_plan_the_person_states_read_as_small_talk_puts_the_matter_it_finds_clearly_aside(probe):
    # «我要开个小饭馆» reads as small talk to the classifier (0.25) and finds 个体工商户设立登记 clearly, not strongly:
    # a plan of the person's own, not small talk, so the matter goes aside for the dialogue as for a goodbye
    top = probe.calibration.oos_threshold + 0.05
    for plan in ("我要开个" + probe.matters[0].name, "我们准备在街边开个" + probe.matters[0].name):
        assert _decide(probe, [("chitchat", 0.9), ("ask_matter", 0.02)], top=top, text=plan)["named_matter"][
            "code"] == probe.matters[0].code, plan
    # not a plan: small talk, nothing aside
    res = _decide(probe, [("chitchat", 0.9), ("ask_matter", 0.02)], top=top, text="说说" + probe.matters[0].name)
    assert "named_matter" not in res


def test_a_plan_read_as_small_talk_that_finds_two_matters_alike_offers_them(probe):
    # «我要开个小饭馆» finds 个体工商户设立登记 and 食品经营许可 within the ambiguity margin: the two to choose from,
    # not «没太明白»
    top = probe.calibration.oos_threshold + 0.05
    probe.calibration.ambiguity_margin, near = 0.1, 0.05
    res = _decide(probe, [("chitchat", 0.3), ("ask_matter", 0.02)], top=top, text="我要开个" + probe.matters[0].name,
                  second=near)
    assert res["intent"]["name"] == "ask_matter" and res["ambiguous"], res
    assert [h["code"] for h in res["matters"][:2]] == [probe.matters[0].code, probe.matters[1].code]
    res = _decide(probe, [("chitchat", 0.3), ("ask_matter", 0.02)], top=top, text="说说" + probe.matters[0].name,
                  second=near)
    assert res["intent"]["name"] == "chitchat" and res["matters"] == []


@pytest.mark.parametrize("verb", ["卖", "买", "租", "转让"])
def test_a_plan_to_sell_buy_or_rent_read_as_out_of_scope_names_what_it_finds(probe, verb):
    # «我要卖房子» reads as out of scope to the classifier (0.37) and finds 不动产转移登记 clearly: a plan of the
    # person's own about something a matter deals with
    top = probe.calibration.oos_threshold + 0.05
    res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=top,
                  text=f"我要{verb}" + probe.matters[0].name)
    assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code, res
    # said as no plan of the person's: out of scope
    res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=top,
                  text="别人" + verb + probe.matters[0].name)
    assert res["intent"]["name"] == "out_of_scope", res


def test_a_business_just_opened_is_stated_like_a_plan_a_joke_is_not():
    from nlu.intents import PLAN

    for said in ("我开了个小超市", "我们刚在茶店子开了家火锅店", "我要卖房子", "我想开个小饭馆", "我们店要招几个服务员",
                 "公司想招人", "我表哥想开个小旅馆", "朋友想开个刻章店", "我儿子准备开个奶茶店", "想在路边搭个临时棚子"):
        assert PLAN.match(said), said
    for said in ("我开了个玩笑", "我开了空调", "别人卖房子", "店里招牌掉了", "他想开", "我表哥开了个玩笑"):
        assert not PLAN.match(said), said


def test_what_happened_told_read_as_out_of_scope_names_what_it_finds(probe):
    # «在厂里把手弄伤了» reads as out of scope to the classifier (0.46) and finds 工伤认定申请 clearly, not strongly:
    # harm told by the person asks what follows from it
    top = probe.calibration.oos_threshold + 0.05
    for said in ("在厂里把手弄伤了", "工地上把腿摔断了", "家里遭了火灾", "我家房子被水淹了", "公司搬家了",
                 "我们店要招几个服务员"):
        res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=top, text=said)
        assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code, said
    # found no better than the out-of-scope line: out of scope still
    res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=probe.calibration.oos_threshold - 0.05,
                  text="在厂里把手弄伤了")
    assert res["intent"]["name"] == "out_of_scope", res


def test_what_happened_is_a_life_event_or_harm_done_not_a_thing_broken_or_a_complaint():
    from nlu.intents import EVENT_TOLD

    for said in ("在厂里把手弄伤了", "干活摔断了腿", "家里遭了火灾", "屋头失火了", "房子被水淹了", "老房子塌了",
                 "我老婆生娃了", "我退休了", "孩子刚出生了", "我失业了", "公司搬家了", "店搬到茶店子了", "公司改名了",
                 "小吃店不开了", "公司倒闭了", "店里装修要停业两个月", "房产证找不到了", "营业执照遭偷了",
                 "结婚证搬家的时候搞丢了"):
        assert EVENT_TOLD.search(said), said
    for said in ("我的手机摔坏了", "路边烧垃圾污染空气", "楼上漏水到我家物业不处理", "推荐个火锅店", "孩子在学校摔伤了",
                 "我家搬到茶店子了", "楼下那家店关门了吗", "我的手机丢了", "钱包掉了"):
        assert not EVENT_TOLD.search(said), said


def test_what_happened_told_read_as_small_talk_puts_the_matter_it_finds_clearly_aside(probe):
    # «我老婆生娃了» reads as small talk to the classifier (0.28) and finds 生育登记 clearly, not strongly
    top = probe.calibration.oos_threshold + 0.05
    res = _decide(probe, [("chitchat", 0.9), ("ask_matter", 0.02)], top=top, text="我老婆生娃了")
    assert res["named_matter"]["code"] == probe.matters[0].code, res
    assert "named_matter" not in _decide(probe, [("chitchat", 0.9), ("ask_matter", 0.02)], top=top, text="我老婆好看")


def test_a_word_of_a_name_said_in_other_characters_is_content(probe):
    # «低包咋申请» (低保 typed by its sound) read as a fee question found 最低生活保障 well, but said no term the KB
    # knows: a follow-up without a matter of its own («您想问哪个事项收不收费？»); its pinyin match says the name
    probe.calibration.intent_threshold = 0.25
    m, other = probe.matters[0], probe.matters[1]
    top = probe.calibration.oos_threshold + 0.3
    text = "呜呜咋申请"  # (no term of the KB's)
    for sound, found in ((0.55, True), (0.05, False)):
        hits = [MatterHit(m.code, m.name, top, phonetic=sound), MatterHit(other.code, other.name, top - 0.6)]
        res = probe.decide(text, text, [("ask_fee", 0.3), ("ask_matter", 0.2)], hits)
        assert bool(res["matters"]) is found, (sound, res)


def test_a_plan_of_what_we_have_or_said_after_where_is_a_plan():
    from nlu.intents import PLAN

    for said in ("我们寺庙想扩建大殿", "我们村想修条路", "我们协会想办个活动", "店门口想挂个大招牌", "搞活动想在街上挂横幅",
                 "家门口的几棵大树想砍了"):
        assert PLAN.match(said), said
    # (who does it is no place: «我们一起», «你», «今天» say no plan of something the person has)
    for said in ("我们一起想办法", "你想开个店", "今天想买个手机", "身份证要换了", "周末带娃想去公园耍"):
        assert not PLAN.match(said), said


def test_asking_whether_what_one_does_needs_a_procedure_read_as_out_of_scope_names_what_it_finds(probe):
    # «装修垃圾堆了一车 要报备不» reads as out of scope to the classifier (0.64) and finds 建筑垃圾处理方案备案 well:
    # whether it needs the state's leave is a question for the hall
    from nlu.intents import ASKS_IF_NEEDED

    top = probe.calibration.oos_threshold + 0.05
    for said in ("装修垃圾堆了一车 要报备不", "院坝头要挖个坑 要办手续不", "门口堆点砂石需要批不", "这个找哪个批",
                 "要不要去文化局备案", "开个农资店要办啥子", "买家说要开个检疫证明", "听说当房东的要去报备一下"):
        assert ASKS_IF_NEEDED.search(said), said
        res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=top, text=said)
        assert res["intent"]["name"] == "ask_matter" and res["matters"][0]["code"] == probe.matters[0].code, said
    for said in ("要带身份证不", "要好久", "办信用卡要多久", "哪个银行好", "老板说要加班"):
        assert not ASKS_IF_NEEDED.search(said), said
    res = _decide(probe, [("out_of_scope", 0.9), ("ask_matter", 0.02)], top=probe.calibration.oos_threshold - 0.05,
                  text="装修垃圾堆了一车 要报备不")
    assert res["intent"]["name"] == "out_of_scope", res
