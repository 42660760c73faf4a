"""The custody ledger's identity (issue 20, "fail closed"): its id, the leaf hash of entry 0, the folder
that holds its segments (so the ledger's place no longer depends on which storage location is primary)
and the first seq of the last group written (crash recovery may undo that group and nothing before it).

Existing ledgers get their row on their next append, from what the catalog index and the segments agree on.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_ledger",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("ledger_id", sa.String(36), nullable=False),
        sa.Column("first_hash", sa.String(64), nullable=False),
        sa.Column("directory", sa.Text(), nullable=False),
        sa.Column("group_start", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custody_ledger"),
    )


def downgrade() -> None:
    op.drop_table("custody_ledger")
