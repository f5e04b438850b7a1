"""The web chat page in real headless Chromium (Playwright driving /usr/bin/chromium) against a live app.

Rasa is down here, so the page renders the knowledge-search fallback: a notice, a matter card, buttons.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.conftest import ARTIFACTS, free_port
from tests.staff.conftest import page_factory  # noqa: F401 - the one Chromium page fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(make_settings, kb, nlu):
    import uvicorn

    from assistant.app import create_app

    port = free_port()
    settings = make_settings(port=port, staff_token="browser-token")
    app = create_app(settings, kb=kb, nlu=nlu)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_citizen_types_a_question_and_sees_a_matter_card(live_app, page_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    page = page_factory(viewport={"width": 390, "height": 844}, device_scale_factor=1, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_app + "/")
    assert "金小二" in page.title()

    box = page.get_by_label("输入您的问题")
    box.fill("我想办个体户营业执照")
    box.press("Enter")
    card = page.locator("section.card").first
    card.wait_for(timeout=20_000)
    assert "个体工商户" in card.inner_text()
    assert page.locator(".notice").first.inner_text().startswith("智能导办暂时不可用")
    # fits a phone-width screen: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "web-chat-matter-card.png"), full_page=True)

    # clicking a button sends its payload: the checklist appears
    page.get_by_role("button", name="材料清单").last.click()
    page.locator("section.checklist").first.wait_for(timeout=20_000)
    assert page.locator("section.checklist li").count() >= 1

    # keyboard: Tab reaches the send button, and the buttons are real <button>s
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"
    page.screenshot(path=str(ARTIFACTS / "web-chat-checklist.png"), full_page=True)
    assert errors == []
    assert page.evaluate("window.__csp") == []  # the page works under its CSP without tripping it


def test_the_page_is_served_under_a_csp_that_chromium_enforces(live_app, page_factory):
    page = page_factory()
    response = page.goto(live_app + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # markup that slipped into the page could not run script: inline scripts and handlers are blocked
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
        document.body.appendChild(s);
        const i = document.createElement('img'); i.setAttribute('onerror', 'window.__handler = 1'); i.src = '/no-such-image.png';
        document.body.appendChild(i);
    }""")
    page.wait_for_function("window.__csp.length >= 2")
    assert page.evaluate("window.__inline") is None and page.evaluate("window.__handler") is None
    assert all(v.startswith("script-src") for v in page.evaluate("window.__csp"))


def test_page_escapes_everything_and_shows_staff_messages(live_app, page_factory):
    page = page_factory(viewport={"width": 390, "height": 844})
    page.goto(live_app + "/")
    hostile = '<img src=x onerror="window.__pwned=1"><b>粗体</b>'
    page.get_by_label("输入您的问题").fill(hostile)
    page.get_by_role("button", name="发送").click()
    page.locator(".row.bot").nth(1).wait_for(timeout=20_000)
    assert page.locator(".row.user .bubble").last.inner_text() == hostile
    assert page.locator("#log img").count() == 0 and page.locator("#log b").count() == 0
    assert page.evaluate("window.__pwned") is None

    # hand off, then a staff reply (also hostile markup) arrives through polling
    page.get_by_role("button", name="转人工").last.click()
    page.locator(".handoff").first.wait_for(timeout=20_000)
    sid = page.evaluate("localStorage.getItem('jxe_session')")
    staff = {"Authorization": "Bearer browser-token"}
    tickets = httpx.get(f"{live_app}/api/v1/handoffs?status=open", headers=staff).json()["tickets"]
    ticket = next(t for t in tickets if t["session_id"] == sid)
    r = httpx.post(f"{live_app}/api/v1/handoffs/{ticket['id']}/reply", headers=staff,
                   json={"text": "您好，我是王老师<script>window.__pwned=2</script>", "staff_name": "王老师"})
    assert r.status_code == 200
    staff_bubble = page.locator(".bubble.staff").first
    staff_bubble.wait_for(timeout=15_000)
    assert "王老师" in staff_bubble.inner_text() and "<script>" in staff_bubble.inner_text()
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(ARTIFACTS / "web-chat-staff-reply.png"), full_page=True)

    # the helper closes the ticket: the page says so; a reload still shows the helper's message
    assert httpx.post(f"{live_app}/api/v1/handoffs/{ticket['id']}/close", headers=staff).status_code == 200
    page.get_by_text("本次人工服务已结束").wait_for(timeout=15_000)
    page.reload()
    page.locator(".bubble.staff").first.wait_for(timeout=15_000)
    assert page.evaluate("window.__csp") == []


def test_web_chat_page_holds_a_conversation_with_the_real_rasa(live, page_factory):
    """The web chat page against the whole stack (app + the real Rasa server, ``live``), with held-out phrasings
    (tests/data/heldout_intents.yml): a question → the matter card (no degraded notice), a follow-up about the
    materials → the checklist, asking for a person → the handoff ticket, which staff see."""
    page = page_factory(viewport={"width": 390, "height": 844}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.url + "/")
    box = page.get_by_label("输入您的问题")

    def say(text: str) -> dict:
        """Type ``text`` and send it; the chat API's JSON answer (as the page received it)."""
        box.fill(text)
        with page.expect_response(lambda r: r.url.endswith("/api/v1/chat") and r.request.method == "POST",
                                  timeout=120_000) as answer:
            box.press("Enter")
        return answer.value.json()

    first = say("我要办理失业登记")
    assert first["degraded"] is False  # answered by Rasa, not the fallback
    card = page.locator("section.card").first
    card.wait_for(timeout=30_000)
    assert "失业登记" in card.inner_text() and first["matter"]["name"] in card.inner_text()

    second = say("都要准备哪些证件")
    assert second["degraded"] is False and second["matter"]["code"] == first["matter"]["code"]
    page.locator("section.checklist").first.wait_for(timeout=30_000)
    assert page.locator("section.checklist li").count() >= 1

    third = say("我想跟真人说话")
    assert third["degraded"] is False and third["handoff"]["status"] == "open"
    page.locator(".handoff").first.wait_for(timeout=30_000)
    session = page.evaluate("localStorage.getItem('jxe_session')")
    tickets = live.http.get("/api/v1/handoffs?status=open", headers=live.staff_headers).json()["tickets"]
    assert [t["id"] for t in tickets if t["session_id"] == session] == [third["handoff"]["id"]]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-real-rasa.png"), full_page=True)
    assert errors == [] and page.evaluate("window.__csp") == []


def test_the_page_keeps_its_token_and_starts_over_when_the_server_refuses_it(live_app, page_factory):
    """The page sends its conversation's session token; a conversation it holds no token for (one from before the
    tokens, or another browser's id planted in its storage) is refused by the server, and the page starts a new
    conversation instead of failing."""
    taken = httpx.post(f"{live_app}/api/v1/chat", json={"session_id": "web-someone-else-0001", "text": "你好"})
    assert taken.status_code == 200 and taken.json()["session_token"]
    page = page_factory(viewport={"width": 390, "height": 844})
    page.goto(live_app + "/")
    page.evaluate("localStorage.setItem('jxe_session', 'web-someone-else-0001'); "
                  "localStorage.removeItem('jxe_session_token')")
    page.reload()
    page.get_by_label("输入您的问题").fill("社保卡丢了咋个补办")
    page.get_by_label("输入您的问题").press("Enter")
    page.get_by_text("之前的对话已经结束，已为您开始新的对话。").wait_for(timeout=20_000)
    page.locator("section.card, .row.bot .bubble").nth(1).wait_for(timeout=20_000)
    sid = page.evaluate("localStorage.getItem('jxe_session')")
    token = page.evaluate("localStorage.getItem('jxe_session_token')")
    assert sid != "web-someone-else-0001" and sid.startswith("web-") and token and len(token) >= 32
    # the token it kept is the new conversation's: the messages API answers it, and nobody without it
    ok = httpx.get(f"{live_app}/api/v1/chat/{sid}/messages", headers={"X-Session-Token": token})
    assert ok.status_code == 200
    assert httpx.get(f"{live_app}/api/v1/chat/{sid}/messages").status_code == 401
    assert page.evaluate("window.__csp") == []
