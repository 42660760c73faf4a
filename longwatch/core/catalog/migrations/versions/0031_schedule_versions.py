"""Retention schedule versions (issue 22): each schedule made active, when and by whom, for the schedule page.

A projection of the ledger's ``retention set`` entries (which keep each
version's text); ``reindex`` refills it. Existing archives start with an
empty history until their next ``retention set`` or ``reindex``.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_schedule_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=False),
        sa.Column("activated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retention_schedule_versions"),
    )
    op.create_index("ix_retention_schedule_versions_activated_at", "retention_schedule_versions", ["activated_at"])


def downgrade() -> None:
    op.drop_index("ix_retention_schedule_versions_activated_at", table_name="retention_schedule_versions")
    op.drop_table("retention_schedule_versions")
