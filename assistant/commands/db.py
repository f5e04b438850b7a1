"""``jinxiaoer db upgrade``: migrate the app database (``settings.database_url``) to every head;
``jinxiaoer db purge --older-than DAYS``: delete personal data past the retention period
(:func:`assistant.db.retention.purge`) and print the rows per table."""

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
    p = subparsers.add_parser("db", help="database: upgrade, purge", description="Manage the app database.")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: (p.print_help(), 2)[1])
    up = sub.add_parser("upgrade", help="apply every migration (alembic upgrade heads)")
    up.set_defaults(func=_upgrade)
    pu = sub.add_parser("purge", help="delete conversations, events and deliveries older than the retention period")
    pu.add_argument("--older-than", type=int, default=None, metavar="DAYS",
                    help="retention period in days (default: JXE_RETENTION_DAYS)")
    pu.add_argument("--json", action="store_true", help="print the counts as JSON")
    pu.set_defaults(func=_purge)


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


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from assistant.db.retention import purge
    from assistant.db.session import Database

    days = args.older_than if args.older_than is not None else settings.retention_days
    if days < 1:
        print("jinxiaoer db purge: --older-than must be at least 1 day (JXE_RETENTION_DAYS=0 turns off only the "
              "scheduled purge)")
        return 2
    db = Database(settings.database_url)
    try:
        db.upgrade()
        counts = purge(db, days)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps({"older_than_days": days, "deleted": counts}, ensure_ascii=False))
    else:
        print(f"purged personal data older than {days} days:")
        for table, n in counts.items():
            print(f"  {table:<18} {n}")
    return 0
