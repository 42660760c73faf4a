"""Custody ledger index: entries and the packages they concern.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time_utc", sa.DateTime(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_custody_entries"),
    )
    op.create_index("ix_custody_entries_time_utc", "custody_entries", ["time_utc"])
    op.create_index("ix_custody_entries_event_type", "custody_entries", ["event_type"])
    op.create_index("ix_custody_entries_event_id", "custody_entries", ["event_id"])
    op.create_table(
        "custody_entry_packages",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["custody_entries.seq"],
                                name="fk_custody_entry_packages_seq_custody_entries", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq", "package_id", name="pk_custody_entry_packages"),
    )
    op.create_index("ix_custody_entry_packages_package_id", "custody_entry_packages", ["package_id"])


def downgrade() -> None:
    op.drop_table("custody_entry_packages")
    op.drop_table("custody_entries")
