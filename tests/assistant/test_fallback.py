"""Rasa unreachable: the chat still answers from the real NLU + KB search, keeps context and hands off."""

from __future__ import annotations

import json

import pytest

CHAT = "/api/v1/chat"


def _ask(client, sid, text):
    r = client.post(CHAT, json={"session_id": sid, "text": text})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["degraded"] is True
    assert data["replies"][0]["type"] == "notice" and "暂时不可用" in data["replies"][0]["text"]
    return data


def _types(data):
    return [p["type"] for p in data["replies"]]


def _offers_human(data):
    return data["handoff"] is not None or any(
        p["type"] == "buttons" and any(b["payload"].startswith("/request_human") for b in p["buttons"])
        for p in data["replies"])


def test_matter_card_then_follow_up_in_context(nlu_app_client):
    first = _ask(nlu_app_client, "fb-1", "我想办个体户营业执照")
    cards = [p["matter"] for p in first["replies"] if p["type"] == "matter_card"]
    assert cards, _types(first)
    assert "个体工商户" in cards[0]["name"]
    assert first["matter"]["code"] == cards[0]["code"]
    assert {"department", "place", "promised_time_limit", "fee", "online_link", "verified", "level"} <= set(cards[0])
    titles = [b["title"] for p in first["replies"] if p["type"] == "buttons" for b in p["buttons"]]
    assert {"材料清单", "办理地点", "转人工"} <= set(titles)

    follow = _ask(nlu_app_client, "fb-1", "那需要准备哪些东西")
    checklists = [p for p in follow["replies"] if p["type"] == "checklist"]
    assert checklists and checklists[0]["matter"]["code"] == first["matter"]["code"]
    items = checklists[0]["items"]
    assert items and {"name", "form", "copies", "requirement", "note"} <= set(items[0])
    assert _offers_human(follow)


def test_button_payloads_work_without_rasa(nlu_app_client, kb):
    m = next(x for x in kb.matters if x.places and x.places[0].name)
    data = _ask(nlu_app_client, "fb-2", "/ask_location" + json.dumps({"matter": m.code}, ensure_ascii=False))
    assert data["intent"] == "ask_location" and data["matter"]["code"] == m.code
    assert "可以在这些地方办理" in data["replies"][1]["text"] and m.places[0].name in data["replies"][1]["text"]
    forged = _ask(nlu_app_client, "fb-3", '/ask_materials{"matter": "NO-SUCH-CODE"}')
    assert not any(p["type"] == "checklist" for p in forged["replies"])


def test_out_of_scope_is_redirected_without_a_ticket(nlu_app_client):
    first = _ask(nlu_app_client, "fb-4", "帮我推荐一部好看的科幻电影")
    assert first["intent"] == "out_of_scope" and first["matter"] is None
    assert not any(p["type"] == "matter_card" for p in first["replies"])
    assert any("12345" in p.get("text", "") for p in first["replies"] if p["type"] == "text")
    second = _ask(nlu_app_client, "fb-4", "你会不会写诗，给我写一首")
    assert second["intent"] == "out_of_scope" and second["handoff"] is None  # not a failure of 金小二's


def test_two_turns_not_understood_hand_off(nlu_app_client):
    first = _ask(nlu_app_client, "fb-7", "/nlu_fallback")
    assert first["handoff"] is None and _offers_human(first)
    second = _ask(nlu_app_client, "fb-7", "/nlu_fallback")
    assert second["handoff"] is not None and second["handoff"]["status"] == "open"
    assert any(p["type"] == "handoff" for p in second["replies"])


def test_ambiguous_question_gets_choices_not_a_card(nlu_app_client):
    # "公积金咋个取出来" is ambiguous for the NLU (the 住房公积金提取 siblings within the margin): the fallback asks.
    # (A vague "我想办个证" was ambiguous before the learned re-ranker; it is now answered with 居民身份证办理 —
    # docs/benchmarks.md, issue 9 second round.)
    data = _ask(nlu_app_client, "fb-5", "公积金咋个取出来")
    choices = [b for p in data["replies"] if p["type"] == "buttons" for b in p["buttons"]
               if b["payload"].startswith("/ask_matter")]
    cards = [p for p in data["replies"] if p["type"] == "matter_card"]
    assert 2 <= len(choices) <= 3 and cards == []
    assert _offers_human(data)


@pytest.mark.parametrize("names, labels", [
    (("住房公积金提取（购房）", "住房公积金提取（偿还住房贷款）", "住房公积金提取(离职)"), ["购房", "偿还住房贷款", "离职"]),
    # the differing bracket before a bracket all share
    (("医疗机构执业许可（新办）（县级）", "医疗机构执业许可（校验）（县级）"), ["新办", "校验"]),
    # names that differ after their brackets, or where one has none, are shown whole (never a cut bracket)
    (("农民专业合作社（联合社）设立登记", "农民专业合作社（联合社）分支机构设立登记", "农民专业合作社（联合社）备案登记"), None),
    (("不动产转移登记", "不动产转移登记（新建商品房）"), None),
    (("残疾人证新办", "残疾人证换领"), None),
])
def test_siblings_are_asked_apart_by_the_bracketed_part_their_names_differ_in(names, labels):
    from types import SimpleNamespace

    from assistant.dialogue.matter import short_labels

    assert short_labels([SimpleNamespace(code=f"X{i}", name=n) for i, n in enumerate(names)]) == labels


@pytest.mark.parametrize("text", ["😀", "How are you", "   营业执照   "])
def test_odd_inputs_with_nlu_never_fail(nlu_app_client, text):
    r = nlu_app_client.post(CHAT, json={"session_id": "fb-6", "text": text})
    assert r.status_code == 200 and r.json()["replies"]
