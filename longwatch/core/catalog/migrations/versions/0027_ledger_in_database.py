"""The custody ledger lives in the catalog's database (issue 20, "sequenced by the catalog's database").

Each entry's canonical bytes join its index row, signed checkpoints (with the
Merkle frontier they close) get a table, and so do the witnesses'
cosignatures and the state of the ledger's mirror on each storage location.
Entries written before this migration keep ``line`` empty until the ledger
imports them, once, from the folder ``custody_ledger.directory`` names
(core/custody/ledger.py, ``_import_folder``).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("custody_entries") as batch:
        batch.add_column(sa.Column("line", sa.LargeBinary(), nullable=True))
    op.create_table(
        "custody_checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("time_utc", sa.DateTime(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("tsr", sa.LargeBinary(), nullable=True),
        sa.Column("frontier", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("size", name="pk_custody_checkpoints"),
    )
    op.create_table(
        "custody_cosignatures",
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("witness", sa.String(200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness", name="pk_custody_cosignatures"),
    )
    op.create_table(
        "custody_mirrors",
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("failing_since", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("location", name="pk_custody_mirrors"),
    )


def downgrade() -> None:
    op.drop_table("custody_mirrors")
    op.drop_table("custody_cosignatures")
    op.drop_table("custody_checkpoints")
    with op.batch_alter_table("custody_entries") as batch:
        batch.drop_column("line")
