"""Benchmark: full chat turns through the real Rasa server.

``run(settings)`` serves the app (uvicorn, in this process) and a supervised Rasa server on free ports with a
temporary SQLite database, then measures:

* Rasa model training (only when the model cache has no model for the current project) and Rasa start time
  (spawn → ``/status`` answers);
* warm, sequential full turns ``POST /api/v1/chat`` → app → Rasa → app NLU (``/nlu/model/parse``) → custom
  action (``/actions/webhook``) → reply parts, over ~100 turns of short conversations written for this
  benchmark (never taken from the evaluation set);
* the resident memory of the app process and of the Rasa server.

Run alone: ``.venv/bin/python -m bench.chat``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from assistant.settings import Settings

#: Conversations of the benchmark (one session each), authored here. Together ~100 turns when repeated.
CONVERSATIONS: list[list[str]] = [
    ["开个小卖部要办啥子证", "那要带啥子材料", "在哪里办", "要收费吗", "谢谢"],
    ["你好", "我想办居住证", "要带些啥子", "多久能拿到"],
    ["社保卡", "我要找人工"],
    ["今天天气咋样", "个体户注销要啥材料", "在哪里办理"],
    ["退休手续咋个办", "需要准备哪些东西", "好的谢谢", "再见"],
    ["公积金咋个取出来", "要带什么", "收不收费"],
]
ROUNDS = 5


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def run(settings: Settings) -> str:
    """Measure full chat turns through Rasa.

    Args:
        settings: the app settings (its cache dir, models and Rasa venv are used; database, data dir and ports
            are replaced by temporary ones).

    Returns:
        A markdown section for ``docs/benchmarks.md``.
    """
    import uvicorn

    from assistant.app import create_app
    from assistant.rasa.supervisor import RasaModelCache, RasaSupervisor

    tmp = Path(tempfile.mkdtemp(prefix="jxe-bench-chat-"))
    app_port, rasa_port = _free_port(), _free_port()
    s = settings.model_copy(update={
        "data_dir": tmp / "var", "database_url": f"sqlite:///{tmp / 'bench.db'}", "rasa_manage": False,
        "rasa_url": f"http://127.0.0.1:{rasa_port}", "app_internal_url": f"http://127.0.0.1:{app_port}",
        "log_level": "WARNING", "staff_token": None, "rate_limit_ip_per_min": 0, "rate_limit_session_per_min": 0})

    cache = RasaModelCache(s)
    t0 = time.perf_counter()
    cache.ensure_model()
    train_s = cache.last_train_s
    model_s = time.perf_counter() - t0

    app = create_app(s)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=app_port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    sup = RasaSupervisor(s, model_cache=cache)
    lines: list[str] = []
    try:
        while not server.started:
            time.sleep(0.05)
        t_rasa = time.perf_counter()
        sup.start()
        if not sup.wait_ready(600, max_failed_starts=2):
            raise RuntimeError(f"Rasa did not start: {sup.last_error}")
        rasa_wall_s = time.perf_counter() - t_rasa
        services = app.state.services
        deadline = time.monotonic() + 900
        while services.status.get("nlu") != "ready":
            if time.monotonic() > deadline or str(services.status.get("nlu", "")).startswith("error"):
                raise RuntimeError(f"the NLU did not load: {services.status}")
            time.sleep(0.2)

        turns: list[tuple[str, float, bool]] = []
        tokens: dict[str, str] = {}  # each conversation's session token, sent like the web page sends it

        def post(http: httpx.Client, sid: str, text: str) -> httpx.Response:
            r = http.post("/api/v1/chat", json={"session_id": sid, "text": text, "session_token": tokens.get(sid)})
            r.raise_for_status()
            if r.json().get("session_token"):
                tokens[sid] = r.json()["session_token"]
            return r

        with httpx.Client(base_url=f"http://127.0.0.1:{app_port}", timeout=60, trust_env=False) as http:
            for i, conv in enumerate(CONVERSATIONS):  # warm-up: every path once
                for text in conv:
                    post(http, f"warm-{i}", text)
            for rnd in range(ROUNDS):
                for i, conv in enumerate(CONVERSATIONS):
                    for text in conv:
                        t = time.perf_counter()
                        r = post(http, f"b{rnd}-{i}", text)
                        ms = (time.perf_counter() - t) * 1000
                        turns.append((r.json().get("intent") or "", ms, bool(r.json().get("degraded"))))
            rasa_ms: list[float] = []  # the same turns straight to Rasa's REST channel (no app chat layer)
            for i, conv in enumerate(CONVERSATIONS):
                for text in conv:
                    t = time.perf_counter()
                    http.post(f"{s.rasa_url}/webhooks/rest/webhook",
                              json={"sender": f"direct-{i}", "message": text}).raise_for_status()
                    rasa_ms.append((time.perf_counter() - t) * 1000)
        all_ms = [ms for _, ms, _ in turns]
        degraded = sum(d for _, _, d in turns)
        by_kind: dict[str, list[float]] = {}
        for intent, ms, _ in turns:
            kind = "custom action" if intent in {"ask_matter", "ask_materials", "ask_location", "ask_time",
                                                 "ask_fee", "request_human", "nlu_fallback"} else "response only"
            by_kind.setdefault(kind, []).append(ms)
        parse_ms = []
        nlu = services.nlu
        for conv in CONVERSATIONS:
            for text in conv:
                t = time.perf_counter()
                nlu.parse(text)
                parse_ms.append((time.perf_counter() - t) * 1000)

        lines += [
            "## Chat turns through Rasa (`bench/chat.py`)",
            "",
            f"Sequential, warm, {len(turns)} turns over {len(CONVERSATIONS)} authored conversations × {ROUNDS}: "
            "`POST /api/v1/chat` → Rasa REST channel → app NLU → custom action → reply parts. "
            f"Degraded (Rasa fallback) turns: {degraded}.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| full turn p50 / p95 | {statistics.median(all_ms):.0f} / {_pct(all_ms, 0.95):.0f} ms |",
        ]
        for kind, vals in sorted(by_kind.items()):
            lines.append(f"| … {kind} turns ({len(vals)}) p50 / p95 | "
                         f"{statistics.median(vals):.0f} / {_pct(vals, 0.95):.0f} ms |")
        lines += [
            f"| Rasa REST alone, same texts ({len(rasa_ms)}) p50 / p95 | {statistics.median(rasa_ms):.0f} / "
            f"{_pct(rasa_ms, 0.95):.0f} ms |",
            f"| NLU parse alone (same texts) p50 / p95 | {statistics.median(parse_ms):.1f} / "
            f"{_pct(parse_ms, 0.95):.1f} ms |",
            f"| Rasa model | {'trained in %.1f s' % train_s if train_s is not None else 'from cache'} "
            f"({model_s:.1f} s incl. fingerprint) |",
            f"| Rasa start (spawn → /status) | {sup.last_start_s:.1f} s (supervisor start → ready "
            f"{rasa_wall_s:.1f} s) |",
            f"| RSS app (KB + NLU + API) | {_rss_mb():.0f} MB |",
            f"| RSS Rasa server | {_rss_mb(sup.pid):.0f} MB |" if sup.pid else "| RSS Rasa server | n/a |",
            "",
        ]
    finally:
        sup.stop()
        server.should_exit = True
        thread.join(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    if sup.last_stop_s is not None and lines:
        lines.insert(-1, f"| Rasa stop (SIGTERM → exit) | {sup.last_stop_s:.1f} s"
                         f"{' (needed SIGKILL)' if sup.last_stop_killed else ''} |")
    lines += [
        "Per custom-action turn Rasa 3.6 itself spends ~35-45 ms validating the action server's answer with "
        "`jsonschema.validate` (the schema is re-checked on every call; measured in the Rasa venv), which is "
        "most of the gap between action turns and response-only turns; the action call itself is 1-6 ms.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(Settings()))
