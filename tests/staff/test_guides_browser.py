"""/staff/guides in real headless Chromium: an admin adds a material to a guide and the next citizen answer (chat
API and the citizen's checklist card on the web chat page) shows it without a restart; a reverted guide answers as
before; validation errors are shown in the form and nothing is saved; an import with a bad row reports that row and
imports the rest."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.conftest import ARTIFACTS, free_port
from tests.live_stack import parts

pytestmark = pytest.mark.browser
REJECTION_PROBE = ("window.__rejected = []; window.addEventListener('unhandledrejection', "
                   "e => window.__rejected.push(String(e.reason)));")
TOKEN = "guides-browser-service-token"
CODE = "JN-GJJ-002"
QUESTION = "租房提取公积金要带啥子材料"
NEW = "社保缴费证明（近6个月）"


@pytest.fixture
def server(make_settings, kb, nlu):
    import uvicorn

    from assistant.app import create_app

    port = free_port()
    app = create_app(make_settings(port=port, staff_token=TOKEN, guide_sync_s=0.5), kb=kb, nlu=nlu)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)


def _admin_page(page_factory, staff_user, staff_browser_login, app, url):
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page.add_init_script(REJECTION_PROBE)
    staff_browser_login(page, url, staff_user(level="district", role="admin", target=app), "/staff/guides")
    return page


def _checklist(url: str, session: str) -> list[str]:
    r = httpx.post(url + "/api/v1/chat", json={"session_id": session, "text": QUESTION}, timeout=60, trust_env=False)
    assert r.status_code == 200, r.text
    lists = parts(r.json(), "checklist")
    assert r.json()["matter"]["code"] == CODE and lists, r.json()
    return [i["name"] for i in lists[0]["items"]]


def test_admin_edits_a_guide_and_the_next_answer_shows_it(server, page_factory, staff_user, staff_browser_login,
                                                           tmp_path):
    app, url = server
    before = _checklist(url, "gb-before")
    page = _admin_page(page_factory, staff_user, staff_browser_login, app, url)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # search and open the matter (logged in through /staff/login as an admin account: cookie + CSRF)
    assert page.locator(".jxe-nav a[aria-current='page']").inner_text() == "办事指南"
    page.get_by_label("查找事项").fill("租房提取公积金")
    page.get_by_label("查找事项").press("Enter")
    page.locator(f".results button[data-code='{CODE}']").click()
    page.locator("#ed-title").wait_for()
    assert page.locator("#ed-title").inner_text() == "住房公积金提取（租房）"
    assert page.locator("#materials tbody tr").count() == len(before)

    # add a material and save
    page.get_by_role("button", name="＋ 添加材料").click()
    row = page.locator("#materials tbody tr").last
    row.get_by_label("材料名称").fill(NEW)
    row.get_by_label("形式").select_option("复印件")
    row.get_by_label("份数").fill("2")
    page.get_by_role("button", name="保存修改").click()
    page.locator("#saved").wait_for()
    assert "已生效" in page.locator("#saved").inner_text()
    assert page.locator("#ed-edited").is_visible()

    # the next citizen answer has it: the chat API and the checklist card of the citizen's chat page
    assert _checklist(url, "gb-after") == before + [NEW]
    citizen = page_factory(viewport={"width": 390, "height": 844}, locale="zh-CN")
    citizen.goto(url + "/")
    box = citizen.get_by_label("输入您的问题")
    box.fill(QUESTION)
    box.press("Enter")
    card = citizen.locator("section.checklist").first
    card.wait_for(timeout=30_000)
    assert NEW in card.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    citizen.screenshot(path=str(ARTIFACTS / "staff-guides-citizen-checklist.png"), full_page=True)

    # a bad edit: the errors are shown in the form, the fields marked, nothing saved
    revision = app.state.services.guidebook.store.revision()
    row = page.locator("#materials tbody tr").first
    row.get_by_label("份数").fill("-1")
    page.locator("#f-related").fill("NO-SUCH-CODE")
    page.get_by_role("button", name="保存修改").click()
    page.locator("#errors").wait_for()
    text = page.locator("#errors").inner_text()
    assert "没有通过校验" in text and "份数" in text
    assert "invalid" in (row.get_by_label("份数").get_attribute("class") or "")
    assert app.state.services.guidebook.store.revision() == revision
    assert _checklist(url, "gb-bad") == before + [NEW]
    page.get_by_role("button", name="放弃修改").click()
    page.locator("#errors").wait_for(state="hidden")
    page.evaluate("document.querySelector('.guides-main').scrollTop = 0")
    page.screenshot(path=str(ARTIFACTS / "staff-guides.png"))

    # revert to the guide file's version: the old answer is back
    page.get_by_role("button", name="恢复为指南文件版本").click()
    page.locator("#saved").wait_for()
    page.wait_for_function("document.querySelector('#ed-edited').classList.contains('hidden')")
    assert page.locator("#materials tbody tr").count() == len(before)
    assert _checklist(url, "gb-reverted") == before

    # import: one good row, one bad row (copies not a number), one unknown code
    csv_text = ("事项编码,收费,申请材料\n"
                "JN-GJJ-001,不收费（导入测试）,\n"
                f"{CODE},,居民身份证｜原件｜两份\n"
                "NO-SUCH-CODE,免费,\n")
    f = tmp_path / "guides.csv"
    f.write_text(csv_text, encoding="utf-8")
    page.locator("#import-file").set_input_files(str(f))
    page.get_by_role("button", name="导入", exact=True).click()
    report = page.locator("#import-report ol")
    report.wait_for()
    assert "已导入" in page.locator("#import-report li[data-row='2']").inner_text()
    assert "份数" in page.locator("#import-report li[data-row='3']").inner_text()
    assert "NO-SUCH-CODE" in page.locator("#import-report li[data-row='4']").inner_text()
    assert app.state.services.kb.get("JN-GJJ-001").fee == "不收费（导入测试）"
    assert _checklist(url, "gb-import") == before  # the bad row changed nothing

    assert errors == [] and page.evaluate("window.__rejected") == []
    assert page.evaluate("window.__csp") == []


def test_agents_read_guides_but_cannot_edit_and_anonymous_visitors_log_in(server, page_factory, staff_user,
                                                                          staff_browser_login):
    app, url = server
    anon = page_factory(viewport={"width": 1366, "height": 768})
    anon.goto(url + "/staff/guides")
    anon.wait_for_url("**/staff/login**")
    page = page_factory(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    staff_browser_login(page, url, staff_user(level="street", place="荷花池街道", role="agent", target=app),
                        "/staff/guides")
    page.goto(url + f"/staff/guides#{CODE}")
    page.locator("#ed-title").wait_for()
    assert page.locator("#readonly-note").is_visible()
    assert not page.get_by_role("button", name="保存修改").is_visible()
    assert not page.locator("#import-form").is_visible()
    assert page.locator("#f-fee").is_disabled()
    # the API refuses the agent's edit even when sent by hand from the page (cookie + CSRF header)
    status = page.evaluate("""async (code) => {
        const m = document.cookie.match(/(?:^|; )jxe_csrf=([^;]*)/);
        const r = await fetch('/api/v1/guides/' + code, {method: 'PUT', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': m ? decodeURIComponent(m[1]) : ''},
            body: JSON.stringify({guide: {fee: '随便改'}})});
        return r.status; }""", CODE)
    assert status == 403
    assert app.state.services.guidebook.store.revision() == 0
    assert page.evaluate("window.__csp") == []
