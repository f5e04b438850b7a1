"""The 金帮办 workbench: staff accounts, login sessions, lock-out counters, presence, ticket events, ticket notes,
canned replies, call-back requests.

Revision ID: staff_core_0011_workbench
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_core_0011_workbench"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("place", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("password_changed_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_accounts"),
        sa.UniqueConstraint("username", name="uq_staff_accounts_username"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_staff_sessions"),
    )
    op.create_index("ix_staff_sessions_username", "staff_sessions", ["username"])
    op.create_table(
        "staff_login_failures",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", _TZ, nullable=False),
        sa.Column("locked_until", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_staff_login_failures"),
    )
    op.create_table(
        "staff_presence",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("place", sa.String(64), nullable=True),
        sa.Column("last_seen", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_staff_presence"),
    )
    op.create_index("ix_staff_presence_last_seen", "staff_presence", ["last_seen"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("place", sa.String(64), nullable=True),
        sa.Column("at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_notes"),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ondelete="CASCADE",
                                name="fk_ticket_notes_ticket_id_handoff_tickets"),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_replies"),
    )
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_callback_requests"),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ondelete="CASCADE",
                                name="fk_callback_requests_ticket_id_handoff_tickets"),
    )
    op.create_index("ix_callback_requests_ticket_id", "callback_requests", ["ticket_id"])
    op.create_index("ix_callback_requests_open", "callback_requests", ["ticket_id", "done_at"])


def downgrade() -> None:
    for table in ("callback_requests", "canned_replies", "ticket_notes", "ticket_events", "staff_presence",
                  "staff_login_failures", "staff_sessions", "staff_accounts"):
        op.drop_table(table)
