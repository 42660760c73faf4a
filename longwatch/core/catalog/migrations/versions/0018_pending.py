"""Pending publications: packages between their atomic publish and their catalog row and ledger events.

Revision ID: 0018
Revises: 0015
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_publications",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("package_id"),
    )


def downgrade() -> None:
    op.drop_table("pending_publications")
