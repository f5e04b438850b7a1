"""The live queue in real Chromium against the real app (Rasa down: the citizen gets the degraded path).

A helper logs in and keeps /staff open; a citizen asks for a human in the web chat; the ticket appears on the open
page without a reload; the helper claims, replies (the citizen sees it), transfers to a street, closes with a
summary; the citizen rates 5. The audit log has the helper's views and actions.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_citizen_handoff_reaches_the_open_queue_and_back(staff_server, staff_user, page_factory,
                                                         staff_browser_login):
    from assistant.db.audit import entries

    services = staff_server.services
    url = staff_server.url
    helper = staff_user("district", None, "agent")
    ARTIFACTS.mkdir(exist_ok=True)

    staff = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    staff.on("pageerror", lambda e: errors.append(str(e)))
    staff_browser_login(staff, url, helper)
    staff.locator("#live.on").wait_for(timeout=30_000)  # the event stream is connected
    staff.evaluate("window.__same_page = 'yes'")  # gone if the page were reloaded

    citizen = page_factory(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(url + "/")
    citizen.get_by_label("输入您的问题").fill("我住营门口街道花照壁社区，想问问居住证咋个办")
    citizen.get_by_role("button", name="发送").click()
    citizen.locator(".row.bot").nth(1).wait_for(timeout=30_000)
    citizen.get_by_role("button", name="转人工").last.click()
    citizen.locator(".handoff").first.wait_for(timeout=30_000)
    sid = citizen.evaluate("localStorage.getItem('jxe_session')")
    ticket = services.handoffs.open_for_session(sid)
    assert ticket is not None

    # the ticket shows up on the open page by itself
    item = staff.locator(f'.ticket[data-id="{ticket.id}"]')
    item.wait_for(timeout=30_000)
    assert staff.evaluate("window.__same_page") == "yes"
    item.click()
    staff.get_by_text(f"工单 #{ticket.id}").first.wait_for()
    transcript = staff.locator(".transcript").inner_text()
    assert "营门口" in transcript and "［按钮］转人工" in transcript
    assert staff.locator(".meta").filter(has_text="社区便民服务站 · 花照壁社区").count() == 1
    staff.get_by_role("button", name="接单", exact=True).click()
    staff.locator(".meta").filter(has_text=f"接单：{helper.username}").wait_for()

    # a canned reply fills the box; the helper writes their own and sends it
    staff.get_by_label("快捷回复").select_option(label="问候")
    assert "金帮办专员" in staff.get_by_label("回复内容").input_value()
    staff.get_by_label("回复内容").fill("您好，我是王老师。居住证请带身份证和租房合同到街道便民服务中心办理。")
    staff.get_by_role("button", name="发送回复").click()
    citizen.locator(".bubble.staff").filter(has_text="王老师").wait_for(timeout=30_000)
    staff.get_by_label("备注内容").fill("群众住花照壁社区")
    staff.get_by_role("button", name="添加备注").click()
    staff.locator(".notes li").filter(has_text="群众住花照壁社区").wait_for()
    staff.evaluate("document.getElementById('detail').scrollTop = 0")
    staff.screenshot(path=str(ARTIFACTS / "staff-queue.png"))

    # transfer to a street: it leaves the helper and lands first in that street's queue
    staff.get_by_label("转办层级").select_option("street")
    staff.get_by_label("转办街道或社区").select_option("营门口街道")
    staff.get_by_role("button", name="转办", exact=True).click()
    staff.locator(".meta").filter(has_text="街道便民服务中心 · 营门口街道").wait_for()
    street = staff_user("street", "营门口街道")
    other = staff_user("street", "茶店子街道")
    q = httpx.get(f"{url}/api/v1/tickets", headers=street.headers(url), trust_env=False).json()["tickets"]
    moved = next(t for t in q if t["id"] == ticket.id)
    assert moved["level"] == "街道便民服务中心" and moved["priority"] == 0 and moved["claimed_by"] is None
    q = httpx.get(f"{url}/api/v1/tickets", headers=other.headers(url), trust_env=False).json()["tickets"]
    assert next(t for t in q if t["id"] == ticket.id)["priority"] == 1

    # close with a summary; the citizen is asked to rate
    staff.get_by_label("结束小结").fill("已告知居住证办理材料和地点，转营门口街道跟进")
    staff.get_by_role("button", name="结束工单").click()
    rating = citizen.get_by_role("group", name="为本次人工服务评分")
    rating.wait_for(timeout=30_000)
    citizen.screenshot(path=str(ARTIFACTS / "citizen-rating.png"))
    rating.get_by_role("button", name="5分").click()
    citizen.get_by_text("感谢您的评价").wait_for(timeout=15_000)
    closed = services.handoffs.get(ticket.id)
    assert closed.status == "closed" and closed.rating == 5 and "居住证" in closed.summary

    actions = {e["action"] for e in entries(services.db, actor=helper.username, limit=500)}
    assert {"ticket.view", "ticket.claim", "ticket.reply", "ticket.note", "ticket.transfer",
            "ticket.close"} <= actions
    assert errors == []
    assert staff.evaluate("window.__csp") == [] and citizen.evaluate("window.__csp") == []

    # the login page for the docs
    login_page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    login_page.goto(url + "/staff/login")
    login_page.screenshot(path=str(ARTIFACTS / "staff-login.png"))
