"""Copies of packages on storage locations, and storage events (replication, audit, repair).

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(16), nullable=False),
        sa.Column("last_access_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name="fk_copies_package_id_packages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_copies"),
        sa.UniqueConstraint("package_id", "location", name="uq_copies_package_location"),
    )
    op.create_index("ix_copies_package_id", "copies", ["package_id"])
    op.create_index("ix_copies_location", "copies", ["location"])
    op.create_index("ix_copies_status", "copies", ["status"])
    op.create_index("ix_copies_last_checked_at", "copies", ["last_checked_at"])
    # Packages stored before this revision: their one copy is where the catalog says, not yet checked.
    op.execute(
        "INSERT INTO copies (package_id, location, status, size_bytes, created_at, last_outcome) "
        "SELECT id, storage_location, 'ok', size_bytes, created_at, '' FROM packages"
    )
    op.create_table(
        "storage_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source_location", sa.String(64), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_storage_events"),
    )
    op.create_index("ix_storage_events_at", "storage_events", ["at"])
    op.create_index("ix_storage_events_package_id", "storage_events", ["package_id"])


def downgrade() -> None:
    op.drop_table("storage_events")
    op.drop_table("copies")
