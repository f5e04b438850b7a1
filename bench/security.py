"""Benchmark: what the issue-11 checks add to a chat turn.

``run(settings)`` builds the app's services on a temporary SQLite database (and on PostgreSQL when
``JXE_TEST_POSTGRES_URL`` is set, in a schema of its own) and times, as a turn runs them:

* the session-token check of an existing conversation (``open_or_check``: a worker-thread hop, one primary-key
  read, SHA-256, a constant-time compare) — every turn and every poll;
* starting a conversation with its token (an insert) — once per conversation;
* the client reference of the daily caps (a keyed hash of the address) — every turn;
* the keyed hashes of the session id in the turn's log lines (six log events with a session field per turn);
* finding booking numbers in the message (the NLU reads them as 预约号; the steps look them up) — every turn;
* one daily-cap count in memory and in Redis (127.0.0.1:6379, when it answers) — only when a turn opens a ticket,
  books a visit or a rating is sent.

The per-turn total is the sum of the every-turn parts (p50 and p95 of each, summed: an upper bound). Target:
< 2 ms a turn. Run alone: ``.venv/bin/python -m bench.security`` (prints the markdown).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

from assistant.settings import Settings

ROUNDS = 2000
TURN_LOG_EVENTS = 6  # log events with a session field in one degraded turn (chat, step, handoff …), measured


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _time_sync(fn: Callable[[], Any], rounds: int = ROUNDS) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _time_async(fn: Callable[[], Awaitable[Any]], rounds: int = ROUNDS) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _row(name: str, ms: list[float], note: str = "") -> tuple[str, float, float, str]:
    return name, statistics.median(ms), _pct(ms, 0.95), note


def _redis_up(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - no Redis: that row is left out
        return False


async def _database_rows(label: str, settings: Settings) -> list[tuple[str, float, float, str]]:
    from assistant.api.citizen import hash_token, open_or_check
    from assistant.container import build_services

    services = build_services(settings, rasa=None)
    services.db.upgrade()
    try:
        token = await open_or_check(services, "bench-existing", "web", None)
        assert token
        for _ in range(50):  # warm the pool and the thread pool
            await open_or_check(services, "bench-existing", "web", token)
        check = await _time_async(lambda: open_or_check(services, "bench-existing", "web", token))
        names = iter(f"bench-new-{uuid.uuid4().hex}" for _ in range(ROUNDS // 4))
        start = await _time_async(lambda: open_or_check(services, next(names), "web", None), ROUNDS // 4)
        assert services.conversations.token_hash("bench-existing")[1] == hash_token(token)
    finally:
        services.db.dispose()
    return [_row(f"token check of a conversation ({label})", check, "every turn, poll, rating"),
            _row(f"new conversation + token ({label})", start, "once per conversation")]


def _postgres_url() -> tuple[str, Callable[[], None]] | None:
    base = os.environ.get("JXE_TEST_POSTGRES_URL")
    if not base:
        return None
    from urllib.parse import quote

    import sqlalchemy as sa

    from assistant.db.session import make_engine

    schema = f"jxe_bench_{uuid.uuid4().hex[:10]}"
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


async def _measure(tmp: Path) -> tuple[list[tuple[str, float, float, str]], dict[str, float]]:
    from starlette.datastructures import Headers

    from assistant.api.limits import RateLimiter
    from assistant.logging import session_ref, set_pseudonym_key
    from assistant.preservice.numbers import find_booking_numbers, new_booking_number, remove_booking_numbers

    base = dict(environment="test", rasa_manage=False, rasa_url="http://127.0.0.1:9", data_dir=tmp / "var",
                pseudonym_key="Bench-Pseudonym-Key-0123456789")
    set_pseudonym_key(base["pseudonym_key"])
    rows: list[tuple[str, float, float, str]] = []
    per_turn: dict[str, float] = {}

    sqlite = await _database_rows("SQLite", Settings(**base, database_url=f"sqlite:///{tmp / 'bench.db'}"))
    rows += sqlite
    pg = _postgres_url()
    if pg is not None:
        url, drop = pg
        try:
            rows += await _database_rows("PostgreSQL", Settings(**base, database_url=url))
        finally:
            drop()

    from starlette.concurrency import run_in_threadpool

    hop = await _time_async(lambda: run_in_threadpool(lambda: None))
    rows.append(_row("… of which the worker-thread hop alone", hop, "(part of the token check)"))
    limiter = RateLimiter(Settings(**base))

    class _Conn:  # what client_ref reads of a request
        scope = {"client": ("203.0.113.7", 40000)}
        headers = Headers(raw=[])
        query_params: dict[str, str] = {}

    conn = _Conn()
    rows.append(_row("client reference (keyed hash of the address)", _time_sync(lambda: limiter.client_ref(conn)),
                     "every turn"))
    rows.append(_row(f"session id → log reference × {TURN_LOG_EVENTS}",
                     _time_sync(lambda: [session_ref("web-3f9a7c2e11d04b5a") for _ in range(TURN_LOG_EVENTS)]),
                     "every turn"))
    text = f"帮我查一下预约 {new_booking_number()} 现在是啥状态"
    rows.append(_row("booking numbers in the message (find + NLU stand-in)",
                     _time_sync(lambda: (find_booking_numbers(text), remove_booking_numbers(text, "预约号"))),
                     "every turn"))
    plain = "开个小卖部要办啥子证，要带些啥子材料"
    rows.append(_row("… a message without a number", _time_sync(lambda: remove_booking_numbers(plain, "预约号")),
                     "every turn"))

    mem = RateLimiter(Settings(**base, cap_tickets_per_ip_day=10**9), key_prefix=f"bench-{uuid.uuid4().hex}")
    rows.append(_row("daily cap count (memory)", await _time_async(lambda: mem.take_daily("tickets", "c-bench")),
                     "ticket, booking or rating only"))
    redis_url = "redis://127.0.0.1:6379/0"
    if _redis_up(redis_url):
        red = RateLimiter(Settings(**base, redis_url=redis_url, cap_tickets_per_ip_day=10**9),
                          key_prefix=f"bench-{uuid.uuid4().hex}")
        rows.append(_row("daily cap count (Redis, moving 24 h window)",
                         await _time_async(lambda: red.take_daily("tickets", "c-bench"), ROUNDS // 4),
                         "ticket, booking or rating only"))
    every_turn = [r for r in rows if r[3] == "every turn" or r[3].startswith("every turn")]
    for db in ("SQLite", "PostgreSQL"):
        check = next((r for r in rows if r[0] == f"token check of a conversation ({db})"), None)
        if check is None:
            continue
        parts = [check] + [r for r in every_turn if not r[0].startswith("token check") and not r[0].startswith("…")]
        per_turn[db] = sum(r[2] for r in parts)  # p95s summed: an upper bound
        per_turn[db + " p50"] = sum(r[1] for r in parts)
    return rows, per_turn


def run(settings: Settings) -> str:
    """Time the checks; the markdown section for docs/benchmarks.md."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory(prefix="jxe-bench-security-") as tmp:
        rows, per_turn = asyncio.run(_measure(Path(tmp)))
    lines = ["## Security checks per turn (`bench/security.py`)", "",
             f"What the issue-11 checks add to a chat turn, each timed {ROUNDS} times in one process as a turn runs "
             "it (the token check includes its worker-thread hop and database read: a pre-pinged pooled connection, "
             f"BEGIN, one primary-key SELECT, COMMIT). Load average at start: {load:.1f}.", "",
             "| check | p50 | p95 | when |", "|---|---|---|---|"]
    for name, p50, p95, note in rows:
        lines.append(f"| {name} | {p50 * 1000:.0f} µs | {p95 * 1000:.0f} µs | {note} |")
    lines.append("")
    for db in ("SQLite", "PostgreSQL"):
        if db in per_turn:
            lines.append(f"- **Per turn, {db}:** {per_turn[db + ' p50']:.2f} ms at the median, {per_turn[db]:.2f} ms "
                         "summing the p95s (target < 2 ms).")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(Settings()))
