"""Handoff tickets for the 金帮办 workbench: place, claim, first reply, labels, summary, rating.

Revision ID: 0010_workbench_tickets
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_workbench_tickets"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("place", sa.String(64)),
    ("claimed_by", sa.String(64)),
    ("claimed_at", sa.DateTime(timezone=True)),
    ("first_reply_at", sa.DateTime(timezone=True)),
    ("labels", sa.JSON),
    ("summary", sa.Text),
    ("rating", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
