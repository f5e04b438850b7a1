"""Triage to live: how long after a helper resolves a triage group does *another* app process route the question
to the taught matter — without a restart.

Two real ``jinxiaoer serve`` processes (no Rasa: the degraded path parses with the same NLU) share one database
(PostgreSQL when ``JXE_TEST_POSTGRES_URL`` is set, in a fresh schema; else a SQLite file). For each question the
NLU gets wrong or is unsure of: a citizen asks process A (a triage item), a helper resolves the group on A
(``POST /api/v1/triage/{id}/resolve``, the regression check included), then process B is asked the question and a
paraphrase every 0.5 s until both route to the taught matter. Target: ≤ 60 s (``learned_poll_s`` = 5 s).

``python -m bench.triage`` writes its section into docs/benchmarks.md; ``python -m bench triage`` runs it with
the other areas.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from assistant.settings import REPO_ROOT, Settings

TOKEN = "bench-triage-token"
#: (question, paraphrase, taught matter): each is one the NLU is unsure of (ambiguous, low confidence) and routes
#: elsewhere before it is taught.
CASES = [
    ("路边摆摊卖红苕要登记不", "在路边摆个摊卖红苕要不要登记", "511A0074300005"),
    ("麻将馆要哪些证", "开麻将馆需要哪些证", "511A0074300005"),
    ("打算开个小饭馆卫生这块要弄啥子", "准备开个小饭馆卫生方面要办啥子", "511A0005200004"),
]
TARGET_S = 60.0
SECTION = "## Triage to live (`bench/triage.py`)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(tmp: Path) -> tuple[str, callable]:
    base = os.environ.get("JXE_TEST_POSTGRES_URL")
    if not base:
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    import sqlalchemy as sa

    from assistant.db.session import make_engine

    schema = f"jxe_bench_{uuid.uuid4().hex[:10]}"
    engine = make_engine(base)
    with engine.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def start(db_url: str, tmp: Path, name: str, poll_s: float = 5.0) -> tuple[subprocess.Popen, str]:
    """One ``jinxiaoer serve`` process on a free port (Rasa not managed, pointed at a closed port)."""
    port = _free_port()
    env = {**os.environ, "JXE_DATABASE_URL": db_url, "JXE_RASA_MANAGE": "false",
           "JXE_RASA_URL": f"http://127.0.0.1:{_free_port()}", "JXE_STAFF_TOKEN": TOKEN,
           "JXE_LEARNED_POLL_S": str(poll_s), "JXE_DATA_DIR": str(tmp / name), "JXE_ENVIRONMENT": "test",
           "JXE_RATE_LIMIT_SESSION_PER_MIN": "0", "JXE_RATE_LIMIT_IP_PER_MIN": "0", "JXE_LOG_LEVEL": "WARNING"}
    log = open(tmp / f"{name}.log", "w")
    p = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                         env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    return p, f"http://127.0.0.1:{port}"


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600.0) -> None:
    """Until the process's NLU is loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the app exited ({proc.returncode})")
        try:
            r = httpx.get(f"{url}/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5,
                          trust_env=False)
            if r.json().get("checks", {}).get("nlu") == "ready":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise TimeoutError(f"{url}: NLU not ready after {timeout:.0f} s")


def routed(url: str, text: str) -> str | None:
    """The matter a fresh conversation gets for ``text``."""
    r = httpx.post(f"{url}/api/v1/chat", json={"session_id": "b-" + uuid.uuid4().hex[:12], "text": text},
                   timeout=60, trust_env=False)
    r.raise_for_status()
    return (r.json().get("matter") or {}).get("code")


def measure(a: str, b: str, question: str, paraphrase: str, code: str, timeout: float = 180.0) -> dict:
    """One triage-to-live run."""
    before = routed(b, question)
    routed(a, question)  # the citizen's question: a triage item on A
    staff = {"Authorization": f"Bearer {TOKEN}"}
    items = httpx.get(f"{a}/api/v1/triage", headers=staff, timeout=60, trust_env=False).json()["items"]
    group = next((g for g in items if question in g["examples"]), None)
    if group is None:
        raise RuntimeError(f"{question!r} was not put in the triage inbox")
    t0 = time.monotonic()
    r = httpx.post(f"{a}/api/v1/triage/{group['id']}/resolve", json={"matter_code": code}, headers=staff,
                   timeout=120, trust_env=False)
    r.raise_for_status()
    resolve_s = time.monotonic() - t0
    deadline = t0 + timeout
    live = None
    while time.monotonic() < deadline:
        if routed(b, question) == code:
            live = time.monotonic() - t0
            break
        time.sleep(0.5)
    return {"question": question, "code": code, "before_on_b": before, "resolve_s": round(resolve_s, 2),
            "live_on_b_s": round(live, 2) if live is not None else None,
            "paraphrase_on_b": routed(b, paraphrase) == code,
            "check": f"{r.json()['check']['candidate']}/{r.json()['check']['total']}"}


def run(settings: Settings | None = None) -> str:
    """The markdown section."""
    with tempfile.TemporaryDirectory(prefix="jxe-bench-triage-") as d:
        tmp = Path(d)
        db_url, drop = _database(tmp)
        procs = []
        try:
            pa, a = start(db_url, tmp, "a")
            procs.append(pa)
            wait_ready(a, pa)  # A migrates the database first
            pb, b = start(db_url, tmp, "b")
            procs.append(pb)
            wait_ready(b, pb)
            rows = [measure(a, b, q, p, c) for q, p, c in CASES]
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            drop()
    lives = [r["live_on_b_s"] for r in rows if r["live_on_b_s"] is not None]
    backend = "PostgreSQL" if db_url.startswith("postgres") else "SQLite"
    lines = [SECTION, "",
             f"Two `jinxiaoer serve` processes on one {backend} database, `learned_poll_s` = 5 s; the question is "
             f"resolved on A, then B (never restarted) is asked the question every 0.5 s until it routes to the "
             f"taught matter; then the paraphrase is asked once. "
             f"Target ≤ {TARGET_S:.0f} s.", "",
             "| question | taught matter | B before | resolve call (s, incl. regression check) | live on B (s) | "
             "paraphrase on B | held-out after |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['question']} | {r['code']} | {r['before_on_b'] or '—'} | {r['resolve_s']} | "
                     f"{r['live_on_b_s'] if r['live_on_b_s'] is not None else 'not live'} | "
                     f"{'yes' if r['paraphrase_on_b'] else 'no'} | {r['check']} |")
    if lives:
        lines += ["", f"Triage to live on the other process: p50 {statistics.median(lives):.1f} s, "
                      f"max {max(lives):.1f} s ({len(lives)}/{len(rows)} live; target ≤ {TARGET_S:.0f} s)."]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = REPO_ROOT / "docs" / "benchmarks.md") -> None:
    """Put the section into docs/benchmarks.md (replacing an earlier one)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# 金小二 — benchmarks\n"
    if SECTION in old:
        head, rest = old.split(SECTION, 1)
        nxt = rest.find("\n## ")
        old = head.rstrip() + ("\n\n" + rest[nxt + 1:] if nxt >= 0 else "\n")
    path.write_text(old.rstrip() + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    section = run(Settings())
    print(section)
    write_section(section)
