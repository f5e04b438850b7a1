"""WeChat access tokens shared by every process.

Revision ID: 0008_wechat_tokens
Revises: 0004_wechat
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_wechat_tokens"
down_revision = "0004_wechat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_tokens",
        sa.Column("appid", sa.String(64), nullable=False),
        sa.Column("token", sa.String(512), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("appid", name="pk_wechat_tokens"),
    )


def downgrade() -> None:
    op.drop_table("wechat_tokens")
