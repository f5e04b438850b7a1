"""The live queue with the real Rasa server answering the citizen (the session-wide ``live`` stack): a citizen
says they want a human, the ticket appears on a helper's open /staff page, the helper's reply reaches the
citizen's conversation and Rasa's tracker."""

from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.rasa, pytest.mark.browser]


def test_real_rasa_handoff_appears_live_and_the_reply_reaches_the_citizen(live, staff_user, page_factory,
                                                                          staff_browser_login):
    helper = staff_user("district", target=live.app)
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    staff_browser_login(page, live.url, helper)
    page.locator("#live.on").wait_for(timeout=30_000)

    sid = f"staff-rasa-{uuid.uuid4().hex[:8]}"
    live.chat(sid, "想开个杂货铺子，要办哪些证")
    reply = live.chat(sid, "帮我转接人工服务")
    assert reply["intent"] == "request_human" and not reply["degraded"]
    tid = reply["handoff"]["id"]

    item = page.locator(f'.ticket[data-id="{tid}"]')
    item.wait_for(timeout=30_000)
    item.click()
    page.locator(".card dl").filter(has_text="个体工商户").wait_for(timeout=15_000)  # the matter card
    page.get_by_label("回复内容").fill("您好，我是金帮办专员小王，开杂货铺先办个体工商户登记。")
    page.get_by_role("button", name="发送回复").click()
    page.locator(".msg.staff").filter(has_text="小王").wait_for(timeout=15_000)

    msgs = live.http.get(f"/api/v1/chat/{sid}/messages", params={"after": 0}).json()
    assert [m["text"] for m in msgs["messages"]] == ["您好，我是金帮办专员小王，开杂货铺先办个体工商户登记。"]
    # the conversation goes on with Rasa afterwards
    after = live.chat(sid, "谢谢")
    assert after["intent"] == "thanks" and not after["degraded"]
    assert errors == []
