"""The Rasa server process: a cache of trained models and the supervisor that runs the server.

* :class:`RasaModelCache` trains the Rasa project (``config.yml``, ``domain/``, ``data/``) with the Rasa venv into
  ``settings.cache_dir/rasa-models/<fingerprint>/`` — a file lock keeps concurrent processes from training the
  same model twice, and a model whose fingerprint matches is reused (Rasa's own ``.rasa/cache`` lives there too).
* :class:`RasaSupervisor` starts ``rasa run --enable-api --auth-token …`` on the host/port of
  ``settings.rasa_url`` (a loopback address unless ``rasa_allow_remote_bind``), with only the environment it needs
  (:func:`rasa_env`), pointed at the app (NLU and custom actions, ``endpoints.yml``) and at the app's database
  (tracker store), waits for ``/status``, restarts it with backoff when it dies, and stops it with SIGTERM then
  SIGKILL. ``ready`` and ``last_error`` feed the health checks; the server's output goes to
  ``settings.data_dir/logs/rasa.log``.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import make_url

from assistant.logging import get_logger, log_event
from assistant.settings import Settings, is_loopback_host

__all__ = ["RasaModelCache", "RasaSupervisor", "project_fingerprint", "tracker_store_env", "rasa_env",
           "CHILD_ENV_NAMES", "CHILD_ENV_PREFIXES"]

log = get_logger(__name__)

#: Part of every model fingerprint: a new Rasa release must retrain.
RASA_VERSION = "3.6.21"
#: The fixed name of every trained model inside its fingerprint folder.
MODEL_FILE = "jinxiaoer.tar.gz"
#: The script that starts ``rasa run`` inside the Rasa venv.
LAUNCHER = Path(__file__).with_name("launcher.py")


try:  # resolved in the parent: the child must not import anything between fork and exec
    import ctypes

    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (ImportError, OSError):  # pragma: no cover - not glibc Linux
    _PRCTL = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the Rasa server when its supervising thread dies (no orphaned servers if the app
    is killed without a clean shutdown)."""
    if _PRCTL is not None:
        _PRCTL(1, 15)  # PR_SET_PDEATHSIG, SIGTERM


# --- the model cache ----------------------------------------------------------------------------------------------

def _project_files(project_dir: Path) -> list[Path]:
    files = [project_dir / "config.yml"]
    for sub in ("domain", "data"):
        root = project_dir / sub
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml"})
    return files


def project_fingerprint(project_dir: Path) -> str:
    """A short hash of everything a trained model depends on.

    Args:
        project_dir: the Rasa project root (with ``config.yml``, ``domain/`` and ``data/``).

    Returns:
        16 hex digits of a SHA-256 over the Rasa version and the relative path and bytes of ``config.yml`` and
        every YAML file under ``domain/`` and ``data/`` (``endpoints.yml`` is runtime configuration, not hashed).

    Raises:
        FileNotFoundError: ``config.yml`` is missing.
    """
    h = hashlib.sha256(f"rasa=={RASA_VERSION}\n".encode())
    for path in _project_files(project_dir):
        rel = path.relative_to(project_dir).as_posix()
        h.update(f"\0{rel}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class RasaModelCache:
    """Trained Rasa models, one folder per project fingerprint under ``settings.cache_dir/rasa-models``."""

    def __init__(self, settings: Settings):
        """Args:
            settings: the app settings (``rasa_project_dir``, ``rasa_venv``, ``cache_dir``, ``data_dir``).
        """
        self.project_dir = Path(settings.rasa_project_dir).resolve()
        self.rasa_bin = Path(settings.rasa_venv) / "bin" / "rasa"
        self.root = Path(settings.cache_dir) / "rasa-models"
        self.rasa_cache_dir = self.root / ".rasa-cache"
        self.log_file = Path(settings.data_dir) / "logs" / "rasa-train.log"
        #: Seconds the last training took (``None`` when the model came from the cache).
        self.last_train_s: float | None = None
        #: Process id of the ``rasa train`` running now, if any.
        self.training_pid: int | None = None

    def fingerprint(self) -> str:
        """The fingerprint of the project as it is on disk now."""
        return project_fingerprint(self.project_dir)

    def model_path(self, fingerprint: str | None = None) -> Path:
        """Where the model for ``fingerprint`` (default: the current project) lives, trained or not."""
        return self.root / (fingerprint or self.fingerprint()) / MODEL_FILE

    def ensure_model(self, timeout_s: float = 900.0, cancel: threading.Event | None = None) -> Path:
        """Return the model for the current project, training it first when the cache has none.

        Args:
            timeout_s: give up training after this many seconds.
            cancel: when set while training, the training process is stopped and ``RuntimeError`` raised.

        Returns:
            The path of the ``.tar.gz`` model.

        Raises:
            FileNotFoundError: the Rasa venv is missing (run ``scripts/setup.sh``).
            RuntimeError: training failed (the message ends with the tail of the training log).
        """
        fp = self.fingerprint()
        target = self.model_path(fp)
        self.last_train_s = None
        if target.is_file():
            return target
        if not self.rasa_bin.exists():
            raise FileNotFoundError(f"Rasa is not installed at {self.rasa_bin} — run scripts/setup.sh first")
        with _file_lock(self.root / f"{fp}.lock"):
            if target.is_file():  # another process trained it while we waited
                return target
            out_dir = target.parent
            out_dir.mkdir(parents=True, exist_ok=True)
            tmp_name = f"training-{os.getpid()}"
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            cmd = [str(self.rasa_bin), "train", "--config", "config.yml", "--domain", "domain", "--data", "data",
                   "--out", str(out_dir), "--fixed-model-name", tmp_name]
            log_event(log, "rasa.train.started", fingerprint=fp)
            t0 = time.perf_counter()
            with open(self.log_file, "ab") as lf:
                lf.write(f"\n=== rasa train {fp} at {time.strftime('%Y-%m-%dT%H:%M:%S')} ===\n".encode())
                lf.flush()
                proc = subprocess.Popen(cmd, cwd=self.project_dir, env=rasa_env(self.rasa_cache_dir), stdout=lf,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=_die_with_parent)
                self.training_pid = proc.pid
                deadline = time.monotonic() + timeout_s
                while (rc := proc.poll()) is None:
                    if time.monotonic() > deadline or (cancel is not None and cancel.is_set()):
                        _kill_group(proc)
                        rc = -1
                        break
                    time.sleep(0.2)
                self.training_pid = None
            produced = out_dir / f"{tmp_name}.tar.gz"
            if rc != 0 or not produced.is_file():
                produced.unlink(missing_ok=True)
                if cancel is not None and cancel.is_set():
                    raise RuntimeError("rasa train was cancelled")
                raise RuntimeError(f"rasa train failed (exit {rc}); see {self.log_file}:\n{_tail(self.log_file)}")
            os.replace(produced, target)
            self.last_train_s = time.perf_counter() - t0
            log_event(log, "rasa.train.completed", fingerprint=fp, seconds=round(self.last_train_s, 1))
            return target


def _kill_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM a child's process group, SIGKILL after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, n: int = 15) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# --- environment of the Rasa process ------------------------------------------------------------------------------

def tracker_store_env(database_url: str, fallback_dir: Path | None = None) -> dict[str, str]:
    """The ``JXE_TRACKER_*`` variables ``endpoints.yml`` reads, so Rasa keeps its tracker in the app's database.

    Args:
        database_url: the app's SQLAlchemy URL (``settings.database_url``): SQLite file or PostgreSQL.
        fallback_dir: where to put a SQLite tracker file when the app's database is in memory (not shareable).

    Returns:
        ``JXE_TRACKER_DIALECT`` (``sqlite``/``postgresql``), ``JXE_TRACKER_URL`` (full URL with an absolute SQLite
        path and the plain ``postgresql://`` driver that Rasa's psycopg2 speaks) and ``JXE_TRACKER_DB``.

    Raises:
        ValueError: a database kind Rasa's SQL tracker store cannot share (e.g. MySQL without its driver).
    """
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ""
        if not db or db == ":memory:" or db.startswith("file::memory:"):
            if fallback_dir is None:
                raise ValueError("an in-memory SQLite database cannot be shared with the Rasa server")
            path = (Path(fallback_dir) / "rasa-trackers.db").resolve()
        else:
            path = Path(db).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"JXE_TRACKER_DIALECT": "sqlite", "JXE_TRACKER_URL": f"sqlite:///{path}",
                "JXE_TRACKER_DB": str(path)}
    if backend == "postgresql":
        pg = url.set(drivername="postgresql")
        return {"JXE_TRACKER_DIALECT": "postgresql",
                "JXE_TRACKER_URL": pg.render_as_string(hide_password=False),
                "JXE_TRACKER_DB": pg.database or ""}
    raise ValueError(f"Rasa's tracker store cannot use the database {backend!r}; use SQLite or PostgreSQL")


#: Variables of the app's environment a Rasa child process inherits (exact names); everything else is left out —
#: the staff token, WeChat secrets, ``DATABASE_URL`` and the like never reach Rasa.
CHILD_ENV_NAMES = ("PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR")
#: Prefixes of variables a Rasa child process inherits (Rasa's and TensorFlow's own switches).
CHILD_ENV_PREFIXES = ("RASA_", "TF_")


def lock_store_env(redis_url: str) -> dict[str, str]:
    """The ``JXE_LOCK_STORE_*`` variables ``endpoints.yml`` reads: Rasa's lock store in Redis when the app has one
    (several Rasa servers then never run two turns of one conversation at once), in memory otherwise.

    Args:
        redis_url: ``settings.redis_url`` (``redis://host:port/db``; empty: no Redis).
    """
    if not redis_url:
        return {"JXE_LOCK_STORE_TYPE": "in_memory", "JXE_LOCK_STORE_HOST": "", "JXE_LOCK_STORE_PORT": "6379",
                "JXE_LOCK_STORE_DB": "1"}
    u = urlsplit(redis_url)
    db = (u.path or "").strip("/") or "1"
    return {"JXE_LOCK_STORE_TYPE": "redis", "JXE_LOCK_STORE_HOST": u.hostname or "127.0.0.1",
            "JXE_LOCK_STORE_PORT": str(u.port or 6379), "JXE_LOCK_STORE_DB": db}


def rasa_env(rasa_cache_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a Rasa child process: only what it needs, never the app's whole environment.

    Args:
        rasa_cache_dir: Rasa's training cache (``RASA_CACHE_DIRECTORY``), kept in the app's cache dir.
        extra: more variables (the ``endpoints.yml`` ones: app URL, internal token, tracker store, API token).

    Returns:
        :data:`CHILD_ENV_NAMES` and ``RASA_*``/``TF_*`` variables of this process, Rasa's switches (telemetry
        off, thread pools of one), then ``extra``.
    """
    env = {k: v for k, v in os.environ.items() if k in CHILD_ENV_NAMES or k.startswith(CHILD_ENV_PREFIXES)}
    env.update({
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(rasa_cache_dir),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
        # The dialogue model is rules + memoization: no need for BLAS/TF thread pools on a shared 2-core box.
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    })
    env.update(extra or {})
    return env


# --- the supervisor -----------------------------------------------------------------------------------------------

class RasaSupervisor:
    """Runs the Rasa server as a child process and keeps it running.

    ``start()`` returns at once; a background thread trains (or reuses) the model, starts ``rasa run``, waits for
    ``/status`` and restarts the server with exponential backoff (1 s … 30 s) when it exits. ``ready`` is true only
    while the current process answers ``/status``.
    """

    def __init__(self, settings: Settings, *, model_cache: RasaModelCache | None = None,
                 rasa_url: str | None = None, app_internal_url: str | None = None):
        """Args:
            settings: the app settings.
            model_cache: the model cache (default: one built from ``settings``).
            rasa_url: where the server listens (default ``settings.rasa_url``); its host and port are used.
            app_internal_url: where Rasa reaches the app (default ``settings.app_internal_url``).
        """
        self.settings = settings
        self.models = model_cache or RasaModelCache(settings)
        self.rasa_url = (rasa_url or settings.rasa_url).rstrip("/")
        parts = urlsplit(self.rasa_url)
        self.host = parts.hostname or "127.0.0.1"
        if not settings.rasa_allow_remote_bind and not is_loopback_host(self.rasa_url):
            raise ValueError(f"refusing to start Rasa on {self.host}: its API would be reachable from other hosts; "
                             "use a loopback address (127.0.0.1) or set JXE_RASA_ALLOW_REMOTE_BIND=true")
        self.port = parts.port or 5005
        self.app_internal_url = (app_internal_url or settings.app_internal_url).rstrip("/")
        self.project_dir = Path(settings.rasa_project_dir).resolve()
        self.rasa_bin = Path(settings.rasa_venv) / "bin" / "rasa"
        self.log_file = Path(settings.data_dir) / "logs" / "rasa.log"
        self.start_timeout_s = float(settings.rasa_start_timeout_s)
        self.stop_grace_s = 10.0

        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        #: ``stopped`` / ``training`` / ``starting`` / ``ready`` / ``restarting`` / ``failed``.
        self.state = "stopped"
        #: The last problem (training failure, exit code, start timeout); ``None`` while all is well.
        self.last_error: str | None = None
        self.restarts = 0
        #: Starts in a row that exited or timed out before ``/status`` answered (reset when one gets ready).
        self.failed_starts = 0
        #: Seconds from spawning ``rasa run`` to the first ``/status`` answer, for the last start.
        self.last_start_s: float | None = None
        self.model_path: Path | None = None
        #: Seconds the last stop took, and whether SIGKILL was needed.
        self.last_stop_s: float | None = None
        self.last_stop_killed = False

    # -- public -----------------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True while the supervised server answers ``/status``."""
        return self._ready.is_set() and self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id of the running Rasa server, if any."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def health(self) -> dict[str, Any]:
        """What the staff health check (``/api/v1/health``) shows about Rasa: ``{"ready", "state", "last_error",
        "restarts", "url"}``."""
        return {"ready": self.ready, "state": self.state, "last_error": self.last_error,
                "restarts": self.restarts, "url": self.rasa_url}

    def endpoint_env(self) -> dict[str, str]:
        """The variables the Rasa process reads: those of ``endpoints.yml`` (app URL, internal token, tracker
        store), ``JXE_RASA_TRACKER_CACHE`` and ``JXE_RASA_AUTH_TOKEN``, which :mod:`assistant.rasa.launcher` turns
        into ``--auth-token`` (so the token is not on the command line other local users can read)."""
        env = {"JXE_APP_INTERNAL_URL": self.app_internal_url, "JXE_INTERNAL_TOKEN": self.settings.internal_token,
               "JXE_RASA_AUTH_TOKEN": self.settings.rasa_auth_token,
               "JXE_RASA_TRACKER_CACHE": str(self.settings.rasa_tracker_cache)}
        env.update(tracker_store_env(self.settings.database_url, fallback_dir=Path(self.settings.data_dir)))
        env.update(lock_store_env(self.settings.redis_url))
        if self.settings.redis_url:  # Rasa reads it from its environment, not endpoints.yml
            env["TICKET_LOCK_LIFETIME"] = str(self.settings.rasa_lock_lifetime_s)
        return env

    def command(self, model: Path) -> list[str]:
        """The ``rasa run`` command line for ``model``, through :mod:`assistant.rasa.launcher` (the action
        server's answers are validated with a schema compiled once)."""
        python = Path(self.settings.rasa_venv) / "bin" / "python"
        return [str(python), str(LAUNCHER), "run", "--enable-api", "-i", self.host, "-p", str(self.port),
                "-m", str(model), "--endpoints", str(self.project_dir / "endpoints.yml")]

    def start(self) -> None:
        """Start supervising in a background thread (returns at once; idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="rasa-supervisor", daemon=True)
            self._thread.start()

    def wait_ready(self, timeout_s: float | None = None, max_failed_starts: int | None = None) -> bool:
        """Block until the server is ready.

        Args:
            timeout_s: seconds to wait (default: ``settings.rasa_start_timeout_s`` plus training time).
            max_failed_starts: give up after this many starts in a row that died before ``/status`` answered
                (``None``: keep waiting while the supervisor retries).

        Returns:
            True when ready, False on timeout, too many failed starts, or when supervision stopped.
        """
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.start_timeout_s + 900)
        while time.monotonic() < deadline:
            if self.ready:
                return True
            if self._stop.is_set() or self.state == "failed":
                return False
            if max_failed_starts is not None and self.failed_starts >= max_failed_starts:
                return False
            time.sleep(0.2)
        return self.ready

    def stop(self, grace_s: float | None = None) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL after ``grace_s`` seconds; stop supervising.

        Args:
            grace_s: seconds to wait after SIGTERM (default 10).
        """
        self._stop.set()
        self._ready.clear()
        self._terminate(self.stop_grace_s if grace_s is None else grace_s)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.state = "stopped"

    async def astop(self, grace_s: float | None = None) -> None:
        """:meth:`stop` without blocking the event loop (for an ASGI lifespan)."""
        await asyncio.to_thread(self.stop, grace_s)

    # -- internals ----------------------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.state = "training"
                self.model_path = self.models.ensure_model(cancel=self._stop)
            except Exception as exc:  # noqa: BLE001 - reported through health, retried
                if self._stop.is_set():
                    break
                self.last_error = f"training failed: {exc}"
                self.state = "failed" if isinstance(exc, FileNotFoundError) else "restarting"
                log_event(log, "rasa.train.failed", level=40, error=str(exc)[:500])
                if self.state == "failed" or self._stop.wait(min(backoff, 30.0)):
                    return
                backoff = min(backoff * 2, 30.0)
                continue
            started_ok = self._spawn_and_watch()
            if self._stop.is_set():
                break
            self.failed_starts = 0 if started_ok else self.failed_starts + 1
            self.restarts += 1
            self.state = "restarting"
            backoff = 1.0 if started_ok else min(backoff * 2, 30.0)
            log_event(log, "rasa.server.restarting", level=30, in_s=backoff, error=self.last_error)
            if self._stop.wait(backoff):
                break
        self.state = "stopped"

    def _spawn_and_watch(self) -> bool:
        """Start one server process and watch it until it exits. Returns True if it became ready."""
        assert self.model_path is not None
        self.state = "starting"
        self._ready.clear()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            env = rasa_env(self.models.rasa_cache_dir, self.endpoint_env())
        except ValueError as exc:
            self.last_error = str(exc)
            self.state = "failed"
            self._stop.set()
            return False
        with open(self.log_file, "ab") as lf:
            lf.write(f"\n=== rasa run {self.model_path.name} at {time.strftime('%Y-%m-%dT%H:%M:%S')} ===\n".encode())
            lf.flush()
            t0 = time.perf_counter()
            with self._lock:
                if self._stop.is_set():
                    return False
                self._proc = subprocess.Popen(self.command(self.model_path), cwd=self.project_dir, env=env,
                                              stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True, preexec_fn=_die_with_parent)
            proc = self._proc
        log_event(log, "rasa.server.spawned", pid=proc.pid, port=self.port, model=str(self.model_path))
        became_ready = False
        deadline = time.monotonic() + self.start_timeout_s
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while not self._stop.is_set():
                rc = proc.poll()
                if rc is not None:
                    self._ready.clear()
                    self.last_error = f"rasa exited with code {rc}; see {self.log_file}"
                    log_event(log, "rasa.server.exited", level=40, code=rc)
                    return became_ready
                if not became_ready:
                    if self._status_ok(http):
                        became_ready = True
                        self.last_start_s = time.perf_counter() - t0
                        self.last_error = None
                        self.state = "ready"
                        self._ready.set()
                        log_event(log, "rasa.server.ready", pid=proc.pid, start_s=round(self.last_start_s, 1))
                    elif time.monotonic() > deadline:
                        self.last_error = f"rasa did not answer /status within {self.start_timeout_s:.0f} s"
                        log_event(log, "rasa.server.start_timeout", level=40)
                        self._terminate(self.stop_grace_s)
                        return False
                    else:
                        self._stop.wait(0.25)
                else:
                    self._stop.wait(1.0)
        return became_ready

    def _status_ok(self, http: httpx.Client) -> bool:
        try:
            return http.get(f"{self.rasa_url}/status",
                            params={"token": self.settings.rasa_auth_token}).status_code == 200
        except httpx.HTTPError:
            return False

    def _terminate(self, grace_s: float) -> None:
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        t0 = time.perf_counter()
        self.last_stop_killed = False
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            log_event(log, "rasa.server.killed", level=30, pid=proc.pid, grace_s=grace_s)
            self.last_stop_killed = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        self.last_stop_s = time.perf_counter() - t0
        log_event(log, "rasa.server.stopped", pid=proc.pid, seconds=round(self.last_stop_s, 2),
                  killed=self.last_stop_killed)
