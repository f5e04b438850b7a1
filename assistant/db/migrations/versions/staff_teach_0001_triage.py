"""The triage inbox (teach the assistant): triage items and learned examples.

Revision ID: staff_teach_0001_triage
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_teach_0001_triage"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_items",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=True),
        sa.Column("matter_name", sa.String(255), nullable=True),
        sa.Column("matter_score", sa.Float, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolution", sa.JSON, nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_triage_items"),
    )
    op.create_index("ix_triage_items_created_at", "triage_items", ["created_at"])
    op.create_index("ix_triage_items_status_id", "triage_items", ["status", "id"])
    op.create_table(
        "learned_examples",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch", sa.String(32), nullable=False),
        sa.Column("check", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("triage_item_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_learned_examples"),
    )
    op.create_index("ix_learned_examples_status", "learned_examples", ["status"])


def downgrade() -> None:
    op.drop_index("ix_learned_examples_status", table_name="learned_examples")
    op.drop_table("learned_examples")
    op.drop_index("ix_triage_items_status_id", table_name="triage_items")
    op.drop_index("ix_triage_items_created_at", table_name="triage_items")
    op.drop_table("triage_items")
