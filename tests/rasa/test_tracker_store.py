"""The launcher's SQL tracker store patch (``assistant/rasa/launcher.py``) writes exactly the rows Rasa's own
``SQLTrackerStore`` writes — same events, same order, across a new session and a repeated save — with no
``COUNT`` query per turn and one ``INSERT`` per save, and a turn starts from the tracker the database holds
whether it was kept in memory or read, also when two servers take turns of one conversation; on SQLite and
PostgreSQL (run in the Rasa venv)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.settings import REPO_ROOT

SCRIPT = Path(__file__).with_name("tracker_store_script.py")
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"


def _play(mode: str, target: str) -> dict:
    r = subprocess.run([str(RASA_PYTHON), str(SCRIPT), mode, target], capture_output=True, text=True, timeout=300,
                       env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "HOME": str(Path.home())})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def targets(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'plain.db'}", f"sqlite:{tmp_path / 'patched.db'}"
        return
    engine = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    schemas = [f"jxe_rasa_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with engine.begin() as conn:
        for s in schemas:
            conn.execute(sa.text(f'CREATE SCHEMA "{s}"'))
    try:
        yield f"postgresql:{schemas[0]}", f"postgresql:{schemas[1]}"
    finally:
        with engine.begin() as conn:
            for s in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{s}" CASCADE'))
        engine.dispose()


def test_the_patched_store_writes_rasas_rows_with_fewer_statements(targets):
    plain, patched = _play("plain", targets[0]), _play("patched", targets[1])
    assert patched["rows"] == plain["rows"]
    assert len(plain["rows"]) == 1 + 4 * 5 + 3  # the first listen, five events a turn, the new session's three
    assert plain["statements"]["count"] == 6  # Rasa counts on every save (a new tracker, four turns, one repeat)
    assert patched["statements"]["count"] == 1  # only for the new tracker, which was not loaded from the store
    assert patched["statements"]["insert"] == 5  # one per save that had new events
    # Rasa's ORM flush batches them on SQLite but sends one INSERT … RETURNING per event on PostgreSQL
    assert plain["statements"]["insert"] >= patched["statements"]["insert"]
    # every turn starts from what is stored — also the one after the new session, kept from the session's start
    # on; Rasa reads the events for each, the patched store for the new conversation and its first turn only
    assert plain["same_as_stored"] == patched["same_as_stored"] == [True] * 4
    assert plain["statements"]["read_events"] == 5
    assert patched["statements"]["read_events"] == 2


def test_two_servers_each_keeping_trackers_never_start_a_turn_from_a_stale_one(targets):
    plain, servers = _play("plain", targets[0]), _play("servers", targets[1])
    # server A keeps the tracker of turn 0, B moves the conversation on in turn 1: A reads it again for turn 2
    assert servers["same_as_stored"] == [True] * 5
    assert [r[:3] for r in servers["rows"]][:len(plain["rows"])] == [r[:3] for r in plain["rows"]]
    assert len(servers["rows"]) == len(plain["rows"]) + 5  # the fifth turn's events, nothing twice
