"""The app's database: SQLAlchemy 2 models (one module per feature), engine/session helpers and alembic
migrations (``assistant/db/migrations``; the base revision is ``"0001"``, every feature's revision hangs off it
and the app runs ``alembic upgrade heads``)."""
