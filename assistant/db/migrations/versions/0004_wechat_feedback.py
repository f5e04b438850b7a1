"""WeChat channels (inbound de-duplication, customer-service deliveries, users) and answer feedback.

Revision ID: 0004_wechat
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_wechat"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_inbound",
        sa.Column("dedup_key", sa.String(160), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("msg_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=True),
        sa.Column("reply_chunks", sa.JSON, nullable=True),
        sa.Column("transferred", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedup_key", name="pk_wechat_inbound"),
    )
    op.create_index("ix_wechat_inbound_openid", "wechat_inbound", ["openid"])
    op.create_table(
        "wechat_deliveries",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(160), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("errcode", sa.Integer, nullable=True),
        sa.Column("errmsg", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wechat_deliveries"),
    )
    op.create_index("ix_wechat_deliveries_dedup_key", "wechat_deliveries", ["dedup_key"])
    op.create_index("ix_wechat_deliveries_openid", "wechat_deliveries", ["openid"])
    op.create_table(
        "wechat_users",
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("last_buttons", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("openid", name="pk_wechat_users"),
        sa.UniqueConstraint("session_id", name="uq_wechat_users_session_id"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("message_ref", sa.String(64), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("answer_text", sa.Text, nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_session_id", "feedback", ["session_id"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("wechat_users")
    op.drop_table("wechat_deliveries")
    op.drop_table("wechat_inbound")
