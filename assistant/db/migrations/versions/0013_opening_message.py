"""The message that opened each conversation (a hash of the client's ``message_id``), so a retry of that first
message — whose answer, with the session token, never reached the client — can be given a token again.

Revision ID: 0013_opening_message
Revises: 0011_session_tokens
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_opening_message"
down_revision = "0011_session_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("opened_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("opened_by")
