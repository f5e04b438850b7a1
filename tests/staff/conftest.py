"""Fixtures of the 金帮办 workbench tests (shared by every /staff page's tests).

- ``staff_server``: the real app served by uvicorn on a free port (KB + real NLU, Rasa down unless a test uses
  ``live``), with the service credential ``STAFF_TOKEN``. ``staff_server.url``, ``.app``, ``.services``.
- ``staff_user(level="district", place=None, role="agent", *, target=None, username=None)``: creates an account
  (a random strong password) in the database of ``target`` (an app, a ``Services``, ``Settings`` or a database
  URL; default: ``staff_server``) and returns a :class:`StaffLogin` — ``.username``, ``.password``,
  ``.headers(base_url)`` (logs in over HTTP, returns the Bearer header).
- ``page_factory(**context_kw)``: a new Chromium page (Debian's /usr/bin/chromium through Playwright) that records
  CSP violations in ``window.__csp``.
- ``staff_browser_login(page, base_url, login, next_path="/staff")``: logs a page in through /staff/login and
  waits until it is on ``next_path``.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]
STAFF_TOKEN = "staff-suite-service-token"
#: Records every Content-Security-Policy violation of a page in ``window.__csp`` (the pages must cause none).
CSP_PROBE = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


@dataclass
class StaffServer:
    """A running app."""

    url: str
    app: Any
    services: Any
    settings: Any
    service_headers: dict = field(default_factory=lambda: {"Authorization": f"Bearer {STAFF_TOKEN}"})


class _Server(threading.Thread):
    def __init__(self, app, port: int):
        import uvicorn

        super().__init__(name="uvicorn-staff-test", daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                    lifespan="on", access_log=False,
                                                    timeout_graceful_shutdown=3))

    def run(self) -> None:
        self.server.run()


def serve(app) -> tuple[str, _Server]:
    """Serve ``app`` on a free port; returns its URL and the server thread (``.server.should_exit = True``)."""
    port = free_port()
    th = _Server(app, port)
    th.start()
    deadline = time.monotonic() + 60
    while not th.server.started:
        assert time.monotonic() < deadline and th.is_alive(), "the app did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", th


@pytest.fixture
def staff_server(make_settings, kb, nlu):
    """The app on a free port (Rasa down: the degraded path answers the citizen)."""
    from assistant.app import create_app

    settings = make_settings(staff_token=STAFF_TOKEN, rate_limit_ip_per_min=0, rate_limit_session_per_min=0)
    app = create_app(settings, kb=kb, nlu=nlu)
    url, th = serve(app)
    yield StaffServer(url=url, app=app, services=app.state.services, settings=settings)
    th.server.should_exit = True
    th.join(timeout=20)


@dataclass
class StaffLogin:
    """A staff account made for a test."""

    username: str
    password: str
    level: str
    place: str | None
    role: str

    def login(self, base_url: str) -> dict:
        """``POST /api/v1/auth/login``; returns the JSON (token, expires_at, user)."""
        r = httpx.post(f"{base_url}/api/v1/auth/login", json={"username": self.username, "password": self.password},
                       timeout=30, trust_env=False)
        assert r.status_code == 200, r.text
        return r.json()

    def headers(self, base_url: str) -> dict:
        """A Bearer header from a fresh login."""
        return {"Authorization": f"Bearer {self.login(base_url)['token']}"}


def _accounts(target: Any):
    from assistant.db.session import Database
    from assistant.settings import Settings
    from assistant.staff.accounts import Accounts

    services = getattr(getattr(target, "state", None), "services", None) or (
        target if hasattr(target, "db") and hasattr(target, "settings") else None)
    if services is not None:
        services.db.upgrade()
        return Accounts(services.db, services.settings)
    if isinstance(target, Settings):
        db = Database(target.database_url)
        db.upgrade()
        return Accounts(db, target)
    db = Database(str(target))
    db.upgrade()
    return Accounts(db, Settings(environment="test", database_url=str(target), rasa_manage=False))


@pytest.fixture
def staff_user(request):
    """Factory of staff accounts (see the module docstring)."""
    counter = {"n": 0}

    def make(level: str = "district", place: str | None = None, role: str = "agent", *, target: Any = None,
             username: str | None = None) -> StaffLogin:
        if target is None:
            target = request.getfixturevalue("staff_server").app
        counter["n"] += 1
        name = username or f"{role}{counter['n']}-{secrets.token_hex(3)}"
        password = "Pw-" + secrets.token_urlsafe(12)
        _accounts(target).add(name, password, level, place, role)
        return StaffLogin(username=name, password=password, level=level, place=place, role=role)

    return make


@pytest.fixture
def page_factory():
    """New Chromium pages (one browser per test); ``page_factory(viewport=…)``."""
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    def _page(**kw):
        ctx = browser.new_context(**kw)
        ctx.add_init_script(CSP_PROBE)
        return ctx.new_page()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield _page
        finally:
            browser.close()


@pytest.fixture
def staff_browser_login():
    """``staff_browser_login(page, base_url, login, next_path="/staff")``: log in through the login page."""

    def go(page, base_url: str, login: StaffLogin, next_path: str = "/staff") -> None:
        page.goto(f"{base_url}/staff/login?next={next_path}")
        page.get_by_label("用户名").fill(login.username)
        page.get_by_label("密码").fill(login.password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base_url}{next_path}", timeout=30_000)

    return go
