"""``jinxiaoer db upgrade``: migrate the app database (``settings.database_url``) to every head."""

from __future__ import annotations

import argparse

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``db`` and its sub-commands to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    p = subparsers.add_parser("db", help="database: upgrade", description="Manage the app database.")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])
    up = sub.add_parser("upgrade", help="apply every migration (alembic upgrade heads)")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.db.session import make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            revs = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
            tables = sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"database {shown} is at {', '.join(revs)} ({len(tables)} tables)")
    return 0
