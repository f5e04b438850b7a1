"""The lease of the replica computing a WeChat message's answer (``wechat_inbound.lease_until``), so a retry that
reaches another replica while the owner still computes is not computed a second time.

Revision ID: 0014_wechat_lease
Revises: 0012_wechat_nonces
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_wechat_lease"
down_revision = "0012_wechat_nonces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_inbound") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wechat_inbound") as batch:
        batch.drop_column("lease_until")
