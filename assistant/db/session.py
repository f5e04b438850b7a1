"""Engine, sessions and migrations.

``Database(url)`` owns the SQLAlchemy engine and sessionmaker; ``upgrade(url)`` runs ``alembic upgrade heads``
with the migrations under ``assistant/db/migrations`` (no alembic.ini needed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _pg_driver() -> str:
    """SQLAlchemy 2.1 defaults ``postgresql://`` to psycopg 3; use psycopg2 when that is what is installed."""
    import importlib.util

    return "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://user@host/db``; a plain ``postgres://`` is
            accepted too). For SQLite the parent folder is created and foreign keys are switched on.

    Returns:
        The engine (pool pre-ping on, so a restarted PostgreSQL does not break the app).
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername=f"postgresql+{_pg_driver()}")
    kwargs: dict = {"pool_pre_ping": True, "future": True}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(u, **kwargs)
    if u.get_backend_name() == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
    return engine


def alembic_config(url: str) -> Config:
    """An alembic ``Config`` pointing at the app's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine_or_url: Engine | str, revision: str = "heads") -> None:
    """Migrate the database to ``revision`` (default: every head).

    Args:
        engine_or_url: the engine to migrate (its connection is reused) or a URL.
        revision: an alembic revision spec.
    """
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(engine_or_url, str):
        engine.dispose()


class Database:
    """The app's engine and sessionmaker.

    Args:
        url: the SQLAlchemy URL (``settings.database_url``).
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessionmaker() as s:
            with s.begin():
                yield s

    def upgrade(self) -> None:
        """Run ``alembic upgrade heads`` on this database."""
        upgrade(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
