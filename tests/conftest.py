"""Base fixtures shared by every test package.

- ``make_settings(**overrides)``: a test ``Settings`` with a temporary SQLite database, no managed Rasa and
  ``rasa_url`` pointing at a closed port (so the fallback path is exercised unless a test starts Rasa).
- ``kb`` / ``nlu``: the committed knowledge base and the real NLU, built once per session.
- ``app_client``: a ``TestClient`` over ``create_app`` (lifespan run: migrations applied) with ``kb`` and no NLU;
  ``nlu_app_client``: the same with the real ``nlu``. Both keep and send session tokens like a citizen's client
  (``tests/citizen.py``).
- ``db_url``: THE database fixture of the suite: a URL parametrised over SQLite and, when
  ``JXE_TEST_POSTGRES_URL`` is set (``make test`` sets it), PostgreSQL (a fresh schema per test, dropped
  afterwards). Every test where PostgreSQL's locking differs from SQLite's (claims, retries, dedup, bookings,
  deliveries, turn keys, leadership) takes it, directly or through ``db_services``.
- ``db_services``: the app's real ``Services`` (KB, no NLU, no Rasa) on ``db_url``, migrated.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

# the live stack (app + real Rasa) is one session-wide fixture shared by every folder that uses it
pytest_plugins = ["tests.live_stack", "tests.no_silent_skips"]

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "artifacts"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (for 'Rasa is down')."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite database at the migrations' head, made once per session. Tests start from a copy of it
    instead of migrating an empty file anew (~0.15 s each); the app still runs ``upgrade`` at start, which finds
    nothing to do. The migrations themselves are tested from empty (``tests/assistant/test_db.py``)."""
    from assistant.db.session import Database

    path = tmp_path_factory.mktemp("migrated") / "head.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:  # one self-contained file to copy (no -wal beside it)
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    db.dispose()
    return path


def copy_migrated(url: str, template: Path) -> None:
    """Put a copy of ``template`` at the file of a SQLite ``url`` when nothing is there yet."""
    if url.startswith("sqlite:///"):
        target = Path(url[len("sqlite:///"):])
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template, target)


@pytest.fixture
def make_settings(tmp_path, closed_url, migrated_sqlite):
    """Build a test ``Settings``: tmp data dir + SQLite (already at the migrations' head), Rasa unmanaged at a
    closed port, no staff token."""
    from assistant.settings import Settings

    def _make(**overrides):
        values = dict(environment="test", data_dir=tmp_path / "var", database_url="", rasa_manage=False,
                      rasa_url=closed_url, rasa_timeout_s=3.0, staff_token=None, log_level="INFO")
        values.update(overrides)
        settings = Settings(**values)
        copy_migrated(settings.database_url, migrated_sqlite)
        return settings

    return _make


@pytest.fixture(scope="session")
def kb():
    """The committed knowledge base, loaded once per session."""
    from assistant.settings import Settings
    from knowledge.kb import KnowledgeBase

    s = Settings(environment="test")
    return KnowledgeBase.load(s.kb_dir, s.guides_dir)


def _nlu_import_error() -> str | None:
    """Why ``nlu.NLU`` cannot be imported (a dependency not installed), or ``None``."""
    try:
        from nlu import NLU  # noqa: F401
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def nlu(kb):
    """The real NLU over ``kb`` (m3e-small embeddings, cached index), built once per session."""
    error = _nlu_import_error()
    if error is not None:  # never a skip: every NLU, real-Rasa, browser and kiosk test depends on it
        pytest.fail(f"a required part is missing: the NLU cannot be imported ({error}); run scripts/setup.sh")
    from assistant.container import load_nlu
    from assistant.settings import Settings

    return load_nlu(Settings(environment="test"), kb)


def _client(app):
    from tests.citizen import citizen_client

    return citizen_client(app, raise_server_exceptions=False)


@pytest.fixture
def app_client(make_settings, kb):
    """A ``TestClient`` for a fresh app with the KB but no NLU (it stays "loading"): fast HTTP-level tests.

    Tmp SQLite (migrated by the lifespan), Rasa down, staff token ``test-staff-token``.
    """
    from assistant.app import create_app

    app = create_app(make_settings(staff_token="test-staff-token"), kb=kb, load_models=False)
    with _client(app) as client:
        yield client


@pytest.fixture
def nlu_app_client(make_settings, kb, nlu):
    """Like ``app_client`` but with the real NLU (the fallback answers from NLU + KB search)."""
    from assistant.app import create_app

    app = create_app(make_settings(staff_token="test-staff-token"), kb=kb, nlu=nlu)
    with _client(app) as client:
        yield client


def _postgres_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("JXE_TEST_POSTGRES_URL"):
        params.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=_postgres_params())
def db_url(request, tmp_path):
    """A database URL: SQLite in tmp_path, or PostgreSQL (``JXE_TEST_POSTGRES_URL``) in a fresh schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    import sqlalchemy as sa

    from assistant.db.session import make_engine

    base = os.environ.get("JXE_TEST_POSTGRES_URL")
    if not base:
        pytest.fail("this test needs PostgreSQL: set JXE_TEST_POSTGRES_URL (make test sets it)")
    schema = f"jxe_test_{uuid.uuid4().hex[:12]}"
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def db_services(make_settings, kb, db_url):
    """The app's real ``Services`` over ``db_url`` (SQLite, or a fresh PostgreSQL schema), migrated; KB loaded,
    no NLU, no Rasa."""
    from assistant.container import build_services

    services = build_services(make_settings(database_url=db_url, staff_token="ps-staff-token"), kb=kb, rasa=None)
    services.db.upgrade()
    yield services
    from assistant.db import leader

    for (url, _job), lead in list(leader._SHARED.items()):  # a PostgreSQL leader holds a connection: give it back
        if url == services.db.engine.url.render_as_string(hide_password=False):
            lead.release()
    services.db.dispose()
