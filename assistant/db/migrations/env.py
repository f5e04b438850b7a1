"""Alembic environment of the app. Run through ``assistant.db.session.upgrade`` (``jinxiaoer db upgrade``);
the caller passes an open connection in ``config.attributes["connection"]`` or a URL in ``sqlalchemy.url``."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlalchemy import create_engine, pool

import assistant.db as db_pkg
from assistant.db.base import Base

# Import every table module so Base.metadata is complete (autogenerate compares against it).
for _mod in pkgutil.iter_modules(db_pkg.__path__):
    if _mod.name not in {"migrations", "session", "base"}:
        importlib.import_module(f"assistant.db.{_mod.name}")

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
