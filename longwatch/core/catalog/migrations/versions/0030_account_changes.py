"""The accounts' audit trail: who changed which account, when and how (issue 22).

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False, server_default=""),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("old", sa.String(200), nullable=False, server_default=""),
        sa.Column("new", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_account_changes"),
    )
    op.create_index("ix_account_changes_at", "account_changes", ["at"])
    op.create_index("ix_account_changes_username", "account_changes", ["username"])


def downgrade() -> None:
    op.drop_index("ix_account_changes_username", table_name="account_changes")
    op.drop_index("ix_account_changes_at", table_name="account_changes")
    op.drop_table("account_changes")
