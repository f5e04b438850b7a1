"""``jinxiaoer ask "…" [--json] [--session S --token T] [--no-rasa]``: one question, answered in-process.

The app runs inside this process on a free 127.0.0.1 port (the Rasa server needs its NLU and action
endpoints). When no Rasa server answers at ``settings.rasa_url``, one is started through the supervisor for
the duration of the command (and stopped after); ``--no-rasa`` answers from the knowledge search alone.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
import uuid
from typing import Any

import httpx

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ask`` to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("ask", help="ask 金小二 one question and print the answer",
                              description="Ask one question (the full pipeline: NLU, Rasa dialogue, KB).")
    p.add_argument("text", help="the question, e.g. 开个小卖部要办啥证")
    p.add_argument("--json", action="store_true", help="print the structured reply (ChatResponse JSON)")
    p.add_argument("--session", default=None, help="conversation id (default: a new one)")
    p.add_argument("--token", default=None, help="the session token of an existing --session (its first answer "
                                                 "printed it)")
    p.add_argument("--no-rasa", action="store_true", help="do not use or start Rasa: answer from the KB search")
    p.add_argument("--verbose", action="store_true", help="show the app's log on stderr")
    p.set_defaults(func=_ask)


def render_text(resp: dict[str, Any]) -> str:
    """A plain-text rendering of a ChatResponse for the terminal.

    Args:
        resp: the ChatResponse as a dict.
    """
    out: list[str] = []
    for p in resp.get("replies", []):
        t = p.get("type")
        if t == "text":
            out.append(p.get("text", ""))
        elif t == "notice":
            out.append(f"【提示】{p.get('text', '')}")
        elif t == "staff":
            out.append(f"【{p.get('staff_name') or '金帮办专员'}】{p.get('text', '')}")
        elif t == "matter_card":
            m = p.get("matter", {})
            out.append(f"■ {m.get('name', '')}（{m.get('code', '')}）{'' if m.get('verified') else ' [仅供参考]'}")
            for label, key in (("办理部门", "department"), ("办理地点", "place"), ("地址", "address"),
                               ("办公时间", "hours"), ("承诺时限", "promised_time_limit"), ("收费", "fee"),
                               ("网上办理", "online_link"), ("咨询电话", "consult_phone"), ("层级", "level")):
                if m.get(key):
                    out.append(f"  {label}：{m[key]}")
        elif t == "checklist":
            out.append(f"■ 材料清单 · {p.get('matter', {}).get('name', '')}")
            for i, it in enumerate(p.get("items", []), 1):
                extra = "，".join(x for x in (it.get("form"), f"{it.get('copies')}份" if it.get("copies") else "",
                                              "视情况" if it.get("requirement") == "conditional" else "") if x)
                out.append(f"  {i}. {it.get('name', '')}（{extra}）" + (f" —— {it['note']}" if it.get("note") else ""))
        elif t == "buttons":
            out.append("  ".join(f"[{b.get('title', '')}]" for b in p.get("buttons", [])))
        elif t == "handoff":
            tk = p.get("ticket", {})
            out.append(f"已转人工：工单 {tk.get('id')}（{tk.get('level')}，{tk.get('status')}）")
    return "\n".join(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rasa_reachable(settings: Settings) -> bool:
    """Whether a Rasa server answers at ``settings.rasa_url`` (one that wants another API token counts: its
    REST channel still answers; set ``JXE_RASA_AUTH_TOKEN`` to the token it was started with for the rest)."""
    try:
        r = httpx.get(settings.rasa_url.rstrip("/") + "/status", params={"token": settings.rasa_auth_token},
                      timeout=2.0, trust_env=False)
    except httpx.HTTPError:
        return False
    if r.status_code in (401, 403):
        print(f"ask: the Rasa server at {settings.rasa_url} wants another API token (JXE_RASA_AUTH_TOKEN)",
              file=sys.stderr, flush=True)
    return r.status_code in (200, 401, 403)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from assistant.app import create_app

    port = _free_port()
    start_rasa = not args.no_rasa and not _rasa_reachable(settings)
    settings = settings.model_copy(update={
        "port": port, "app_internal_url": f"http://127.0.0.1:{port}", "rasa_manage": start_rasa,
        "log_level": settings.log_level if args.verbose else "WARNING"})
    app = create_app(settings, rasa=None if args.no_rasa else "auto")
    services = app.state.services
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="jinxiaoer-ask", daemon=True)
    thread.start()

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        deadline = time.monotonic() + 600
        while not (server.started and services.status.get("kb") != "loading"
                   and services.status.get("nlu") != "loading"):
            if not thread.is_alive() or time.monotonic() > deadline:
                say("ask: the app did not start")
                return 1
            time.sleep(0.1)
        if start_rasa:
            say("ask: starting the Rasa server (first time: training the model, a few minutes) …")
            sup = None
            while sup is None and time.monotonic() < deadline:
                sup = services.supervisor
                if sup is None and "error" in str(services.status.get("rasa_supervisor", "")):
                    break
                time.sleep(0.1)
            if sup is None or not sup.wait_ready(settings.rasa_start_timeout_s + 900):
                say(f"ask: Rasa did not become ready ({getattr(sup, 'last_error', None) or 'not started'}); "
                    "answering from the knowledge search")
        session = args.session or f"cli-{uuid.uuid4().hex[:12]}"
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/chat", timeout=settings.rasa_timeout_s + 60, trust_env=False,
                       json={"session_id": session, "text": args.text, "session_token": args.token})
        body = r.json()
        if r.status_code != 200:
            say(f"ask: {body.get('message', r.text)}")
            return 1
        if body.get("session_token") and not args.json:
            say(f"ask: to continue: --session {session} --token {body['session_token']}")
        print(json.dumps(body, ensure_ascii=False, indent=2) if args.json else render_text(body))
        return 0
    finally:
        server.should_exit = True
        thread.join(timeout=60)
