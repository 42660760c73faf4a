"""Share links for evidence exports: expiring, revocable, downloads counted.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_shares",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("export_id", sa.String(36), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_export_shares"),
        sa.UniqueConstraint("token_sha256", name="uq_export_shares_token_sha256"),
    )
    op.create_index("ix_export_shares_export_id", "export_shares", ["export_id"])
    op.create_index("ix_export_shares_expires_at", "export_shares", ["expires_at"])


def downgrade() -> None:
    op.drop_table("export_shares")
