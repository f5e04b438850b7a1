"""Dashboard and pre-service desk: each turn's outcome and answered matter; a new firm's acknowledgement and
escalation (吹哨报到).

Revision ID: staff_dash_0011
Revises: 0001 (needs 0005_preservice for ps_new_firms)
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_dash_0011"
down_revision = "0001"
branch_labels = None
depends_on = "0005_preservice"

_FIRM_COLUMNS = (
    ("acknowledged_at", sa.DateTime(timezone=True)),
    ("acknowledged_by", sa.String(64)),
    ("escalated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("matter_code", sa.String(64), nullable=True))
    op.create_index("ix_messages_role_created_at", "messages", ["role", "created_at"])
    with op.batch_alter_table("ps_new_firms") as batch:
        for name, type_ in _FIRM_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ps_new_firms") as batch:
        for name, _ in reversed(_FIRM_COLUMNS):
            batch.drop_column(name)
    op.drop_index("ix_messages_role_created_at", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("matter_code")
        batch.drop_column("outcome")
