"""Base revision: conversations, messages, handoff tickets.

Every feature's own revision names ``down_revision = "0001"``; the app runs ``alembic upgrade heads``.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False, server_default="web"),
        sa.Column("matter_code", sa.String(64), nullable=True),
        sa.Column("matter_name", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_conversations"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(["session_id"], ["conversations.session_id"], ondelete="CASCADE",
                                name="fk_messages_session_id_conversations"),
    )
    op.create_index("ix_messages_session_id", "messages", ["session_id"])
    op.create_index("ix_messages_session_role_id", "messages", ["session_id", "role", "id"])
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False, server_default="web"),
        sa.Column("matter_code", sa.String(64), nullable=True),
        sa.Column("matter_name", sa.String(255), nullable=True),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("reason", sa.String(255), nullable=False, server_default=""),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_tickets"),
    )
    op.create_index("ix_handoff_tickets_session_id", "handoff_tickets", ["session_id"])
    op.create_index("ix_handoff_tickets_status", "handoff_tickets", ["status"])


def downgrade() -> None:
    op.drop_table("handoff_tickets")
    op.drop_table("messages")
    op.drop_table("conversations")
