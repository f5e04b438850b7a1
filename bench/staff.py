"""Benchmark: the 金帮办 live queue — how long after a citizen's 转人工 the ticket shows on an open /staff page.

``run(settings)`` serves the real app (temporary SQLite, no Rasa: the citizen's turn takes the degraded path) with
uvicorn, logs a helper in with headless Chromium (/usr/bin/chromium through Playwright) and keeps /staff open.
Then, ``ROUNDS`` times, a citizen sends ``/request_human`` (``POST /api/v1/chat``) and the time until the new
ticket is in the page's DOM is taken (clock started just before the request is sent).

Scenarios:

* ``same replica`` — the citizen's request and the page's event stream on one app process (in-process wake);
* ``other replica, Redis`` — two app processes on one database, ``JXE_REDIS_URL`` set: the page is on replica B,
  the citizen on replica A (Redis pub/sub wakes B);
* ``other replica, SQLite polling`` — the same without Redis (B polls ``ticket_events`` every
  ``staff_event_poll_s`` = 0.5 s);
* ``other replica, PostgreSQL NOTIFY`` — when ``JXE_TEST_POSTGRES_URL`` is set.

Run alone: ``.venv/bin/python -m bench.staff``.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from assistant.settings import Settings

ROUNDS = 20
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]


class _Server(threading.Thread):
    def __init__(self, app, port: int):
        import uvicorn

        super().__init__(daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                    access_log=False, lifespan="on", timeout_graceful_shutdown=2))

    def run(self) -> None:
        self.server.run()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings: Settings, kb) -> tuple[str, _Server, object]:
    from assistant.app import create_app

    app = create_app(settings, kb=kb, rasa=None, load_models=False)
    port = _free_port()
    th = _Server(app, port)
    th.start()
    deadline = time.monotonic() + 60
    while not th.server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", th, app


def _pg_url() -> tuple[str, object, str] | None:
    base = os.environ.get("JXE_TEST_POSTGRES_URL")
    if not base:
        return None
    import sqlalchemy as sa

    from assistant.db.session import make_engine

    schema = f"jxe_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", engine, schema


def _scenario(name: str, db_url: str, tmp: Path, kb, replicas: int, redis_url: str = "") -> dict:
    from playwright.sync_api import sync_playwright

    from assistant.staff.accounts import Accounts

    base = dict(environment="test", data_dir=tmp / "var", database_url=db_url, rasa_manage=False,
                rasa_url="http://127.0.0.1:9", staff_token=secrets.token_urlsafe(24), rate_limit_ip_per_min=0,
                rate_limit_session_per_min=0, redis_url=redis_url, log_level="ERROR",
                staff_office_hours="00:00-23:59", staff_office_days=[1, 2, 3, 4, 5, 6, 7])
    servers = [_serve(Settings(**base), kb) for _ in range(replicas)]
    citizen_url, page_url = servers[0][0], servers[-1][0]
    services = servers[-1][2].state.services
    password = "Bench-" + secrets.token_urlsafe(10)
    user = f"bench-{uuid.uuid4().hex[:6]}"
    Accounts(services.db, services.settings).add(user, password, "district")
    appear, post_ms = [], []
    try:
        with sync_playwright() as pw, httpx.Client(timeout=30, trust_env=False) as http:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.goto(f"{page_url}/staff/login?next=/staff")
            page.fill("#username", user)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_url(f"{page_url}/staff")
            page.locator("#live.on").wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            for i in range(ROUNDS):
                sid = f"bench-{i}-{uuid.uuid4().hex[:8]}"
                done: dict = {}

                def citizen() -> None:
                    t = time.perf_counter()
                    r = http.post(f"{citizen_url}/api/v1/chat", json={"session_id": sid, "text": "/request_human"})
                    done["ms"] = (time.perf_counter() - t) * 1000
                    done["id"] = r.json()["handoff"]["id"] if r.status_code == 200 else r.text

                before = page.locator(".ticket").count()
                t0 = time.perf_counter()
                th = threading.Thread(target=citizen)
                th.start()
                page.locator(".ticket").nth(before).wait_for(timeout=30_000)
                appear.append((time.perf_counter() - t0) * 1000)
                th.join()
                post_ms.append(done["ms"])
                page.wait_for_timeout(200)
            browser.close()
    finally:
        for _, th, _ in servers:
            th.server.should_exit = True
        for _, th, _ in servers:
            th.join(timeout=20)
    return {"name": name, "n": len(appear), "p50": statistics.median(appear),
            "p90": sorted(appear)[int(0.9 * (len(appear) - 1))], "max": max(appear),
            "post_p50": statistics.median(post_ms)}


def run(settings: Settings) -> str:
    """The markdown section of the live-queue benchmark."""
    from assistant.container import load_kb

    kb = load_kb(settings)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows.append(_scenario("same replica (SQLite)", f"sqlite:///{tmp / 'a.db'}", tmp, kb, 1))
        rows.append(_scenario("other replica, Redis pub/sub (SQLite)", f"sqlite:///{tmp / 'b.db'}", tmp, kb, 2,
                              redis_url=os.environ.get("JXE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")))
        rows.append(_scenario("other replica, SQLite polling 0.5 s", f"sqlite:///{tmp / 'c.db'}", tmp, kb, 2))
        pg = _pg_url()
        if pg is not None:
            url, engine, schema = pg
            try:
                rows.append(_scenario("other replica, PostgreSQL NOTIFY", url, tmp, kb, 2))
            finally:
                import sqlalchemy as sa

                with engine.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                engine.dispose()
    lines = ["## staff (金帮办 live queue)", "",
             f"A citizen's `/request_human` (`POST /api/v1/chat`, Rasa down: degraded turn) until the new ticket is "
             f"in the DOM of an open /staff page in headless Chromium; {ROUNDS} rounds per scenario. Target: "
             "p50 ≤ 1 s.", "",
             "| scenario | n | p50 ms | p90 ms | max ms | chat request p50 ms |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['n']} | {r['p50']:.0f} | {r['p90']:.0f} | {r['max']:.0f} | "
                     f"{r['post_p50']:.0f} |")
    return "\n".join(lines) + "\n"


#: ``python -m bench.staff`` writes its table into docs/staff.md between these markers (``make bench`` puts it
#: into docs/benchmarks.md with the other areas).
DOC = Path(__file__).resolve().parent.parent / "docs" / "staff.md"
MARK_START, MARK_END = "<!-- bench:staff -->", "<!-- /bench:staff -->"


def write_doc(section: str) -> None:
    """Put ``section`` between the markers of docs/staff.md."""
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(MARK_START)
    _, _, tail = rest.partition(MARK_END)
    import datetime as dt

    stamp = f"_measured {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on a shared 2-core machine_"
    body = section.split("\n", 2)[2] if section.startswith("## ") else section
    DOC.write_text(f"{head}{MARK_START}\n{body.rstrip()}\n\n{stamp}\n{MARK_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    out = run(Settings())
    print(out)
    write_doc(out)
