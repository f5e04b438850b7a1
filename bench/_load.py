"""Closed-loop load for the cost and fault benchmarks: ``clients`` threads, each running the authored
conversations of :mod:`bench.chat` one turn after another for ``duration_s`` seconds.

Two targets: 金小二's chat API (``POST /api/v1/chat`` with a ``message_id``; a failed request — transport error,
5xx — is retried once with the same ``message_id``, as a client may) and a plain Rasa bot's REST channel.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.chat import CONVERSATIONS

HUMAN = "我要找人工"


@dataclass
class Turn:
    """One citizen message and what became of it."""

    client: int
    session: str
    message_id: str
    text: str
    t: float  # seconds since the load started
    ms: float
    outcome: str  # ok | degraded | failed
    retried: bool = False
    error: str = ""
    handoff: bool = False


@dataclass
class LoadResult:
    turns: list[Turn] = field(default_factory=list)
    duration_s: float = 0.0

    def ok(self) -> list[Turn]:
        return [t for t in self.turns if t.outcome == "ok"]

    def throughput(self) -> float:
        return len(self.ok()) / self.duration_s if self.duration_s else 0.0

    def pct(self, q: float, outcome: str | None = "ok") -> float:
        vals = sorted(t.ms for t in self.turns if outcome is None or t.outcome == outcome)
        if not vals:
            return float("nan")
        return vals[min(len(vals) - 1, max(0, round(q * (len(vals) - 1))))]

    def p50(self) -> float:
        vals = [t.ms for t in self.ok()]
        return statistics.median(vals) if vals else float("nan")


def _jxe_turn(http: httpx.Client, session: str, text: str, message_id: str,
              tokens: dict[str, str]) -> tuple[str, bool, str]:
    # as every client does: the first answer of a conversation carries its session token, later turns present it
    headers = {"X-Session-Token": tokens[session]} if session in tokens else {}
    try:
        r = http.post("/api/v1/chat", json={"session_id": session, "text": text, "message_id": message_id},
                      headers=headers)
    except httpx.HTTPError as exc:
        return "failed", False, type(exc).__name__
    if r.status_code != 200:
        return "failed", False, f"http_{r.status_code}"
    body = r.json()
    if body.get("session_token"):
        tokens[session] = body["session_token"]
    return ("degraded" if body.get("degraded") else "ok"), bool(body.get("handoff")), ""


def _rasa_turn(http: httpx.Client, session: str, text: str, message_id: str,
               tokens: dict[str, str]) -> tuple[str, bool, str]:
    try:
        r = http.post("/webhooks/rest/webhook", json={"sender": session, "message": text})
    except httpx.HTTPError as exc:
        return "failed", False, type(exc).__name__
    if r.status_code != 200 or not r.json():
        return "failed", False, f"http_{r.status_code}" if r.status_code != 200 else "empty"
    return "ok", False, ""


def run_load(base_url: str, clients: int, duration_s: float, *, kind: str = "jinxiaoer", prefix: str = "load",
             timeout_s: float = 60.0) -> LoadResult:
    """Run the load and return every turn. ``kind``: ``jinxiaoer`` or ``rasa`` (plain Rasa REST channel)."""
    result = LoadResult()
    lock = threading.Lock()
    t0 = time.perf_counter()
    stop_at = t0 + duration_s
    turn = _jxe_turn if kind == "jinxiaoer" else _rasa_turn

    def client(cid: int) -> None:
        conv_no = 0
        tokens: dict[str, str] = {}
        with httpx.Client(base_url=base_url, timeout=timeout_s, trust_env=False) as http:
            while time.perf_counter() < stop_at:
                conv = CONVERSATIONS[(cid + conv_no) % len(CONVERSATIONS)]
                session = f"{prefix}-{cid}-{conv_no}-{uuid.uuid4().hex[:6]}"
                conv_no += 1
                for text in conv:
                    if time.perf_counter() >= stop_at:
                        break
                    mid = uuid.uuid4().hex
                    ts = time.perf_counter()
                    outcome, handoff, err = turn(http, session, text, mid, tokens)
                    retried = False
                    if outcome == "failed":  # one client retry with the same message_id
                        retried = True
                        time.sleep(0.5)
                        outcome, handoff, err2 = turn(http, session, text, mid, tokens)
                        err = f"{err}→{err2 or 'ok'}"
                    ms = (time.perf_counter() - ts) * 1000
                    with lock:
                        result.turns.append(Turn(cid, session, mid, text, ts - t0, ms, outcome, retried, err,
                                                 handoff))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    result.duration_s = time.perf_counter() - t0
    return result


def sequential(base_url: str, *, kind: str = "jinxiaoer", rounds: int = 2, prefix: str = "seq") -> list[float]:
    """Milliseconds of each turn of the authored conversations, one at a time (``rounds`` times over)."""
    turn = _jxe_turn if kind == "jinxiaoer" else _rasa_turn
    out: list[float] = []
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as http:
        for rnd in range(rounds):
            for i, conv in enumerate(CONVERSATIONS):
                session = f"{prefix}-{rnd}-{i}-{uuid.uuid4().hex[:6]}"
                for text in conv:
                    ts = time.perf_counter()
                    outcome, _, err = turn(http, session, text, uuid.uuid4().hex, tokens)
                    if outcome == "failed":
                        raise RuntimeError(f"{kind} turn failed: {err}")
                    out.append((time.perf_counter() - ts) * 1000)
    return out
