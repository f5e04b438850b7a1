"""Engine, sessions and migrations.

``Database(url)`` owns the SQLAlchemy engine and sessionmaker; ``upgrade(url)`` runs ``alembic upgrade heads``
with the migrations under ``assistant/db/migrations`` (no alembic.ini needed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: A pooled server connection idle longer than this is checked (``SELECT 1``) before it is handed out again; one
#: used more recently is handed out as it is. Under traffic that saves a round trip on every checkout (a turn
#: checks out about ten connections), while a connection left over from before a database restart is still caught
#: (and replaced) before a request uses it.
PING_IDLE_S = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections idle over :data:`PING_IDLE_S` (SQLAlchemy's
    ``pool_pre_ping`` pings on every checkout)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):  # pragma: no cover - exercised by every test on PostgreSQL
        record.info["jxe_returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        returned = record.info.get("jxe_returned")
        if returned is None or time.monotonic() - returned < PING_IDLE_S:
            return  # new (just connected) or used a moment ago
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
        except Exception as e:  # the server closed it (restart, idle timeout): the pool connects anew
            raise exc.DisconnectionError() from e


def _pg_driver() -> str:
    """SQLAlchemy 2.1 defaults ``postgresql://`` to psycopg 3; use psycopg2 when that is what is installed."""
    import importlib.util

    return "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url``.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://user@host/db``; a plain ``postgres://`` is
            accepted too). For SQLite the parent folder is created and foreign keys are switched on.
        options: more ``create_engine`` arguments (e.g. ``isolation_level``).

    Returns:
        The engine. A server database pings pooled connections that sat idle (:data:`PING_IDLE_S`), so a
        restarted PostgreSQL does not break the app.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername=f"postgresql+{_pg_driver()}")
    kwargs: dict = {"future": True, **options}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(u, **kwargs)
    if u.get_backend_name() != "sqlite":
        _ping_idle_connections(engine)
    if u.get_backend_name() == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
    return engine


def upsert_statement(dialect: str, model: type, values: dict[str, Any], keys: tuple[str, ...],
                     update: tuple[str, ...] | None = None) -> Any:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` of one row, one statement (PostgreSQL and SQLite).

    Args:
        dialect: ``postgresql`` or ``sqlite`` (``engine.dialect.name``).
        model: the mapped class.
        values: every column to write when the row is new.
        keys: the unique columns the conflict is on.
        update: the columns of ``values`` an existing row takes (default: every column but ``keys``).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app runs on PostgreSQL or SQLite
        raise NotImplementedError(f"upsert on {dialect}")
    stmt = insert(model).values(**values)
    return stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={k: stmt.excluded[k] for k in (update or values) if k not in keys})


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
        # statements that commit on their own (no BEGIN/COMMIT round trips around a single read or upsert): a
        # pool of their own on a server database (switching a pooled connection to autocommit and back costs
        # more than the round trips it saves); the same file's engine on SQLite (":memory:" is one database)
        self.autocommit_engine = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                                  if self.engine.dialect.name == "sqlite"
                                  else make_engine(url, isolation_level="AUTOCOMMIT"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessionmaker() as s:
            with s.begin():
                yield s

    def first(self, statement: Any) -> Any:
        """The first row of one read statement (``None`` when there is none), on an autocommit connection:
        the cheapest read there is (no ORM, no transaction)."""
        with self.autocommit_engine.connect() as conn:
            return conn.execute(statement).first()

    def run(self, statement: Any) -> Any:
        """Run one statement that commits on its own (an insert, an upsert); returns its result's rowcount."""
        with self.autocommit_engine.connect() as conn:
            return conn.execute(statement).rowcount

    def upgrade(self) -> None:
        """Run ``alembic upgrade heads`` on this database."""
        upgrade(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.engine.dialect.name != "sqlite":  # SQLite's shares the pool just disposed
            self.autocommit_engine.dispose()
