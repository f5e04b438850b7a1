"""Dialogue state per conversation (the dialogue's memory, shared by every replica and the degraded path).

Revision ID: 0006_dialogue_state
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_dialogue_state"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogue_states",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("state", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_dialogue_states"),
    )


def downgrade() -> None:
    op.drop_table("dialogue_states")
