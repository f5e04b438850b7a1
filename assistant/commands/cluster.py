"""``jinxiaoer cluster up|status|down|render|rasa``: the production topology on one machine.

* ``up --app-replicas N --rasa-replicas M --port P [--run-dir D]`` — migrate the database, train the Rasa model
  and build the NLU caches once, write ``D/haproxy.cfg`` and ``D/plan.json`` from :mod:`assistant.cluster.topology`, start the supervisor
  (:mod:`assistant.cluster.supervisor`) as a daemon and wait until every member answers its health check.
  Needs PostgreSQL (``DATABASE_URL``/``JXE_DATABASE_URL``) and Redis (``REDIS_URL``/``JXE_REDIS_URL``) and HAProxy
  (``scripts/install-balancer.sh`` installs Debian's package).
* ``status [--json]`` — ``{"members": [{"name", "pid", "alive", "restarts", "url", "healthy"}, …]}``.
* ``down`` — stop the supervisor and every member.
* ``render --out deploy/`` — the same topology as deploy files (docker compose, systemd, haproxy.cfg).
* ``rasa --port X`` — one Rasa server of the pool (used by the plan, systemd and compose): trains the model if the
  cache has none, then becomes ``rasa run`` (exec) with only the environment Rasa needs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from assistant.settings import REPO_ROOT, Settings

__all__ = ["register", "plan_for", "up", "status", "down"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cluster`` and its actions to the ``jinxiaoer`` parser."""
    p = subparsers.add_parser("cluster", help="run the production topology (balancer, app replicas, Rasa pool)",
                              description="Run 金小二 as N app replicas and M Rasa servers behind HAProxy.")
    sub = p.add_subparsers(dest="cluster_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])
    run_dir = dict(default=None, help="the cluster's run directory (default: <data dir>/cluster)")

    u = sub.add_parser("up", help="start the topology and wait until it is healthy")
    u.add_argument("--app-replicas", type=int, default=2)
    u.add_argument("--rasa-replicas", type=int, default=2)
    u.add_argument("--port", type=int, default=8000, help="public port of the balancer (members use P+1 … P+90)")
    u.add_argument("--bind", default="127.0.0.1", help="address of the public frontend (0.0.0.0: every interface)")
    u.add_argument("--run-dir", **run_dir)
    u.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for every member to be healthy")
    u.add_argument("--no-wait", action="store_true", help="return once the supervisor runs")
    u.set_defaults(func=_up)

    s = sub.add_parser("status", help="the members, their pids, restarts and health")
    s.add_argument("--json", action="store_true")
    s.add_argument("--run-dir", **run_dir)
    s.set_defaults(func=_status)

    d = sub.add_parser("down", help="stop every member and the supervisor")
    d.add_argument("--run-dir", **run_dir)
    d.set_defaults(func=_down)

    r = sub.add_parser("render", help="write the deploy files (compose, systemd, haproxy.cfg) of a topology")
    r.add_argument("--app-replicas", type=int, default=2)
    r.add_argument("--rasa-replicas", type=int, default=2)
    r.add_argument("--port", type=int, default=8000)
    r.add_argument("--out", default=str(REPO_ROOT / "deploy"))
    r.set_defaults(func=_render)

    ra = sub.add_parser("rasa", help="run one Rasa server of the pool on 127.0.0.1:PORT (exec's rasa run)")
    ra.add_argument("--port", type=int, required=True)
    ra.set_defaults(func=_rasa)


def _run_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.run_dir or Path(settings.data_dir) / "cluster").resolve()


def jinxiaoer_program() -> str:
    """The ``jinxiaoer`` launcher of this checkout (``.venv/bin/jinxiaoer``)."""
    exe = REPO_ROOT / ".venv" / "bin" / "jinxiaoer"
    return str(exe) if exe.exists() else (shutil.which("jinxiaoer") or "jinxiaoer")


def plan_for(topology, run_dir: Path, jinxiaoer: str | None = None) -> dict:
    """The supervisor's plan (``plan.json``) for ``topology``: each member's name, kind, URL and command."""
    from assistant.cluster.deploy import member_argv

    jx = jinxiaoer or jinxiaoer_program()
    cfg = str(Path(run_dir) / "haproxy.cfg")
    return {"cwd": str(REPO_ROOT), "members": [
        {"name": m.name, "kind": m.kind, "url": m.url, "health": m.health, "argv": member_argv(m, jx, cfg)}
        for m in topology.members()]}


def _problem(settings: Settings) -> str | None:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return ("the cluster needs PostgreSQL shared by every replica: set DATABASE_URL (or JXE_DATABASE_URL) to "
                "postgresql://user@host:5432/db")
    if not settings.redis_url:
        return "the cluster needs Redis shared by every replica: set REDIS_URL (or JXE_REDIS_URL) to redis://host:6379/0"
    if not shutil.which("haproxy"):
        return "HAProxy is not installed: run scripts/install-balancer.sh (Debian's haproxy package)"
    return None


#: Shared secrets ``cluster up`` generates when the operator's environment has none (see :func:`_secrets`).
GENERATED_SECRETS = ("JXE_INTERNAL_TOKEN", "JXE_RASA_AUTH_TOKEN", "JXE_PSEUDONYM_KEY")


def _secrets(run_dir: Path, settings: Settings) -> dict[str, str]:
    """The shared secrets every member must agree on (the internal and Rasa API tokens, and the pseudonym key
    that turns session ids and client addresses into the same references on every replica): from the environment,
    else generated once and kept in ``run_dir/secrets.env`` (mode 600) so restarts keep them."""
    path = run_dir / "secrets.env"
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                kept[k] = v
    out = {}
    for name in GENERATED_SECRETS:
        out[name] = os.environ.get(name) or kept.get(name) or secrets.token_urlsafe(32)
    path.write_text("".join(f"{k}={v}\n" for k, v in out.items()))
    os.chmod(path, 0o600)
    return out


def up(topology, settings: Settings, run_dir: Path, *, wait_s: float | None = 900.0, out=sys.stderr) -> int:
    """Start ``topology`` (see the module doc). Returns the exit code (0: every member healthy)."""
    from assistant.cluster.supervisor import pid_alive, read_state, write_json_atomic
    from assistant.cluster.topology import haproxy_config, shared_env

    problem = _problem(settings)
    if problem:
        print(f"jinxiaoer cluster: {problem}", file=out)
        return 2
    run_dir.mkdir(parents=True, exist_ok=True)
    state = read_state(run_dir)
    if state and pid_alive(state.get("supervisor_pid")) and not state.get("stopping"):
        print(f"jinxiaoer cluster: already running (supervisor {state['supervisor_pid']}); "
              "`jinxiaoer cluster down` first", file=out)
        return 2
    env = {**os.environ, **shared_env(topology), **_secrets(run_dir, settings)}
    # once, before the replicas start: the migration and the Rasa model (replicas would race for both)
    print("jinxiaoer cluster: migrating the database and preparing the Rasa model …", file=out, flush=True)
    prep = subprocess.run([jinxiaoer_program(), "db", "upgrade"], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True)
    if prep.returncode != 0:
        print(f"jinxiaoer cluster: db upgrade failed:\n{prep.stderr[-1500:]}", file=out)
        return 1
    from assistant.rasa.supervisor import RasaModelCache

    RasaModelCache(settings).ensure_model()
    # the NLU's caches (faiss index, intent classifier) are built by the first process that needs them: build them
    # here once, or every replica builds its own copy at the same time (minutes of CPU each when cold)
    warm = subprocess.run([jinxiaoer_program(), "nlu", "parse", "你好"], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True)
    if warm.returncode != 0:
        print(f"jinxiaoer cluster: the NLU did not load:\n{warm.stderr[-1500:]}", file=out)
        return 1
    cfg = run_dir / "haproxy.cfg"
    cfg.write_text(haproxy_config(topology))
    check = subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
    if check.returncode != 0:
        print(f"jinxiaoer cluster: haproxy rejects {cfg}:\n{check.stderr[-1500:]}", file=out)
        return 1
    write_json_atomic(run_dir / "plan.json", plan_for(topology, run_dir))
    (run_dir / "state.json").unlink(missing_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    with open(run_dir / "logs" / "supervisor.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cluster.supervisor", str(run_dir)], env=env,
                                cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    print(f"jinxiaoer cluster: supervisor {proc.pid}, run dir {run_dir}", file=out, flush=True)
    if wait_s is None:
        return 0
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"jinxiaoer cluster: the supervisor exited ({proc.returncode}); see {run_dir}/logs", file=out)
            return 1
        members = status(run_dir)["members"]
        if members and all(m["alive"] and m["healthy"] for m in members):
            print(f"jinxiaoer cluster: up — http://{topology.bind}:{topology.port}/", file=out, flush=True)
            return 0
        time.sleep(1.0)
    print("jinxiaoer cluster: not every member became healthy in time; see `jinxiaoer cluster status` and "
          f"{run_dir}/logs", file=out)
    return 1


def _probe(url: str, path: str, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(url + path, timeout=timeout, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def status(run_dir: Path, probe: bool = True) -> dict:
    """The cluster's members as the supervisor last wrote them, each checked again: ``alive`` (the pid runs),
    ``healthy`` (its health check answers 200)."""
    from assistant.cluster.supervisor import pid_alive, read_state

    state = read_state(run_dir) or {"members": []}
    plan = {}
    try:
        plan = {m["name"]: m for m in json.loads((run_dir / "plan.json").read_text())["members"]}
    except (OSError, ValueError, KeyError):
        pass
    sup = state.get("supervisor_pid")
    out = {"supervisor": {"pid": sup, "alive": pid_alive(sup)}, "run_dir": str(run_dir), "members": []}
    for m in state.get("members", []):
        alive = bool(m.get("alive")) and pid_alive(m.get("pid"))
        view = {"name": m["name"], "kind": m.get("kind"), "pid": m.get("pid") if alive else None, "alive": alive,
                "restarts": m.get("restarts", 0), "url": m.get("url"), "last_exit": m.get("last_exit")}
        if probe:
            view["healthy"] = alive and _probe(m["url"], plan.get(m["name"], {}).get("health", "/"))
        out["members"].append(view)
    return out


def down(run_dir: Path, timeout_s: float = 60.0) -> int:
    """Stop the supervisor (it stops the members); SIGKILL any member left. Returns 0."""
    from assistant.cluster.supervisor import pid_alive, read_state

    state = read_state(run_dir) or {}
    sup = state.get("supervisor_pid")
    if pid_alive(sup):
        os.kill(sup, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while pid_alive(sup) and time.monotonic() < deadline:
            time.sleep(0.2)
    for m in (read_state(run_dir) or {}).get("members", []):
        if pid_alive(m.get("pid")):
            try:
                os.killpg(m["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    if pid_alive(sup):
        os.kill(sup, signal.SIGKILL)
    return 0


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cluster.topology import Topology

    try:
        topology = Topology(args.app_replicas, args.rasa_replicas, args.port, args.bind)
    except ValueError as exc:
        print(f"jinxiaoer cluster: {exc}", file=sys.stderr)
        return 2
    return up(topology, settings, _run_dir(args, settings), wait_s=None if args.no_wait else args.timeout)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    st = status(_run_dir(args, settings))
    if args.json:
        print(json.dumps(st, ensure_ascii=False))
    else:
        print(f"supervisor {st['supervisor']['pid']} {'running' if st['supervisor']['alive'] else 'not running'}")
        for m in st["members"]:
            print(f"{m['name']:<10} pid {str(m['pid'] or '-'):<8} {'alive' if m['alive'] else 'DEAD ':<6} "
                  f"{'healthy' if m.get('healthy') else 'unhealthy':<10} restarts {m['restarts']:<3} {m['url']}")
    return 0 if st["members"] and all(m["alive"] for m in st["members"]) else 1


def _down(args: argparse.Namespace, settings: Settings) -> int:
    return down(_run_dir(args, settings))


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cluster.deploy import render
    from assistant.cluster.topology import Topology

    out = Path(args.out)
    for rel, text in render(Topology(args.app_replicas, args.rasa_replicas, args.port)).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


def _rasa(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.rasa.supervisor import RasaModelCache, RasaSupervisor, rasa_env

    cache = RasaModelCache(settings)
    model = cache.ensure_model()
    sup = RasaSupervisor(settings, model_cache=cache, rasa_url=f"http://127.0.0.1:{args.port}")
    env = rasa_env(cache.rasa_cache_dir, sup.endpoint_env())
    argv = sup.command(model)
    sys.stdout.flush()
    os.chdir(sup.project_dir)
    os.execve(argv[0], argv, env)  # this process becomes the Rasa server (its pid is the member's pid)
    return 1  # pragma: no cover - exec does not return
