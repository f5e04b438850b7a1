"""The pre-service dialogues through ``POST /api/v1/chat`` with the real NLU, the real Rasa server (forms and
rules from domain/preservice.yml, data/preservice.yml) and the app's custom actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from assistant.preservice.validation import today_local
from tests.live_stack import all_text, button_titles, parts

pytestmark = pytest.mark.rasa

#: A booking number as the confirmation shows it (assistant/preservice/numbers.py).
BOOKING_NUMBER = r"SM-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}"


def _future(days: int) -> str:
    d = today_local() + timedelta(days=days)
    return f"{d.year}年{d.month}月{d.day}日"


def test_licence_registration_form_validates_every_answer(live):
    sid = "ps-it-licence-1"
    r = live.chat(sid, "许可证快到期了，到时候提醒我一下")
    assert r["intent"] == "register_licence" and "哪种证照" in all_text(r)
    r = live.chat(sid, "驾驶证")
    assert "不在金牛区许可延续提示清单里" in all_text(r) and "哪种证照" in all_text(r)
    r = live.chat(sid, "食品经营许可证")
    assert "编号" in all_text(r)
    r = live.chat(sid, "编号JY123")
    assert "编号格式不对" in all_text(r) and "JY15101060012345" in all_text(r)
    r = live.chat(sid, "JY1 5101 0600 1234 5")   # a bare code reaches the form (not the non-Chinese filter)
    assert "持证人" in all_text(r)
    r = live.chat(sid, "蓉城小面馆")
    assert "有效期" in all_text(r)
    r = live.chat(sid, "2027年2月30日")
    assert "2027年2月没有30日" in all_text(r)
    r = live.chat(sid, "2025-01-01")
    assert "已经到期" in all_text(r)
    r = live.chat(sid, _future(20))
    assert "提醒" in all_text(r) and "就在这个对话里" in button_titles(r)
    r = live.chat(sid, "在这个对话里提醒")
    text = all_text(r)
    assert "已登记✅" in text and "JY15101060012345" in text and "60、30、7" in text
    # the staff view of the session
    body = live.http.get(f"/api/v1/reminders?session_id={sid}", headers=live.staff_headers).json()
    [lic] = body["licences"]
    assert lic["licence_type"] == "food_business" and lic["holder"] == "蓉城小面馆"
    assert [s["offset_days"] for s in lic["scheduled"]] == [7]     # 60 and 30 are already due
    # the scheduler sends the due reminder into this conversation's inbox (once)
    assert live.http.post("/api/v1/reminders/run", headers=live.staff_headers).json()["sent"] >= 1
    live.http.post("/api/v1/reminders/run", headers=live.staff_headers)
    msgs = live.http.get(f"/api/v1/chat/{sid}/messages").json()["messages"]
    assert len(msgs) == 1 and "证照到期提醒" in msgs[0]["text"] and "还剩 20 天" in msgs[0]["text"]
    # list, duplicate registration, cancel
    r = live.chat(sid, "看看我登记过哪些证照")
    assert r["intent"] == "list_licences" and "JY15101060012345" in all_text(r)
    for text in ("登记证照到期提醒", "食品经营许可证", "证号JY15101060012345", "蓉城小面馆", _future(20), "在这个对话里"):
        r = live.chat(sid, text)
    assert "已经登记过了" in all_text(r)
    r = live.chat(sid, "取消提醒")
    assert r["intent"] == "cancel_licence" and "已停止" in all_text(r)
    assert live.http.get(f"/api/v1/reminders?session_id={sid}", headers=live.staff_headers).json()["licences"] == []


def test_backing_out_of_a_form_saves_nothing_and_the_dialogue_goes_on(live):
    sid = "ps-it-cancel-1"
    r = live.chat(sid, "登记证照到期提醒")
    assert "哪种证照" in all_text(r)
    r = live.chat(sid, "烟草证")
    assert "编号" in all_text(r)
    r = live.chat(sid, "算了")
    assert "这次不登记了" in all_text(r)
    r = live.chat(sid, "想开个杂货铺子，要办哪些证")
    assert [c["matter"]["name"] for c in parts(r, "matter_card")] == ["个体工商户设立登记"]
    # asking for a person inside a form leaves the form and hands over at once
    r = live.chat(sid, "能不能请人上门来帮我办")
    assert "为谁办理" in all_text(r)
    r = live.chat(sid, "我要转人工")
    assert "这次不预约了" in all_text(r) and "工单号" in all_text(r) and r["handoff"] is not None


def test_home_visit_booking_form_then_status_change_and_cancel(live):
    sid = "ps-it-visit-1"
    r = live.chat(sid, "我爸88岁了瘫在床上，想约人上门做养老金认证")
    assert r["intent"] == "book_home_visit" and "为谁办理" in all_text(r)
    r = live.chat(sid, "王德福，88岁，长期卧床")
    assert "联系电话" in all_text(r)
    r = live.chat(sid, "12345")
    assert "电话号码好像不对" in all_text(r)
    r = live.chat(sid, "138 1234 5678")
    assert "详细地址" in all_text(r)
    r = live.chat(sid, "武侯区人民南路1号")
    assert "只能到金牛区内" in all_text(r)
    r = live.chat(sid, "金牛区蜀汉路88号5栋2单元301")
    assert "跨了好几个街道" in all_text(r) and "哪个街道" in all_text(r)
    r = live.chat(sid, "春熙路街道")
    assert "没对上金牛区的街道" in all_text(r)
    r = live.chat(sid, "营门口")
    assert "哪天上午或下午" in all_text(r)   # the matter (养老金认证) was taken from the first message
    r = live.chat(sid, "周六上午")
    assert "周末" in all_text(r)
    r = live.chat(sid, "下周二上午")
    text = all_text(r)
    assert "预约成功✅" in text and "营门口街道便民服务中心" in text and "13812345678" not in text
    number = re.search(BOOKING_NUMBER, text).group(0)
    # staff see it in the street's queue, with the phone in full
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert b["street"] == "营门口街道" and b["phone"] == "13812345678" and b["half_day"] == "上午"
    assert b["matter_name"] == "养老保险定期待遇领取资格认证" and b["matter_code"] == "51201400600004"
    assert b["status"] == "booked"
    q = live.http.get("/api/v1/street-queue/营门口街道", headers=live.staff_headers).json()
    assert number in [x["number"] for x in q["bookings"]]
    # the conversation transcript staff may read is masked
    conv = live.app.state.services.conversations.transcript(sid)
    assert not any("13812345678" in ln["text"] for ln in conv)
    r = live.chat(sid, f"{number} 查询")
    assert r["intent"] == "booking_status" and number in all_text(r)
    r = live.chat(sid, "我约的上门办现在啥情况")
    assert r["intent"] == "booking_status" and number in all_text(r) and "等待街道确认" in all_text(r)
    r = live.chat(sid, "把预约改到下周三下午")
    assert r["intent"] == "change_booking" and "已改好" in all_text(r)
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert b["half_day"] == "下午"
    r = live.chat(sid, "取消预约")
    assert r["intent"] == "cancel_booking" and f"已取消预约 {number}" in all_text(r)
    # the phone and the house number are kept only in the booking row, not in the stored conversation
    import json

    import sqlalchemy as sa

    from assistant.db.chat import Message

    with live.app.state.services.db.session() as s:
        stored = [(m.text, json.dumps(m.payload, ensure_ascii=False))
                  for m in s.scalars(sa.select(Message).where(Message.session_id == sid))]
    for secret in ("13812345678", "138 1234 5678", "88号5栋"):
        assert stored and not any(secret in t or secret in p for t, p in stored), \
            (secret, [x for x in stored if secret in x[0] or secret in x[1]])
    assert live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()["status"] == "cancelled"


def test_enterprise_policies_fit_the_firm_and_ask_for_missing_facts(live):
    sid = "ps-it-policy-1"
    r = live.chat(sid, "我们是做餐饮的小微企业，有啥子扶持政策")
    text = all_text(r)
    assert r["intent"] == "ask_policy"
    assert "小型微利企业所得税优惠" in text and "餐饮" in text
    assert "成立（注册）几年了" in text and "是不是在金牛区注册" in text
    assert "科技型中小企业" not in text
    r = live.chat(sid, "公司开了快两年，就在金牛区")
    text = all_text(r)
    assert "餐饮消费促进活动补贴" in text.split("还有几项")[0]     # now it fits outright
    assert "成立约2年" in text and "方便的话告诉我" not in text


def test_material_precheck_in_chat(live):
    sid = "ps-it-precheck-1"
    r = live.chat(sid, "我带了身份证和租房合同，办个体户还差啥")
    assert r["intent"] == "precheck_materials"
    [cl] = parts(r, "checklist")
    assert cl["matter"]["name"] == "个体工商户设立登记"
    status = {i["name"]: i["status"] for i in cl["items"]}
    assert status["经营者居民身份证"] == "have" and status["经营场所使用证明"] == "partial"
    assert status["个体工商户登记（备案）申请书"] == "missing"
    assert "房产证" in all_text(r)


def test_licence_type_named_in_the_request_is_not_asked_again(live):
    sid = "ps-it-licence-2"
    r = live.chat(sid, "我想给我的烟草证设个到期提醒")
    assert r["intent"] == "register_licence"
    assert "帮您登记「烟草专卖零售许可证」" in all_text(r) and "编号" in all_text(r)
    r = live.chat(sid, "许可证号 5101 0610 7788")
    assert "持证人" in all_text(r)
    r = live.chat(sid, "取消")
    assert "这次不登记了" in all_text(r)


def test_booking_asks_the_matter_when_the_request_does_not_name_it(live):
    sid = "ps-it-visit-2"
    r = live.chat(sid, "屋头老人家出不了门，工作人员能上门办不")
    assert r["intent"] == "book_home_visit"
    for text in ("李桂兰，91岁", "028-87654321", "九里堤中路1号2栋3单元4号"):
        r = live.chat(sid, text)
    assert "办理什么事" in all_text(r)                # 九里堤中路 → 九里堤街道, no street question
    r = live.chat(sid, "高龄津贴申请")
    assert "哪天上午或下午" in all_text(r)
    r = live.chat(sid, "下周四下午")
    number = re.search(BOOKING_NUMBER, all_text(r)).group(0)
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert b["street"] == "九里堤街道" and b["phone"] == "028-87654321"
    assert b["matter_name"] == "80周岁以上老年人高龄津贴发放"


def test_chuanyu_pension_certification_is_answered_from_the_kb(live):
    r = live.chat("ps-it-chuanyu-1", "我妈是重庆的退休工人，在成都能就地认证不")
    cards = parts(r, "matter_card")
    assert cards and cards[0]["matter"]["code"] == "JN-RS-001"


def test_another_conversation_cannot_read_or_cancel_a_booking_by_its_number(live):
    """Issue 11: typing another booking's number in any conversation used to show it and cancel it."""
    from datetime import timedelta as _td

    from assistant.dialogue.replies import say
    from assistant.preservice.runtime import get_preservice

    pre = get_preservice(live.app.state.services)
    b = pre.bookings.create(person_name="张婆婆（90岁）", phone="13700001111", address="金牛区抚琴西南路5号",
                            street="抚琴街道", matter_name="80周岁以上老年人高龄津贴发放",
                            visit_date=today_local() + _td(days=9), half_day="上午", session_id="ps-it-owner-9")
    for text in (f"{b.number} 查询", f"取消预约 {b.number}"):
        r = live.chat("ps-it-stranger-9", text)
        assert r["intent"] in {"booking_status", "cancel_booking"}, r["intent"]
        assert say("preservice.booking.not_found", number=b.number) in all_text(r)
        assert "抚琴" not in all_text(r) and "高龄" not in all_text(r)
    staff = live.http.get(f"/api/v1/bookings/{b.number}", headers=live.staff_headers).json()
    assert staff["status"] == "booked"


def test_a_request_for_a_matter_where_a_name_was_asked_is_what_the_visit_is_for(live):
    sid = "ps-it-visit-3"
    r = live.chat(sid, "老人出不了门，可以上门办不")
    assert r["intent"] == "book_home_visit"
    r = live.chat(sid, "给她办高龄津贴")  # not a name: what the visit is for
    assert "80周岁以上老年人高龄津贴发放" in all_text(r) and "姓名" in all_text(r)
    for text in ("张秀芳，86岁，腿脚不便", "13900001111", "金牛区营门口路12号3栋1单元2号"):
        r = live.chat(sid, text)
    assert "办理什么事" not in all_text(r) and "哪天上午或下午" in all_text(r)
    r = live.chat(sid, "下周五上午")
    number = re.search(BOOKING_NUMBER, all_text(r)).group(0)
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert b["person_name"].startswith("张") and b["matter_name"] == "80周岁以上老年人高龄津贴发放"


def test_questions_inside_the_forms_are_answered_and_the_form_asks_again(live):
    sid = "ps-it-digress-1"
    live.chat(sid, "帮我预约上门办")
    r = live.chat(sid, "哪些人能申请上门")  # about the service: its card, not the name
    assert r["matter"]["name"].startswith("上门办服务预约") and "姓名" in all_text(r)
    live.chat(sid, "王建国，腿断了")
    r = live.chat(sid, "在哪办")  # where the phone number was asked: a question, not a number
    assert "号码好像不对" not in all_text(r) and "联系电话" in all_text(r)
    sid = "ps-it-digress-2"
    live.chat(sid, "证照快到期了帮我登记个提醒")
    r = live.chat(sid, "需要身份证不")  # where the licence was asked: no licence type
    assert "不在金牛区许可延续提示清单里" not in all_text(r) and "哪种证照" in all_text(r)
    r = live.chat(sid, "食品经营许可证可以不")  # the answer, asked as a question
    assert "编号" in all_text(r)
    sid = "ps-it-digress-3"
    live.chat(sid, "我想登记营业执照到期提醒")
    r = live.chat(sid, "营业执照到期了会怎样")  # asked with «怎样»: no licence type called so
    assert "不在金牛区许可延续提示清单里" not in all_text(r) and "哪种证照" in all_text(r)


def test_another_questions_answer_fills_that_question_and_the_form_asks_again(live):
    # a date where the holder was asked is the expiry (not a holder called «2027年3月1日»), and it is not asked again
    sid = "ps-it-other-1"
    for text in ("登记证照到期提醒", "食品经营许可证", "JY15101060012345"):
        r = live.chat(sid, text)
    assert "持证人" in all_text(r)
    r = live.chat(sid, _future(40))
    assert "先记下了" in all_text(r) and "持证人" in all_text(r)
    r = live.chat(sid, "蓉城小面馆")
    assert "有效期" not in all_text(r) and "收到提醒" in all_text(r)
    # a half-day where the visit's matter was asked is the visit's time
    sid = "ps-it-other-2"
    for text in ("帮我约个上门办", "王淑芬，88岁，走不动", "13800138000", "金牛区营门口路12号3栋1单元2号"):
        r = live.chat(sid, text)
    assert "办理什么事" in all_text(r)
    r = live.chat(sid, "下周二上午")
    assert "先记下了" in all_text(r) and "办理什么事" in all_text(r)
    r = live.chat(sid, "养老金资格认证")
    number = re.search(BOOKING_NUMBER, all_text(r)).group(0)  # (the time is not asked again)
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert b["matter_name"].startswith("养老保险") and b["half_day"] == "上午"
    # a half-day that cannot be taken (a Saturday) where the matter was asked: told why, stored as neither
    sid = "ps-it-other-3"
    for text in ("帮我约个上门办", "王淑芬，88岁，走不动", "13800138000", "金牛区营门口路12号3栋1单元2号"):
        r = live.chat(sid, text)
    saturday = today_local() + timedelta(days=(5 - today_local().weekday()) % 7 or 7)
    r = live.chat(sid, f"{saturday.month}月{saturday.day}日上午")
    assert "周末" in all_text(r) and "办理什么事" in all_text(r)
    r = live.chat(sid, "养老金资格认证")
    assert "哪天" in all_text(r) and not re.search(BOOKING_NUMBER, all_text(r))


def test_who_may_have_a_visit_asked_inside_the_booking_is_the_services_conditions(live):
    sid = "ps-it-digress-who"
    live.chat(sid, "屋头老人想预约上门办")
    r = live.chat(sid, "要啥条件")  # (was the card of 公共租赁住房申请资格审核认定, found by 条件 alone)
    assert r["matter"]["name"].startswith("上门办服务预约") and "姓名" in all_text(r), r


def test_a_yes_with_the_request_again_where_the_name_was_asked_is_no_name(live):
    sid = "ps-it-visit-yes"
    live.chat(sid, "帮我约个上门办")
    r = live.chat(sid, "好的你帮我约吧")  # (was kept as the person's name: the phone number was asked next)
    assert "联系电话" not in all_text(r) and "姓名" in all_text(r), r


def test_the_fee_of_the_visit_asked_inside_the_booking_is_answered(live):
    sid = "ps-it-digress-fee"
    live.chat(sid, "帮我约个上门办")
    r = live.chat(sid, "上门要钱不")
    assert r["intent"] == "ask_fee" and "收费" in all_text(r) and "姓名" in all_text(r)


def test_a_forms_opening_is_said_once_not_with_every_question_asked_again(live):
    """«好的，帮您预约「上门办」（随时回复「取消」可以退出）» opens the booking once; after a question in between or
    an answer that is no name, only the question is asked again (the opening used to come again, after «好的，我们
    接着登记（随时回复「取消」可以退出）：»)."""
    sid = "ps-it-opening-1"
    r = live.chat(sid, "帮我约个上门办")
    assert all_text(r).count("帮您预约「上门办」") == 1 and "为谁办理" in all_text(r)
    r = live.chat(sid, "上门要钱不")
    assert "我们接着登记" in all_text(r) and "为谁办理" in all_text(r) and "帮您预约" not in all_text(r)
    r = live.chat(sid, "12")
    assert "核对被服务人的身份" in all_text(r) and "为谁办理" in all_text(r) and "帮您预约" not in all_text(r)
    sid = "ps-it-opening-2"
    r = live.chat(sid, "登记证照到期提醒")
    assert "帮您登记证照到期提醒" in all_text(r) and "哪种证照" in all_text(r)
    r = live.chat(sid, "驾驶证")
    assert "不在金牛区许可延续提示清单里" in all_text(r) and "哪种证照" in all_text(r) and "帮您登记" not in all_text(r)


def test_who_without_a_name_is_asked_again_and_a_name_told_later_puts_it_right(live):
    sid = "ps-it-kin-1"
    live.chat(sid, "帮我约个上门办")
    r = live.chat(sid, "我妈")  # who, not a name
    assert "姓名" in all_text(r) and "电话" not in all_text(r)
    live.chat(sid, "王阿姨")
    r = live.chat(sid, "她叫李兰，腿不好")  # where the phone was asked: the name put right
    assert "先记下了" in all_text(r) and "号码好像不对" not in all_text(r) and "电话" in all_text(r)
    r = live.chat(sid, "她的电话我不知道")  # whose phone will do, not «号码不对»
    assert "家属的电话" in all_text(r) and "号码好像不对" not in all_text(r) and "电话" in all_text(r)
    for text in ("13800138000", "金牛区营门口路12号3栋1单元2号", "养老金资格认证"):
        r = live.chat(sid, text)
    r = live.chat(sid, "下周二上午")
    number = re.search(BOOKING_NUMBER, all_text(r)).group(0)
    b = live.http.get(f"/api/v1/bookings/{number}", headers=live.staff_headers).json()
    assert "李兰" in b["person_name"]


def test_a_question_about_one_of_the_forms_questions_is_answered_and_the_form_asks_again(live):
    sid = "ps-it-field-1"
    live.chat(sid, "预约上门办")
    live.chat(sid, "王大明，中风了")
    r = live.chat(sid, "电话可以不留吗")  # (the hall's phone number)
    assert "上门前会先打这个电话" in all_text(r) and "联系电话是多少" in all_text(r)
    live.chat(sid, "13812345678")
    r = live.chat(sid, "地址要写多详细")  # (kept as the address: «这个地址属于哪个街道»)
    assert "门牌号" in all_text(r) and "属于哪个街道" not in all_text(r) and "详细地址" in all_text(r)
    sid = "ps-it-field-2"
    for text in ("登记证照提醒", "食品经营许可证"):
        live.chat(sid, text)
    r = live.chat(sid, "编号在哪里看")  # (the hall's address)
    assert "证照正本" in all_text(r) and "编号" in all_text(r)
    assert "持证人" in all_text(live.chat(sid, "JY15101060012345"))


def test_a_home_visit_booked_in_a_conversation_about_a_matter_is_for_that_matter(live):
    sid = "ps-it-visit-matter-1"
    live.chat(sid, "我爸82了想办高龄津贴")
    for text in ("预约上门办", "王建华", "13800001111"):
        live.chat(sid, text)
    r = live.chat(sid, "金牛区营康西路12号3栋2单元501")  # (it asked «要上门办理什么事»)
    assert "办理什么事" not in all_text(r) and "哪天上午或下午" in all_text(r)
    r = live.chat(sid, "你们什么时候能来")  # (the matter's time limits)
    assert "按半天约" in all_text(r) and "哪天上午或下午" in all_text(r)
    sid = "ps-it-visit-matter-2"
    live.chat(sid, "预约上门办")
    r = live.chat(sid, "要提前好久约")  # (not a name: «需要他（她）的姓名»)
    assert "按半天约" in all_text(r) and "为谁办理" in all_text(r)
    sid = "ps-it-visit-complaint-1"
    for text in ("预约上门办", "王建华"):
        live.chat(sid, text)
    r = live.chat(sid, "上次约了没人来，我要投诉")  # (read as the phone number: «这个电话号码好像不对»)
    assert r["intent"] == "complain" and "12345" in all_text(r) and "电话号码好像不对" not in all_text(r)


def test_whether_someone_else_may_do_it_asked_while_booking_is_answered_and_never_kept(live):
    sid = "ps-it-by-another-1"
    live.chat(sid, "高龄津贴")
    live.chat(sid, "我妈走不动了，能上门办不")
    r = live.chat(sid, "可以让我儿子代办吗")  # (the card of 金帮办帮办代办服务)
    assert "子女或亲属" in all_text(r) and "为谁办理" in all_text(r)
    sid = "ps-it-by-another-2"
    live.chat(sid, "预约上门办")
    r = live.chat(sid, "我老公帮我办行不")  # (kept as the person's name: «联系电话是多少»)
    assert "为谁办理" in all_text(r) and "联系电话" not in all_text(r)


def test_a_button_of_an_answer_given_inside_the_form_is_that_answer_never_the_name(live):
    sid = "ps-it-click-1"
    live.chat(sid, "我妈瘫痪在床")  # (the home-visit form: who is it for)
    live.chat(sid, "她的高龄津贴咋办")  # (its card, then the form asks again)
    r = live.chat(sid, '/ask_materials{"matter": "512B0003600037"}')  # («材料清单»: kept as the name)
    assert "需要准备这些材料" in all_text(r) and "为谁办理" in all_text(r) and "联系电话" not in all_text(r)


def test_a_matter_named_where_the_phone_was_asked_is_the_visits_matter_not_a_wrong_number(live):
    sid = "ps-it-phone-matter-1"
    live.chat(sid, "我想预约上门办")
    live.chat(sid, "我爸80多了走不动")
    r = live.chat(sid, "他的养老金认证")  # («这个电话号码好像不对»)
    assert "号码好像不对" not in all_text(r) and "养老保险定期待遇领取资格认证" in all_text(r)
    assert "联系电话" in all_text(r)


def test_a_reminder_asked_in_a_conversation_about_a_renewal_is_for_that_licence(live):
    sid = "ps-it-remind-matter-1"
    live.chat(sid, "我们店的食品经营许可证快到期了")
    r = live.chat(sid, "提醒我一下")  # (it asked which licence)
    assert "食品经营许可证" in all_text(r) and "编号" in all_text(r) and "哪种证照" not in all_text(r)


def test_a_phone_put_right_where_the_address_was_asked_replaces_the_phone_not_the_address(live):
    sid = "ps-it-put-right-1"
    for text in ("预约上门办", "刘桂芳，90岁卧床", "13912345678"):
        live.chat(sid, text)
    r = live.chat(sid, "电话写错了，是13912345679")  # (kept as the address: «这个地址属于哪个街道»)
    assert "记下了" in all_text(r) and "详细地址" in all_text(r) and "哪个街道" not in all_text(r)
    for text in ("金牛区抚琴街道西街5号", "高龄津贴"):
        live.chat(sid, text)
    r = live.chat(sid, "下周一上午")
    assert "预约成功" in all_text(r) and "139****5679" in all_text(r), all_text(r)


def test_a_booking_asked_for_after_the_home_visit_card_starts_the_booking(live):
    sid = "ps-it-book-it-1"
    live.chat(sid, "上门办要收费吗")
    r = live.chat(sid, "那帮我约一个")  # (the card of 上门办服务预约 again)
    assert "为谁办理" in all_text(r), all_text(r)


def test_a_phone_said_to_be_wrong_first_where_the_matter_was_asked_is_no_matter(live):
    sid = "ps-it-put-right-2"
    for text in ("预约上门办", "陈德明，90岁卧床", "18900001234", "金牛区营门口路5号"):
        live.chat(sid, text)
    r = live.chat(sid, "不对，电话是18900001235")  # (booked as the matter «不对,电话是18900001235»)
    assert "记下了" in all_text(r) and "办理什么事" in all_text(r) and "预约成功" not in all_text(r), all_text(r)
    live.chat(sid, "养老金认证")
    r = live.chat(sid, "下周一上午")
    assert "预约成功" in all_text(r) and "189****1235" in all_text(r) and "养老" in all_text(r), all_text(r)


def test_a_half_day_where_the_address_was_asked_is_noted_and_words_with_no_address_are_asked_again(live):
    sid = "ps-it-address-1"
    for text in ("预约上门办", "李淑芬，85岁腿摔断了", "13988887777"):
        live.chat(sid, text)
    r = live.chat(sid, "我想约下周二下午")  # (kept as the address: «这个地址属于哪个街道»)
    assert "记下了" in all_text(r) and "地址" in all_text(r) and "哪个街道" not in all_text(r), all_text(r)
    r = live.chat(sid, "就在我家")  # (kept as the address too)
    assert "详细地址" in all_text(r) and "哪个街道" not in all_text(r), all_text(r)
    live.chat(sid, "金牛区营门口路8号")
    r = live.chat(sid, "养老金认证")  # (the half-day told before is not asked again)
    assert "预约成功" in all_text(r) and "下午" in all_text(r), all_text(r)


def test_a_question_after_one_about_a_forms_own_question_is_no_question_about_the_hall(live):
    sid = "ps-it-field-then-1"
    for text in ("帮我约个上门办", "我爸88岁，叫王德福"):
        live.chat(sid, text)
    r = live.chat(sid, "他耳朵不好，电话打我的行不")  # (read as the hall's phone; the form's phone answers it)
    assert "家属的电话" in all_text(r), all_text(r)
    for text in ("13812345678", "地址是金牛区茶店子路12号"):
        live.chat(sid, text)
    r = live.chat(sid, "上门要带啥")  # (the hall's 帮办代办, as if the phone question had been the hall's)
    assert "需要准备这些材料" in all_text(r) and "帮办代办：" not in all_text(r), all_text(r)
    assert "要上门办理什么事" in all_text(r)


def test_a_licences_number_put_right_later_replaces_it_and_the_reminders_charge_is_answered(live):
    sid = "ps-it-licence-put-right-1"
    live.chat(sid, "烟草证到期提醒我")
    r = live.chat(sid, "这个要钱不")  # («您想问哪个事项收不收费？»)
    assert "提醒不收费" in all_text(r) and "编号" in all_text(r), all_text(r)
    for text in ("510106107788", "张三便利店"):
        live.chat(sid, text)
    r = live.chat(sid, "不对，编号是510106107799")  # (not understood as the expiry date)
    assert "记下了" in all_text(r) and "有效期" in all_text(r), all_text(r)
    live.chat(sid, _future(200))
    r = live.chat(sid, "就在这个对话里")
    assert "已登记" in all_text(r) and "510106107799" in all_text(r), all_text(r)


def test_a_request_said_where_the_name_was_asked_is_no_name(live):
    sid = "ps-it-wish-1"
    live.chat(sid, "我爸瘫痪在床，想办高龄津贴，能上门不")
    for text in ("帮我预约上门办", "想改个时间"):  # (kept as his name; the phone asked next)
        r = live.chat(sid, text)
        assert "姓名" in all_text(r) and "电话" not in all_text(r), (text, all_text(r))
    r = live.chat(sid, "王德福，86岁，瘫痪在床")
    assert "电话" in all_text(r)


def test_a_visit_booked_already_is_asked_about_not_booked_again(live):
    sid = "ps-it-own-1"
    r = live.chat(sid, "我约的上门办")  # (a new booking: «请问为谁办理»)
    assert r["intent"] == "booking_status" and "预约号" in all_text(r) and "为谁办理" not in all_text(r), r


def test_a_tag_question_and_a_day_asked_while_booking_are_answered_and_never_kept(live):
    sid = "ps-it-tag-1"
    live.chat(sid, "帮我约个上门办")
    r = live.chat(sid, "周三上午可以不")  # («您想问哪个事项要多久？»)
    assert "按半天约" in all_text(r) and "姓名" in all_text(r), all_text(r)
    live.chat(sid, "陈淑芬，92岁")
    r = live.chat(sid, "你们上门是免费的吧")  # (taken for a phone number: «这个电话号码好像不对»)
    assert "号码好像不对" not in all_text(r) and "电话" in all_text(r), all_text(r)
