"""The cluster supervisor: a small process (``python -m assistant.cluster.supervisor RUN_DIR``, daemonised by
``jinxiaoer cluster up``) that starts every member of ``RUN_DIR/plan.json``, restarts a member when it dies
(backoff 0.5 s doubling to 10 s, reset after 30 s of life) and keeps ``RUN_DIR/state.json`` up to date::

    {"supervisor_pid": 123, "updated_at": 1700000000.0, "stopping": false,
     "members": [{"name": "app-1", "kind": "app", "pid": 456, "alive": true, "restarts": 0,
                  "url": "http://127.0.0.1:8011", "started_at": …, "last_exit": null}, …]}

SIGTERM (``jinxiaoer cluster down``) stops the members — the balancer first, Rasa last — with SIGTERM, then
SIGKILL after a grace period. Each member runs in its own process group with its output in
``RUN_DIR/logs/<name>.log``; members get the supervisor's environment (the secrets come from there, never from
the plan file) and die with it (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.rasa.supervisor import _die_with_parent

__all__ = ["MemberProcess", "ClusterSupervisor", "read_state", "write_json_atomic", "pid_alive"]

#: Backoff before restarting a member that died: first, cap; a member that lived this long resets it.
BACKOFF_FIRST_S, BACKOFF_MAX_S, HEALTHY_LIFE_S = 0.5, 10.0, 30.0
#: Seconds between SIGTERM and SIGKILL when stopping.
STOP_GRACE_S = 15.0


def write_json_atomic(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write ``data`` as JSON to ``path`` so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The supervisor's last ``state.json`` in ``run_dir`` (``None`` when there is none)."""
    try:
        return json.loads((Path(run_dir) / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    """Whether a process ``pid`` exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass
class MemberProcess:
    """A member as the supervisor runs it."""

    name: str
    kind: str
    url: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit: int | None = None
    next_start: float = 0.0
    backoff: float = BACKOFF_FIRST_S

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def view(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "pid": self.proc.pid if self.alive else None,
                "alive": self.alive, "restarts": self.restarts, "url": self.url, "started_at": self.started_at,
                "last_exit": self.last_exit}


class ClusterSupervisor:
    """Runs the members of a plan and keeps them running.

    Args:
        run_dir: the cluster's run directory (``plan.json`` in it; ``state.json`` and ``logs/`` written there).
    """

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        plan = json.loads((self.run_dir / "plan.json").read_text(encoding="utf-8"))
        self.cwd = plan.get("cwd") or os.getcwd()
        self.members = [MemberProcess(m["name"], m["kind"], m["url"], list(m["argv"])) for m in plan["members"]]
        self.logs = self.run_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._stopping = False

    def _spawn(self, m: MemberProcess) -> None:
        with open(self.logs / f"{m.name}.log", "ab") as log:
            log.write(f"\n=== {m.name} started at {time.strftime('%Y-%m-%dT%H:%M:%S')} ===\n".encode())
            log.flush()
            m.proc = subprocess.Popen(m.argv, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        m.started_at = time.time()

    def _write_state(self) -> None:
        write_json_atomic(self.run_dir / "state.json", {
            "supervisor_pid": os.getpid(), "updated_at": time.time(), "stopping": self._stopping,
            "members": [m.view() for m in self.members]})

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stopping = True

    def run(self) -> int:
        """Start every member and supervise until SIGTERM/SIGINT; then stop them. Returns the exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        (self.run_dir / "supervisor.pid").write_text(str(os.getpid()))
        for m in self.members:
            self._spawn(m)
        self._write_state()
        last_write = time.monotonic()
        while not self._stopping:
            changed = False
            now = time.monotonic()
            for m in self.members:
                if m.proc is not None and m.proc.poll() is not None:  # died: plan its restart
                    m.last_exit = m.proc.returncode
                    lived = time.time() - (m.started_at or time.time())
                    m.backoff = BACKOFF_FIRST_S if lived >= HEALTHY_LIFE_S else min(m.backoff * 2, BACKOFF_MAX_S)
                    m.next_start = now + (BACKOFF_FIRST_S if lived >= HEALTHY_LIFE_S else m.backoff)
                    print(json.dumps({"event": "cluster.member.exited", "member": m.name, "code": m.last_exit,
                                      "lived_s": round(lived, 1), "restart_in_s": round(m.next_start - now, 1)}),
                          flush=True)
                    m.proc = None
                    changed = True
                if m.proc is None and now >= m.next_start:
                    self._spawn(m)
                    m.restarts += 1
                    print(json.dumps({"event": "cluster.member.restarted", "member": m.name, "pid": m.proc.pid,
                                      "restarts": m.restarts}), flush=True)
                    changed = True
            if changed or now - last_write > 2.0:
                self._write_state()
                last_write = now
            time.sleep(0.2)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        """SIGTERM every member (balancer first, then apps, Rasa last), SIGKILL what is left after the grace."""
        self._stopping = True
        self._write_state()
        order = sorted(self.members, key=lambda m: {"balancer": 0, "app": 1, "rasa": 2}.get(m.kind, 3))
        for m in order:
            if m.alive:
                try:
                    os.killpg(m.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and any(m.alive for m in order):
            time.sleep(0.2)
        for m in order:
            if m.alive:
                try:
                    os.killpg(m.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                m.proc.wait(timeout=10)
        self._write_state()
        (self.run_dir / "supervisor.pid").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m assistant.cluster.supervisor RUN_DIR", file=sys.stderr)
        return 2
    return ClusterSupervisor(Path(argv[0])).run()


if __name__ == "__main__":
    sys.exit(main())
