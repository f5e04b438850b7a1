"""The login page and the shared shell in real Chromium: log in, the nav bar, log out, anonymous redirect."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_login_nav_and_logout(staff_server, staff_user, page_factory, staff_browser_login):
    login = staff_user("street", "营门口街道")
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # anonymous: /staff sends the visitor to the login page
    page.goto(staff_server.url + "/staff")
    page.wait_for_url("**/staff/login?next=/staff")

    # a wrong password says so and stays on the page
    page.get_by_label("用户名").fill(login.username)
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    page.locator("#login-error").wait_for(state="visible")
    assert "不正确" in page.locator("#login-error").inner_text()

    staff_browser_login(page, staff_server.url, login)
    nav = page.locator("#jxe-nav")
    for name in ("工单", "待学习", "办事指南", "数据看板", "预服务"):
        assert nav.get_by_role("link", name=name).count() == 1
    nav.locator(".who").filter(has_text=login.username).wait_for()
    assert "营门口街道" in nav.locator(".who").inner_text()
    assert page.get_by_role("link", name="工单").get_attribute("aria-current") == "page"

    nav.get_by_role("button", name="退出").click()
    page.wait_for_url("**/staff/login")
    page.goto(staff_server.url + "/staff")
    page.wait_for_url("**/staff/login?next=/staff")
    assert errors == []
    assert page.evaluate("window.__csp") == []
