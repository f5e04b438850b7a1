"""Dashboard: each turn's outcome and the matter it was answered with (on the user message).

Revision ID: staff_dash_0011
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_dash_0011"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("matter_code", sa.String(64), nullable=True))
    op.create_index("ix_messages_role_created_at", "messages", ["role", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_role_created_at", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("matter_code")
        batch.drop_column("outcome")
