"""Pre-service desk: a new firm's acknowledgement by its street and its escalation to the district (吹哨报到).

Hangs off ``0005_preservice`` (which creates ``ps_new_firms``), as ``0008`` hangs off ``0004``.

Revision ID: staff_dash_0012
Revises: 0005_preservice
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_dash_0012"
down_revision = "0005_preservice"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("acknowledged_at", sa.DateTime(timezone=True)),
    ("acknowledged_by", sa.String(64)),
    ("escalated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("ps_new_firms") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ps_new_firms") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
