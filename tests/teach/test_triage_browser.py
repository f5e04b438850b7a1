"""In Chromium: a district helper opens 待学习, finds the group of a question 金小二 could not tell apart, teaches it
the right matter with the matter search — and a second, separately started app process on the same database (never
restarted) routes the same question and a paraphrase to that matter within a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx

from tests.conftest import ARTIFACTS, REPO_ROOT, free_port
from tests.staff.conftest import STAFF_TOKEN
from tests.teach.conftest import SHOP_CODE, SHOP_PARAPHRASE, SHOP_Q


def _second_process(db_url: str, tmp_path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "JXE_DATABASE_URL": db_url, "JXE_RASA_MANAGE": "false",
           "JXE_RASA_URL": f"http://127.0.0.1:{free_port()}", "JXE_STAFF_TOKEN": STAFF_TOKEN,
           "JXE_LEARNED_POLL_S": "5", "JXE_DATA_DIR": str(tmp_path / "b"), "JXE_ENVIRONMENT": "test",
           "JXE_RATE_LIMIT_SESSION_PER_MIN": "0", "JXE_RATE_LIMIT_IP_PER_MIN": "0"}
    log = open(tmp_path / "b.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _nlu_ready(url: str, proc: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the second app process exited"
        try:
            r = httpx.get(f"{url}/api/v1/health", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10,
                          trust_env=False)
            if r.json().get("checks", {}).get("nlu") == "ready":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError("the second app process never loaded its NLU")


def _matter(url: str, text: str) -> str | None:
    r = httpx.post(f"{url}/api/v1/chat", json={"session_id": "b-" + uuid.uuid4().hex[:10], "text": text},
                   timeout=120, trust_env=False)
    assert r.status_code == 200, r.text
    return (r.json().get("matter") or {}).get("code")


def test_helper_teaches_a_group_and_another_process_serves_it(fresh_learned, staff_server, staff_user, page_factory,
                                                              staff_browser_login, tmp_path):
    # (fresh_learned first: set up first, torn down last — after the server stops, so its poll of the learned
    # version cannot serve the lesson again on the session's NLU, which later tests share)
    a = staff_server.url
    proc, b = _second_process(staff_server.settings.database_url, tmp_path)
    try:
        assert _matter(a, SHOP_Q) != SHOP_CODE  # the citizen's question: unsure (several matters fit)
        _nlu_ready(b, proc)
        assert _matter(b, SHOP_PARAPHRASE) != SHOP_CODE  # the other process, running before anything is taught
        pid = proc.pid
        for other in ("茶馆里摆几桌麻将要办啥", "门口想挂个大招牌要批不", "屋头养了条大狗要办啥"):  # others it may be unsure of
            _matter(a, other)
        helper = staff_user("district", None, "agent")
        page = page_factory(viewport={"width": 1366, "height": 768})
        staff_browser_login(page, a, helper, "/staff/triage")
        group = page.locator("li.triage-group", has_text=SHOP_Q)
        group.wait_for(timeout=60_000)
        # (another group, of whichever of those the NLU of the day is unsure of)
        page.locator("li.triage-group").nth(1).wait_for(timeout=30_000)
        # the shop question was asked on both processes: one group of two, the most frequent first
        assert group.locator(".triage-count").inner_text().strip() == "2"
        assert page.locator("li.triage-group").first.get_attribute("data-group-id") == \
            group.get_attribute("data-group-id")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staff-triage.png"))
        group.locator(".matter-search").fill("个体工商户设立登记")
        option = group.locator(f'.matter-option[data-code="{SHOP_CODE}"]')
        option.wait_for(timeout=60_000)
        option.click()
        status = page.locator("#triage-status.ok")
        status.wait_for(timeout=120_000)
        assert "已学会" in status.inner_text()
        assert page.locator("li.triage-group", has_text=SHOP_Q).count() == 0
        assert page.evaluate("window.__csp") == []
        assert _matter(a, SHOP_Q) == SHOP_CODE  # this process: at once
        deadline = time.monotonic() + 180  # generous: the other process polls the version every 5 s
        got = (None, None)
        while time.monotonic() < deadline:
            got = (_matter(b, SHOP_Q), _matter(b, SHOP_PARAPHRASE))
            if got == (SHOP_CODE, SHOP_CODE):
                break
            time.sleep(1)
        assert got == (SHOP_CODE, SHOP_CODE)
        assert proc.poll() is None and proc.pid == pid  # served without a restart
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
