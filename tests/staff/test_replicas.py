"""The live queue with several replicas: a ticket created through one app process reaches the event stream of
another process on the same database — through PostgreSQL NOTIFY/LISTEN, Redis pub/sub, or (SQLite without
Redis) the polling fallback. Two real apps, served by uvicorn, talking only through the database / Redis."""

from __future__ import annotations

import json
import os
import queue
import threading
import uuid
from urllib.parse import quote

import httpx
import pytest

from tests.staff.conftest import STAFF_TOKEN, serve


def _backends() -> list:
    out = [pytest.param("poll", id="sqlite-poll"), pytest.param("redis", id="redis")]
    if os.environ.get("JXE_TEST_POSTGRES_URL"):
        out.append(pytest.param("postgres", id="postgres-notify", marks=pytest.mark.postgres))
    return out


@pytest.fixture
def shared_db(request, tmp_path):
    backend = request.param if hasattr(request, "param") else "poll"
    if backend != "postgres":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    import sqlalchemy as sa

    from assistant.db.session import make_engine

    base = os.environ["JXE_TEST_POSTGRES_URL"]
    schema = f"jxe_staff_{uuid.uuid4().hex[:10]}"
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _read_stream(url: str, out: "queue.Queue[dict]", stop: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(60.0, read=60.0), trust_env=False) as c:
        with c.stream("GET", f"{url}/api/v1/tickets/stream",
                      headers={"Authorization": f"Bearer {STAFF_TOKEN}"}) as r:
            event = None
            for line in r.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    out.put({"event": event, **json.loads(line[6:])})


@pytest.mark.parametrize("shared_db", _backends(), indirect=True)
def test_a_ticket_made_on_one_replica_reaches_the_stream_of_another(shared_db, request, make_settings, kb):
    from assistant.app import create_app

    backend = request.node.callspec.params["shared_db"]
    extra = {"redis_url": "redis://127.0.0.1:6379/0"} if backend == "redis" else {}
    apps, servers = [], []
    try:
        for _ in range(2):
            app = create_app(make_settings(database_url=shared_db, staff_token=STAFF_TOKEN, **extra), kb=kb,
                             rasa=None, load_models=False)
            url, th = serve(app)
            apps.append((app, url))
            servers.append(th)
        (app_a, _), (app_b, url_b) = apps
        assert app_b.state.services.ticket_events.backend == backend
        got: queue.Queue[dict] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=_read_stream, args=(url_b, got, stop), daemon=True)
        reader.start()
        hello = got.get(timeout=30)
        assert hello["event"] == "hello"

        # replica A opens a ticket (what a citizen's 转人工 does there)
        ticket = app_a.state.services.handoffs.create(f"replica-{uuid.uuid4().hex[:8]}", "web", None, None,
                                                      "街道便民服务中心", [{"role": "user", "text": "转人工"}],
                                                      "request_human", "营门口街道")
        while True:
            ev = got.get(timeout=30)
            if ev["event"] == "ticket" and ev["ticket_id"] == ticket.id:
                break
        assert ev["kind"] == "created" and ev["level"] == "街道便民服务中心" and ev["place"] == "营门口街道"
        stop.set()
    finally:
        for th in servers:
            th.server.should_exit = True
        for th in servers:
            th.join(timeout=20)
