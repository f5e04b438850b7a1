"""Nobody online: the citizen leaves a phone number in the web chat; an admin sees it masked, reveals it (audited),
and edits the canned replies — real Chromium, the real app."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_callback_from_the_web_chat_and_admin_canned_replies(staff_server, staff_user, page_factory,
                                                            staff_browser_login):
    from assistant.db.audit import entries

    url, services = staff_server.url, staff_server.services
    citizen = page_factory(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(url + "/")
    citizen.get_by_role("button", name="转人工").last.click()
    form = citizen.locator("form.callback")
    form.wait_for(timeout=30_000)  # nobody is online (and maybe it is after hours): a call-back is offered
    assert "没有专员在线" in citizen.locator("#log").inner_text() or "不是专员的工作时间" in citizen.locator(
        "#log").inner_text()
    form.get_by_role("textbox").fill("13912345678")
    form.get_by_role("button", name="请回电").click()
    citizen.get_by_text("139****5678").first.wait_for(timeout=15_000)
    assert "13912345678" not in citizen.locator(".row.bot").last.inner_text()
    ticket = services.handoffs.list(status="open")[0]

    admin = staff_user("district", None, "admin")
    staff = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    staff.on("pageerror", lambda e: errors.append(str(e)))
    staff_browser_login(staff, url, admin)
    item = staff.locator(f'.ticket[data-id="{ticket.id}"]')
    item.wait_for(timeout=30_000)
    assert item.locator(".badge.callback").count() == 1
    item.click()
    staff.get_by_text("139****5678").wait_for(timeout=15_000)
    staff.get_by_role("button", name="显示完整号码").click()
    staff.get_by_text("13912345678").wait_for(timeout=15_000)
    assert ("callback.reveal", f"ticket:{ticket.id}") in [
        (e["action"], e["target"]) for e in entries(services.db, actor=admin.username)]

    # an admin adds a canned reply; it is offered at once
    staff.get_by_role("button", name="编辑快捷回复").click()
    staff.get_by_label("新快捷回复标题").fill("回电说明")
    staff.get_by_label("新快捷回复内容").fill("我们会在30分钟内给您回电。")
    staff.get_by_role("button", name="添加", exact=True).click()
    staff.get_by_label("标题 回电说明").wait_for(timeout=15_000)
    assert any(c["title"] == "回电说明" for c in services.workbench.canned())
    assert errors == []
    assert staff.evaluate("window.__csp") == [] and citizen.evaluate("window.__csp") == []
