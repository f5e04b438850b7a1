"""The Rasa project and its runtime: ``rasa data validate`` passes, ``endpoints.yml`` is filled from the environment
the supervisor sets (checked with Rasa's own reader), the model fingerprint, the tracker-store URL derivation,
the model cache and the client's errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from assistant.rasa.client import RasaClient, RasaUnavailable
from assistant.rasa.supervisor import (LAUNCHER, MODEL_FILE, RasaModelCache, RasaSupervisor, project_fingerprint,
                                       rasa_env, tracker_store_env)
from assistant.settings import REPO_ROOT, Settings

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin"
needs_rasa = pytest.mark.skipif(not (RASA_BIN / "rasa").exists(), reason="the Rasa venv is not set up")


@needs_rasa
def test_rasa_data_validate_passes(tmp_path):
    proc = subprocess.run([str(RASA_BIN / "rasa"), "data", "validate", "--domain", "domain"], cwd=REPO_ROOT,
                          env=rasa_env(tmp_path / "rasa-cache"), capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "No story structure conflicts found" in out


@needs_rasa
def test_rasa_reads_endpoints_from_the_supervisor_environment(tmp_path):
    """The ${VAR}s of endpoints.yml are expanded by Rasa itself with what the supervisor derives."""
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}",
                        app_internal_url="http://127.0.0.1:8123")
    sup = RasaSupervisor(settings)
    code = ("import json; from rasa.core.utils import AvailableEndpoints; "
            "e = AvailableEndpoints.read_endpoints('endpoints.yml'); "
            "print(json.dumps({'nlu': e.nlu.url, 'action': e.action.url, 'type': e.tracker_store.type, "
            "'url': e.tracker_store.url, **e.tracker_store.kwargs}))")
    proc = subprocess.run([str(RASA_BIN / "python"), "-c", code], cwd=REPO_ROOT,
                          env=rasa_env(tmp_path / "c", sup.endpoint_env()), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["nlu"] == "http://127.0.0.1:8123/nlu"
    assert got["action"] == "http://127.0.0.1:8123/actions/webhook"
    assert got["type"] == "SQL" and got["dialect"] == "sqlite"
    assert got["url"] == f"sqlite:///{(tmp_path / 'a.db').resolve()}"


def test_supervisor_command_uses_the_port_of_rasa_url(tmp_path):
    s = Settings(environment="test", data_dir=tmp_path, rasa_url="http://127.0.0.1:5999")
    cmd = RasaSupervisor(s).command(tmp_path / "m.tar.gz")
    assert cmd[1:] == [str(LAUNCHER), "run", "--enable-api", "-i", "127.0.0.1", "-p", "5999", "-m", str(tmp_path / "m.tar.gz"),
                       "--endpoints", str(REPO_ROOT / "endpoints.yml")]
    env = rasa_env(tmp_path)
    assert env["RASA_TELEMETRY_ENABLED"] == "false" and env["RASA_CACHE_DIRECTORY"] == str(tmp_path)


# --- tracker store ---------------------------------------------------------------------------------------------------

def test_tracker_env_sqlite_relative_path_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = tracker_store_env("sqlite:///var/app.db")
    assert env == {"JXE_TRACKER_DIALECT": "sqlite", "JXE_TRACKER_URL": f"sqlite:///{tmp_path / 'var' / 'app.db'}",
                   "JXE_TRACKER_DB": str(tmp_path / "var" / "app.db")}


@pytest.mark.parametrize("url", ["postgres://jxe:s%40cret@db.local:5433/jxe",
                                 "postgresql+psycopg://jxe:s%40cret@db.local:5433/jxe",
                                 "postgresql://jxe:s%40cret@db.local:5433/jxe"])
def test_tracker_env_postgres_uses_plain_driver_and_keeps_password(url):
    env = tracker_store_env(url)
    assert env == {"JXE_TRACKER_DIALECT": "postgresql",
                   "JXE_TRACKER_URL": "postgresql://jxe:s%40cret@db.local:5433/jxe", "JXE_TRACKER_DB": "jxe"}


def test_tracker_env_memory_sqlite_needs_a_file(tmp_path):
    with pytest.raises(ValueError):
        tracker_store_env("sqlite:///:memory:")
    assert tracker_store_env("sqlite://", fallback_dir=tmp_path)["JXE_TRACKER_DB"] == \
        str(tmp_path / "rasa-trackers.db")


def test_tracker_env_rejects_other_databases():
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        tracker_store_env("mysql://u@h/db")


# --- model cache -----------------------------------------------------------------------------------------------------

def _copy_project(dst: Path) -> Path:
    shutil.copy(REPO_ROOT / "config.yml", dst / "config.yml")
    shutil.copytree(REPO_ROOT / "domain", dst / "domain")
    shutil.copytree(REPO_ROOT / "data", dst / "data")
    return dst


def test_fingerprint_follows_the_training_files_only(tmp_path):
    proj = _copy_project(tmp_path)
    fp = project_fingerprint(proj)
    assert fp == project_fingerprint(proj) and len(fp) == 16
    (proj / "endpoints.yml").write_text("nlu: {url: x}\n")
    (proj / "data" / "notes.txt").write_text("not training data")
    assert project_fingerprint(proj) == fp
    with open(proj / "data" / "rules.yml", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    assert project_fingerprint(proj) != fp


def test_model_cache_reuses_a_model_with_the_same_fingerprint(tmp_path):
    (tmp_path / "p").mkdir()
    proj = _copy_project(tmp_path / "p")
    s = Settings(environment="test", data_dir=tmp_path / "var", cache_dir=tmp_path / "cache",
                 rasa_project_dir=proj, rasa_venv=tmp_path / "no-venv")
    cache = RasaModelCache(s)
    target = cache.model_path()
    assert target.parent.name == project_fingerprint(proj) and target.name == MODEL_FILE
    with pytest.raises(FileNotFoundError, match="setup"):  # nothing cached, and no Rasa to train with
        cache.ensure_model()
    target.parent.mkdir(parents=True)
    target.write_bytes(b"model")
    assert cache.ensure_model() == target and cache.last_train_s is None


@needs_rasa
@pytest.mark.slow
def test_model_cache_trains_once_even_when_asked_concurrently(tmp_path):
    """Two caches (as two app processes would have) asking at once: one trains under the file lock, the other
    waits and reuses the result; a later call is a cache hit."""
    import threading

    (tmp_path / "p").mkdir()
    proj = _copy_project(tmp_path / "p")
    s = Settings(environment="test", data_dir=tmp_path / "var", cache_dir=tmp_path / "cache", rasa_project_dir=proj)
    caches = [RasaModelCache(s), RasaModelCache(s)]
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda c=c: paths.append(c.ensure_model())) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert len(paths) == 2 and paths[0] == paths[1] and paths[0].is_file() and paths[0].stat().st_size > 1000
    assert sorted(c.last_train_s is None for c in caches) == [False, True]
    assert (tmp_path / "var" / "logs" / "rasa-train.log").read_text().count("=== rasa train") == 1
    assert not list(paths[0].parent.glob("training-*"))
    mtime = paths[0].stat().st_mtime
    again = RasaModelCache(s)
    assert again.ensure_model() == paths[0] and paths[0].stat().st_mtime == mtime and again.last_train_s is None


# --- client ----------------------------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_client_raises_rasa_unavailable_when_nothing_listens(closed_url):
    client = RasaClient(closed_url, timeout_s=2.0)
    with pytest.raises(RasaUnavailable) as err:
        await client.send("s1", "你好")
    assert err.value.reason == "connect"
    with pytest.raises(RasaUnavailable):
        await client.status()
    await client.aclose()


@pytest.mark.asyncio
async def test_client_raises_on_timeout_and_on_errors():
    import httpx

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            raise httpx.ReadTimeout("slow", request=request)
        if request.url.path.startswith("/conversations/"):
            assert request.url.raw_path == b"/conversations/a%2Fb/tracker"
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={"not": "a list"})

    client = RasaClient("http://rasa.test", timeout_s=1.0, transport=httpx.MockTransport(handler))
    with pytest.raises(RasaUnavailable) as err:
        await client.status()
    assert err.value.reason == "timeout"
    with pytest.raises(RasaUnavailable) as err:
        await client.tracker("a/b")
    assert err.value.reason == "http_500"
    with pytest.raises(RasaUnavailable) as err:
        await client.send("s", "x")
    assert err.value.reason == "bad_json"


def test_client_accepts_settings():
    s = Settings(environment="test", rasa_url="http://127.0.0.1:5111/", rasa_timeout_s=4.0)
    c = RasaClient(s)
    assert c.base_url == "http://127.0.0.1:5111" and c.timeout_s == 4.0
    assert os.environ.get("JXE_TRACKER_URL") is None  # deriving env vars never leaks into this process


_TRACKER_PROBE = """
import asyncio, json
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

domain = Domain.load("domain")
store = TrackerStore.create(AvailableEndpoints.read_endpoints("endpoints.yml").tracker_store, domain=domain)

async def main():
    t = DialogueStateTracker("probe-1", domain.slots)
    t.update(UserUttered("你好", {"name": "greet", "confidence": 1.0}))
    t.update(SlotSet("visit_street", "X1"))
    await store.save(t)
    back = await store.retrieve("probe-1")
    print(json.dumps({"store": type(store).__name__, "slot": back.get_slot("visit_street")}))

asyncio.run(main())
"""


@needs_rasa
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # the suite's database fixture, PostgreSQL only
def test_rasa_keeps_its_tracker_in_the_apps_postgresql(tmp_path, db_url):
    """With a PostgreSQL DATABASE_URL, Rasa's own SQL tracker store writes its ``events`` table into that database
    (here a fresh schema of the test database)."""
    import sqlalchemy as sa

    from assistant.db.session import make_engine

    s = Settings(environment="test", data_dir=tmp_path, database_url=db_url, app_internal_url="http://127.0.0.1:9")
    env = RasaSupervisor(s).endpoint_env()
    assert env["JXE_TRACKER_DIALECT"] == "postgresql"
    proc = subprocess.run([str(RASA_BIN / "python"), "-c", _TRACKER_PROBE], cwd=REPO_ROOT,
                          env=rasa_env(tmp_path / "c", env), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"store": "SQLTrackerStore", "slot": "X1"}
    engine = make_engine(db_url)  # its search_path is the test's schema
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT type_name FROM events WHERE sender_id = :s"),
                                {"s": "probe-1"}).scalars().all()
    finally:
        engine.dispose()
    assert rows == ["user", "slot"]


@needs_rasa
def test_stopping_the_supervisor_while_it_trains_stops_the_training(tmp_path):
    """Ctrl-C on a first start (model still training) leaves no ``rasa train`` behind and no half model."""
    (tmp_path / "p").mkdir()
    proj = _copy_project(tmp_path / "p")
    shutil.copy(REPO_ROOT / "endpoints.yml", proj / "endpoints.yml")
    s = Settings(environment="test", data_dir=tmp_path / "var", cache_dir=tmp_path / "cache", rasa_project_dir=proj,
                 database_url=f"sqlite:///{tmp_path / 'a.db'}", rasa_url="http://127.0.0.1:9")
    sup = RasaSupervisor(s)
    sup.start()
    deadline = time.monotonic() + 60
    while sup.models.training_pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = sup.models.training_pid
    assert pid is not None and sup.state == "training"
    sup.stop()  # returns without waiting for the training: the trainer is killed and no model is written
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert sup.state == "stopped" and not sup.ready
    model_dir = sup.models.model_path().parent
    assert not model_dir.exists() or not any(model_dir.iterdir())


_LOCK_PROBE = """
import asyncio, json
from rasa.core import lock_store as ls
from rasa.core.lock_store import LockStore
from rasa.core.utils import AvailableEndpoints

store = LockStore.create(AvailableEndpoints.read_endpoints("endpoints.yml").lock_store)

async def main():
    async with store.lock("probe-lock-1", wait_time_in_seconds=0.05):
        held = store.get_lock("probe-lock-1") is not None
    print(json.dumps({"store": type(store).__name__, "held": held, "lifetime": ls.LOCK_LIFETIME}))

asyncio.run(main())
"""


@needs_rasa
@pytest.mark.parametrize("redis_url,store,lifetime", [("", "InMemoryLockStore", 60),
                                                      ("redis://127.0.0.1:6379/5", "RedisLockStore", 7)])
def test_rasa_lock_store_follows_the_apps_redis(tmp_path, redis_url, store, lifetime):
    """With JXE_REDIS_URL the Rasa servers share their conversation locks in Redis (several Rasa servers never run
    two turns of one conversation at once), with the lifetime of the settings (a server killed mid-turn blocks its
    conversation that long at most); without it the lock store is in memory, with Rasa's default lifetime."""
    s = Settings(environment="test", data_dir=tmp_path, redis_url=redis_url, app_internal_url="http://127.0.0.1:9",
                 rasa_lock_lifetime_s=7)
    env = RasaSupervisor(s).endpoint_env()
    proc = subprocess.run([str(RASA_BIN / "python"), "-c", _LOCK_PROBE], cwd=REPO_ROOT,
                          env=rasa_env(tmp_path / "c", env), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"store": store, "held": True, "lifetime": lifetime}
