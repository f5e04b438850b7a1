"""Signed WeChat requests seen inside the replay window (a captured signature cannot carry another body).

Revision ID: 0012_wechat_nonces
Revises: 0004_wechat
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_wechat_nonces"
down_revision = "0004_wechat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_nonces",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("body_sha", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_wechat_nonces"),
    )
    op.create_index("ix_wechat_nonces_seen_at", "wechat_nonces", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_wechat_nonces_seen_at", table_name="wechat_nonces")
    op.drop_table("wechat_nonces")
