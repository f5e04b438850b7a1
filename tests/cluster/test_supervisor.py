"""The cluster supervisor as `cluster up` runs it (a daemon with a state file): members that die are restarted,
`cluster status --json` shows pids, liveness and restarts, `cluster down` stops everything. The members here are
small HTTP servers (the real topology runs in bench/fault.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from assistant.cluster.supervisor import pid_alive, read_state, write_json_atomic
from assistant.commands.cluster import down, status
from assistant.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_supervisor_restarts_killed_members_and_stops_them_all(tmp_path: Path):
    ports = [_free_port(), _free_port()]
    members = [{"name": f"app-{i + 1}", "kind": "app", "url": f"http://127.0.0.1:{p}", "health": "/",
                "argv": [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(p)]}
               for i, p in enumerate(ports)]
    write_json_atomic(tmp_path / "plan.json", {"cwd": str(tmp_path), "members": members})
    sup = subprocess.Popen([sys.executable, "-m", "assistant.cluster.supervisor", str(tmp_path)], cwd=REPO_ROOT,
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: (st := status(tmp_path))["members"] and all(m["healthy"] for m in st["members"]))
        st = status(tmp_path)
        assert st["supervisor"] == {"pid": sup.pid, "alive": True}
        first = {m["name"]: m for m in st["members"]}
        assert {n: (m["alive"], m["restarts"]) for n, m in first.items()} == {"app-1": (True, 0), "app-2": (True, 0)}
        assert first["app-1"]["url"] == f"http://127.0.0.1:{ports[0]}"

        os.kill(first["app-1"]["pid"], signal.SIGKILL)
        assert _wait(lambda: (m := status(tmp_path)["members"][0])["restarts"] == 1 and m["healthy"])
        again = {m["name"]: m for m in status(tmp_path)["members"]}
        assert again["app-1"]["pid"] != first["app-1"]["pid"] and again["app-1"]["last_exit"] == -signal.SIGKILL
        assert again["app-2"]["pid"] == first["app-2"]["pid"] and again["app-2"]["restarts"] == 0

        # the CLI prints the same view as JSON
        out = subprocess.run([str(REPO_ROOT / ".venv/bin/jinxiaoer"), "cluster", "status", "--json", "--run-dir",
                              str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        shown = json.loads(out.stdout)
        assert [(m["name"], m["pid"], m["alive"], m["restarts"]) for m in shown["members"]] == \
            [(m["name"], m["pid"], True, m["restarts"]) for m in again.values()]

        pids = [m["pid"] for m in again.values()]
        assert down(tmp_path) == 0
        assert _wait(lambda: sup.poll() is not None, 30)
        assert not any(pid_alive(p) for p in pids)
        assert all(not m["alive"] for m in read_state(tmp_path)["members"])
        assert status(tmp_path)["members"] and not any(m["alive"] for m in status(tmp_path)["members"])
    finally:
        if sup.poll() is None:
            os.killpg(sup.pid, signal.SIGKILL)


def test_cluster_up_wants_postgresql_redis_and_haproxy(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({"JXE_DATA_DIR": str(tmp_path), "JXE_SETTINGS_FILE": str(tmp_path / "none.yml")})
    jx = str(REPO_ROOT / ".venv/bin/jinxiaoer")
    r = subprocess.run([jx, "cluster", "up", "--run-dir", str(tmp_path / "c")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "PostgreSQL" in r.stderr
    env["DATABASE_URL"] = "postgresql://u@127.0.0.1:1/x"
    r = subprocess.run([jx, "cluster", "up", "--run-dir", str(tmp_path / "c")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "Redis" in r.stderr
    r = subprocess.run([jx, "cluster", "up", "--app-replicas", "0"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "between 1 and 40" in r.stderr
    assert not (tmp_path / "c" / "state.json").exists()
