"""Citizen session credentials: the hash of each conversation's session token.

Conversations that exist before this migration get no hash: no client holds a token for them, so the citizen API
treats them as closed (401) and the web page, widget and kiosk start a new conversation (docs/security.md).

Revision ID: 0011_session_tokens
Revises: 0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_session_tokens"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("token_hash")
