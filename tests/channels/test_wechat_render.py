"""Reply parts rendered as WeChat text: key lines, numbered checklist and options, byte limits."""

from __future__ import annotations

from assistant.channels.wechat.render import MAX_BYTES, PORTAL_URL, render_parts, split_text

CARD = {"type": "matter_card", "matter": {
    "code": "C1", "name": "居住证办理", "department": "金牛区公安分局", "matter_type": "公共服务",
    "place": "金牛区政务服务中心", "address": "蜀汉路", "hours": "9:00-17:00", "promised_time_limit": "15个工作日",
    "legal_time_limit": "", "fee": "不收费", "online_link": "", "consult_phone": "028-1", "verified": True,
    "level": "区政务大厅"}}
CHECK = {"type": "checklist", "matter": {"code": "C1", "name": "居住证办理"}, "items": [
    {"name": "身份证", "form": "原件", "copies": 1, "requirement": "required", "note": ""},
    {"name": "租房合同", "form": "复印件", "copies": 2, "requirement": "conditional", "note": "租房居住的"}]}


def test_card_checklist_buttons_and_handoff():
    r = render_parts([{"type": "text", "text": "好的"}, CARD, CHECK,
                      {"type": "buttons", "buttons": [{"title": "办理地点", "payload": "/ask_location"},
                                                      {"title": "转人工", "payload": "/request_human"}]},
                      {"type": "handoff", "ticket": {"id": 7, "level": "街道便民服务中心", "status": "open"}},
                      {"type": "notice", "text": "仅供参考"}, {"type": "unknown"}, "junk"])
    assert len(r.messages) == 1
    text = r.messages[0]
    assert "【居住证办理】" in text and "办理部门：金牛区公安分局" in text
    assert "办理地点：金牛区政务服务中心（蜀汉路）" in text and "办理时限：15个工作日" in text
    assert f"在线办理：{PORTAL_URL}" in text  # no link of its own → the portal
    assert "1. 身份证（原件，1份）" in text and "2. 租房合同（复印件，2份）〔如适用：租房居住的〕" in text
    assert "回复数字选择：\n1. 办理地点\n2. 转人工" in text
    assert "工单号 7（街道便民服务中心）" in text and "【提示】仅供参考" in text
    assert r.buttons == [{"title": "办理地点", "payload": "/ask_location"},
                         {"title": "转人工", "payload": "/request_human"}]


def test_unverified_card_says_for_reference():
    card = {"type": "matter_card", "matter": dict(CARD["matter"], verified=False, online_link="https://a.b/c")}
    text = render_parts([card]).messages[0]
    assert "仅供参考" in text and "在线办理：https://a.b/c" in text


def test_long_answers_split_within_limits_without_breaking_characters():
    long = ("个体工商户营业执照办理须知" * 9 + "\n") * 60 + "尾" * 3000
    r = render_parts([{"type": "text", "text": long}], max_messages=50)
    assert len(r.messages) > 1
    assert all(len(m.encode("utf-8")) <= MAX_BYTES for m in r.messages)
    assert "".join(r.messages).replace("\n", "") == long.replace("\n", "")


def test_too_long_is_capped_with_a_pointer_to_the_portal():
    r = render_parts([{"type": "text", "text": "字" * 20000}])
    assert len(r.messages) == 4
    assert all(len(m.encode("utf-8")) <= MAX_BYTES for m in r.messages)
    assert PORTAL_URL in r.messages[-1]


def test_split_text_prefers_lines_and_handles_emoji():
    pieces = split_text("😀" * 1000, 100)
    assert all(len(p.encode()) <= 100 for p in pieces) and "".join(pieces) == "😀" * 1000
    assert split_text("a\nb", 100) == ["a\nb"]


def test_empty_answer_still_says_something():
    assert render_parts([]).messages[0]
