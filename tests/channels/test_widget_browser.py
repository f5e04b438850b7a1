"""The one-tag widget in headless Chromium: a plain HTML page on one origin, the app on another (CORS limited
to the page's origin), a conversation with rich parts, escaping, feedback, a staff reply after a handoff,
keyboard use, a phone-width screenshot under artifacts/."""

from __future__ import annotations

import functools
import http.server
import threading
import time

import pytest
from sqlalchemy import select

from assistant.db.feedback import Feedback
from tests.conftest import ARTIFACTS, free_port

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
def served(channel_app, tmp_path):
    """(page_url, api_url, services): the app under uvicorn and a host page on a second origin."""
    import uvicorn

    page_port, api_port = free_port(), free_port()
    page_origin, api = f"http://127.0.0.1:{page_port}", f"http://127.0.0.1:{api_port}"
    app, services, _ = channel_app(cors_origins=[page_origin])
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>某街道便民服务中心</title>
<style>button {{ background: rgb(0, 170, 0) !important; font-size: 30px !important; }}
.log, .card, .bubble {{ display: none !important; }}</style></head>
<body><h1>金牛区某街道便民服务中心</h1><p>一个普通页面，只加了一个 script 标签。</p>
<script src="{api}/widget.js" data-api="{api}" data-title="金小二测试" data-poll-ms="400"></script>
</body></html>""", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *a: None
    site = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning",
                                           lifespan="off"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    for _ in range(600):  # a hang guard (30 s), not a speed check
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the app did not start"
    try:
        yield f"{page_origin}/index.html", api, services
    finally:
        server.should_exit = True
        t.join(10)
        site.shutdown()
        site.server_close()


def test_widget_conversation_in_headless_chromium(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    page_url, api, services = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=1)
        page = ctx.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url)

        bubble = page.locator("#jinxiaoer-widget .bubble")
        expect(bubble).to_be_visible()
        # styles isolated: the host page's `button {…!important}` and `.bubble {display:none}` do not apply
        bg = bubble.evaluate("b => getComputedStyle(b).backgroundColor")
        assert bg == "rgb(200, 16, 46)"

        # keyboard: focus the bubble, Enter opens, focus lands in the input
        bubble.focus()
        page.keyboard.press("Enter")
        panel = page.locator("#jinxiaoer-widget .panel")
        expect(panel).to_be_visible()
        assert page.evaluate("document.getElementById('jinxiaoer-widget').shadowRoot.activeElement.id") == "jxe-input"
        expect(page.locator("#jinxiaoer-widget .msg.bot").first).to_contain_text("金小二")

        # a question whose answer is slow: the typing indicator shows, then the rich answer
        page.keyboard.type("开个小卖部要什么材料，慢慢说")
        page.keyboard.press("Enter")
        expect(page.locator("#jinxiaoer-widget .typing")).to_be_visible()   # the answer is held back …
        assert services.assistant.computing.wait(10)
        services.assistant.gate.set()                                        # … until now
        expect(page.locator("#jinxiaoer-widget .matter-card")).to_be_visible(timeout=10_000)
        expect(page.locator("#jinxiaoer-widget .typing")).to_be_hidden()
        card = page.locator("#jinxiaoer-widget .matter-card")
        expect(card).to_contain_text("个体工商户设立登记")
        expect(card).to_contain_text("仅供参考")
        expect(card.locator("a")).to_have_attribute("href", "https://www.sczwfw.gov.cn/x")
        items = page.locator("#jinxiaoer-widget .checklist li")
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_contain_text("<img src=x onerror=alert(1)>租赁合同")

        # escaping: markup typed by the user comes back as text
        page.locator("#jinxiaoer-widget textarea").fill("<img src=x onerror=window.__xss=1>你好")
        page.keyboard.press("Enter")
        expect(page.locator("#jinxiaoer-widget .msg.bot").last).to_contain_text("收到：<img src=x onerror")
        shadow = "document.getElementById('jinxiaoer-widget').shadowRoot"
        assert page.evaluate(f"{shadow}.querySelectorAll('img').length") == 0
        assert page.evaluate("window.__xss === undefined")

        # 👍 on the matter answer is stored
        page.locator("#jinxiaoer-widget .msg.bot").nth(1).locator(".fb-up").click()
        expect(page.locator("#jinxiaoer-widget .msg.bot").nth(1).locator(".fb")).to_contain_text("谢谢您的反馈")

        # a button → handoff; a staff reply appears in the widget by polling
        page.locator("#jinxiaoer-widget .btns button", has_text="转人工").click()
        expect(page.locator("#jinxiaoer-widget .msg.bot").last).to_contain_text("工单号")
        ticket = services.handoffs.list()[0]
        services.handoffs.reply(ticket.id, "您好，我是李老师，<b>请带身份证</b>到3号窗口。", "金帮办·李老师")
        staff = page.locator("#jinxiaoer-widget .msg.staff")
        expect(staff).to_contain_text("<b>请带身份证</b>", timeout=10_000)
        expect(staff.locator(".who")).to_have_text("金帮办·李老师")

        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))

        # a reload keeps the session: the helper's message is shown again, and a new one arrives by polling
        page.reload()
        page.locator("#jinxiaoer-widget .bubble").click()
        expect(page.locator("#jinxiaoer-widget .msg.staff")).to_contain_text("请带身份证", timeout=10_000)
        services.handoffs.reply(ticket.id, "材料齐了可以直接来。", "金帮办·李老师")
        expect(page.locator("#jinxiaoer-widget .msg.staff")).to_have_count(2, timeout=10_000)
        page.reload()
        page.locator("#jinxiaoer-widget .bubble").click()
        expect(page.locator("#jinxiaoer-widget .msg.staff")).to_have_count(2, timeout=10_000)
        page.locator("#jinxiaoer-widget textarea").fill("开店要带什么材料")
        page.keyboard.press("Enter")
        expect(page.locator("#jinxiaoer-widget .matter-card")).to_be_visible(timeout=10_000)

        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))
        # Escape closes and gives focus back to the bubble; a staff message while closed marks the bubble
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        services.handoffs.reply(ticket.id, "还有问题随时问我。", "金帮办·李老师")
        expect(bubble).to_have_class("bubble unread", timeout=10_000)
        bubble.click()
        expect(page.locator("#jinxiaoer-widget .msg.staff")).to_have_count(3)
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        assert page.evaluate(
            "document.getElementById('jinxiaoer-widget').shadowRoot.activeElement.className").startswith("bubble")
        ctx.close()

    assert dialogs == [] and errors == []
    with services.db.session() as s:
        (fb,) = s.scalars(select(Feedback)).all()
    assert fb.rating == "up" and fb.channel == "widget" and "个体工商户设立登记" in fb.answer_text


def test_widget_on_the_apps_own_demo_page_under_its_csp(served, tmp_path):
    """/widget/demo is served by the app with its Content-Security-Policy (no inline script or style): the widget
    keeps its look (a constructed stylesheet, not an inline <style>) and works, and nothing trips the policy."""
    from playwright.sync_api import expect, sync_playwright

    _, api, _ = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            ctx.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            response = page.goto(f"{api}/widget/demo")
            csp = response.headers["content-security-policy"]
            assert "style-src 'self'" in csp and "unsafe-inline" not in csp
            # the host page's own (aggressive) stylesheet, now a file, still applies to the host page
            assert page.evaluate("getComputedStyle(document.body).maxWidth") == "760px"
            bubble = page.locator("#jinxiaoer-widget .bubble")
            expect(bubble).to_be_visible()
            assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(200, 16, 46)"
            bubble.click()
            page.locator("#jinxiaoer-widget textarea").fill("开个小卖部要什么材料")
            page.keyboard.press("Enter")
            expect(page.locator("#jinxiaoer-widget .matter-card")).to_be_visible(timeout=10_000)
            assert page.evaluate("window.__csp") == [] and errors == []
        finally:
            browser.close()


def test_widget_converses_with_the_real_rasa(live):
    """The widget on the app's own demo page against the whole stack (app + the real Rasa server, ``live``),
    with held-out phrasings: a question → the matter card, asking for a person → the handoff; each answer came
    from Rasa, not the degraded fallback."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live.url}/widget/demo")
            page.locator("#jinxiaoer-widget .bubble").click()
            box = page.locator("#jinxiaoer-widget textarea")

            def say(text: str) -> dict:
                box.fill(text)
                with page.expect_response(lambda r: r.url.endswith("/api/v1/chat") and r.request.method == "POST",
                                          timeout=120_000) as answer:
                    page.keyboard.press("Enter")
                return answer.value.json()

            first = say("我要办理失业登记")
            assert first["degraded"] is False and "失业登记" in first["matter"]["name"]
            expect(page.locator("#jinxiaoer-widget .matter-card")).to_contain_text("失业登记", timeout=30_000)
            human = say("我想跟真人说话")
            assert human["degraded"] is False and human["handoff"]["status"] == "open"
            tickets = live.http.get("/api/v1/handoffs?status=open", headers=live.staff_headers).json()["tickets"]
            assert human["handoff"]["id"] in [t["id"] for t in tickets]
            assert errors == []
        finally:
            browser.close()
