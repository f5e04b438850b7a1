"""Benchmark: the guidebook admin — how long until a guide edit is served, on the replica that saved it and on
another replica.

``run(settings)`` builds two app processes' worth of services in this process (two ``create_app`` on one SQLite
database, the committed KB and the real NLU, Rasa down) with the default ``guide_sync_s`` (3 s). ``ROUNDS`` times,
an admin adds a new colloquial phrase to a guide on replica A (``PUT /api/v1/guides/{code}``, which saves the
version, bumps the revision and applies it on A before answering: the KB swap and the NLU entries of that matter
re-encoded), then the time until replica B has applied the same revision is taken (B polls every 3 s). The NLU
refresh alone (``NLU.with_matters`` for one changed matter) is timed too.

Run alone: ``.venv/bin/python -m bench.guides``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from assistant.settings import Settings

ROUNDS = 10
CODE = "JN-GJJ-002"
TOKEN = "bench-guides-service-token-0123456789"


def _q(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def run(settings: Settings) -> str:
    from fastapi.testclient import TestClient

    from assistant.app import create_app
    from assistant.container import load_kb, load_nlu

    kb = load_kb(settings)
    nlu = load_nlu(settings, kb)
    m = kb.get(CODE)
    refresh: list[float] = []
    for i in range(ROUNDS):
        edited = kb.with_matters([m.model_copy(update={"colloquial": [*m.colloquial, f"租房取公积金第{i}回咋个弄"]})])
        t0 = time.perf_counter()
        nlu.with_matters(edited.matters)
        refresh.append(1000 * (time.perf_counter() - t0))

    put_ms: list[float] = []
    other_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="jxe-bench-guides-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'g.db'}"

        def app():
            s = settings.model_copy(update={"environment": "test", "data_dir": Path(tmp) / "var",
                                            "database_url": url, "rasa_manage": False,
                                            "rasa_url": "http://127.0.0.1:9", "staff_token": TOKEN})
            return create_app(s, kb=kb, nlu=nlu)

        a, b = app(), app()
        h = {"Authorization": f"Bearer {TOKEN}"}
        with TestClient(a) as ca, TestClient(b):
            gb_b = None
            for i in range(ROUNDS):
                d = ca.get(f"/api/v1/guides/{CODE}", headers=h).json()
                phrase = f"租房子提公积金第{i}次咋个整"
                t0 = time.perf_counter()
                r = ca.put(f"/api/v1/guides/{CODE}", headers=h, json={
                    "guide": {"colloquial": d["matter"]["colloquial"] + [phrase]}, "base_version": d["version"]})
                t1 = time.perf_counter()
                assert r.status_code == 200, r.text
                put_ms.append(1000 * (t1 - t0))
                rev = a.state.services.guidebook.revision
                gb_b = b.state.services.guidebook
                while gb_b is None or gb_b.revision != rev:
                    time.sleep(0.01)
                    gb_b = b.state.services.guidebook
                other_ms.append(1000 * (time.perf_counter() - t1))
                assert b.state.services.nlu.search(phrase, 1)[0].code == CODE
    lines = ["## guides (guidebook admin: edit → live)", "",
             f"A new colloquial phrase added to {CODE} on replica A; {ROUNDS} rounds; two app instances on one SQLite "
             f"database, committed KB + real NLU, `JXE_GUIDE_SYNC_S` = {settings.guide_sync_s:g} s.", "",
             "| measure | n | p50 ms | p90 ms | max ms |", "|---|---|---|---|---|"]
    for name, xs in (("NLU entries of one matter rebuilt (`NLU.with_matters`)", refresh),
                     ("edit saved and live on the same replica (`PUT` round trip)", put_ms),
                     ("…then applied on the other replica (after the `PUT` answered)", other_ms)):
        lines.append(f"| {name} | {len(xs)} | {statistics.median(xs):.0f} | {_q(xs, 0.9):.0f} | {max(xs):.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    out = run(Settings())
    print(out)
    Path(__file__).resolve().parent.parent.joinpath("docs", "bench-guides.md").write_text(out, encoding="utf-8")
