"""Guidebook admin: guide versions edited in the staff workbench, and the guidebook revision counter.

Revision ID: staff_guides_0001
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_guides_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guide_versions",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reverted_to", sa.Integer, nullable=True),
        sa.Column("verified_by", sa.String(64), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_guide_versions"),
    )
    op.create_index("ix_guide_versions_code", "guide_versions", ["code"])
    op.create_table(
        "guidebook_revision",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_guidebook_revision"),
    )
    op.bulk_insert(sa.table("guidebook_revision", sa.column("id", sa.Integer), sa.column("revision", sa.Integer)),
                   [{"id": 1, "revision": 0}])


def downgrade() -> None:
    op.drop_table("guidebook_revision")
    op.drop_index("ix_guide_versions_code", table_name="guide_versions")
    op.drop_table("guide_versions")
