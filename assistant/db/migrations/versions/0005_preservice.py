"""Pre-service (预服务): licences, reminders, home-visit bookings, new firms.

Revision ID: 0005_preservice
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_preservice"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ps_licences",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("licence_type", sa.String(64), nullable=False),
        sa.Column("licence_name", sa.String(255), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expiry_date", sa.Date, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("contact", sa.String(128), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ps_licences"),
        sa.UniqueConstraint("licence_type", "number", name="uq_ps_licences_type_number"),
    )
    op.create_index("ix_ps_licences_session_id", "ps_licences", ["session_id"])
    op.create_index("ix_ps_licences_expiry_date", "ps_licences", ["expiry_date"])
    op.create_index("ix_ps_licences_status", "ps_licences", ["status"])
    op.create_table(
        "ps_reminders",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("licence_id", sa.Integer, nullable=False),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("expiry_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
        sa.Column("message_ref", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ps_reminders"),
        sa.ForeignKeyConstraint(["licence_id"], ["ps_licences.id"], ondelete="CASCADE",
                                name="fk_ps_reminders_licence_id_ps_licences"),
        sa.UniqueConstraint("licence_id", "expiry_date", "offset_days",
                            name="uq_ps_reminders_licence_expiry_offset"),
    )
    op.create_index("ix_ps_reminders_licence_id", "ps_reminders", ["licence_id"])
    op.create_index("ix_ps_reminders_status", "ps_reminders", ["status"])
    op.create_table(
        "ps_bookings",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("person_name", sa.String(64), nullable=False),
        sa.Column("person_note", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("street", sa.String(32), nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=True),
        sa.Column("matter_name", sa.String(255), nullable=False),
        sa.Column("visit_date", sa.Date, nullable=False),
        sa.Column("half_day", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("staff_note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ps_bookings"),
        sa.UniqueConstraint("number", name="uq_ps_bookings_number"),
    )
    op.create_index("ix_ps_bookings_session_id", "ps_bookings", ["session_id"])
    op.create_index("ix_ps_bookings_street", "ps_bookings", ["street"])
    op.create_index("ix_ps_bookings_status", "ps_bookings", ["status"])
    op.create_table(
        "ps_new_firms",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("industry", sa.String(64), nullable=False),
        sa.Column("registration_date", sa.Date, nullable=False),
        sa.Column("street", sa.String(32), nullable=False),
        sa.Column("contact_session", sa.String(128), nullable=True),
        sa.Column("queue_status", sa.String(16), nullable=False),
        sa.Column("welcome_status", sa.String(16), nullable=False),
        sa.Column("staff_note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ps_new_firms"),
        sa.UniqueConstraint("credit_code", name="uq_ps_new_firms_credit_code"),
    )
    op.create_index("ix_ps_new_firms_street", "ps_new_firms", ["street"])
    op.create_index("ix_ps_new_firms_queue_status", "ps_new_firms", ["queue_status"])
    op.create_index("ix_ps_new_firms_street_status", "ps_new_firms", ["street", "queue_status"])


def downgrade() -> None:
    op.drop_table("ps_new_firms")
    op.drop_table("ps_bookings")
    op.drop_table("ps_reminders")
    op.drop_table("ps_licences")
