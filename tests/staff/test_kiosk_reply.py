"""A helper's reply reaches a citizen at the voice kiosk (real Chromium, the real app): after 找工作人员 the kiosk
asks for the helper's messages and shows them."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser


def test_kiosk_shows_the_helpers_reply(staff_server, page_factory):
    services = staff_server.services
    services.voice_warming = True  # nobody speaks in this test: do not load the speech model
    page = page_factory(viewport={"width": 1080, "height": 1600}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(staff_server.url + "/kiosk")
    page.locator("#helper").click()
    page.locator(".handoff").first.wait_for(timeout=30_000)
    ticket = services.handoffs.list(status="open")[0]  # the only one: this kiosk visitor's
    r = httpx.post(f"{staff_server.url}/api/v1/tickets/{ticket.id}/reply", headers=staff_server.service_headers,
                   json={"text": "您好，请到3号窗口，我在那里等您。", "staff_name": "李老师"}, trust_env=False)
    assert r.status_code == 200, r.text
    page.locator(".reply-text.staff").filter(has_text="3号窗口").wait_for(timeout=30_000)
    assert "李老师" in page.locator(".reply-text.staff").first.inner_text()
    assert errors == []
