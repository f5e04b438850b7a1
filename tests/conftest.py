"""Base fixtures shared by every test package.

- ``make_settings(**overrides)``: a test ``Settings`` with a temporary SQLite database, no managed Rasa and
  ``rasa_url`` pointing at a closed port (so the fallback path is exercised unless a test starts Rasa).
- ``kb`` / ``nlu``: the committed knowledge base and the real NLU, built once per session.
- ``app_client``: a ``TestClient`` over ``create_app`` (lifespan run: migrations applied) with ``kb`` and no NLU;
  ``nlu_app_client``: the same with the real ``nlu``. Both keep and send session tokens like a citizen's client
  (``tests/citizen.py``).
- ``db_url``: a database URL parametrised over SQLite and, when ``JXE_TEST_POSTGRES_URL`` is set, PostgreSQL
  (a fresh schema per test, dropped afterwards).
"""

from __future__ import annotations

import os
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


@pytest.fixture
def make_settings(tmp_path, closed_url):
    """Build a test ``Settings``: tmp data dir + SQLite, Rasa unmanaged at a closed port, no staff token."""
    from assistant.settings import Settings

    def _make(**overrides):
        values = dict(environment="test", data_dir=tmp_path / "var", database_url="", rasa_manage=False,
                      rasa_url=closed_url, rasa_timeout_s=3.0, staff_token=None, log_level="INFO")
        values.update(overrides)
        return Settings(**values)

    return _make


@pytest.fixture(scope="session")
def kb():
    """The committed knowledge base, loaded once per session."""
    from assistant.settings import Settings
    from knowledge.kb import KnowledgeBase

    s = Settings(environment="test")
    return KnowledgeBase.load(s.kb_dir, s.guides_dir)


def _nlu_available() -> bool:
    try:
        from nlu import NLU  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def nlu(kb):
    """The real NLU over ``kb`` (m3e-small embeddings, cached index), built once per session."""
    if not _nlu_available():
        pytest.fail("nlu.NLU is not importable: run scripts/setup.sh")
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

    base = os.environ["JXE_TEST_POSTGRES_URL"]
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
