"""OS users mapped to accounts (issue 21: every state change is made by an authenticated account).

An administrator maps an operating-system user (a service's, or the person who
ran ``longwatch init``) to an account; commands run by that OS user act as it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "os_user_accounts",
        sa.Column("os_user", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mapped_by", sa.String(64), nullable=False),
        sa.Column("mapped_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_os_user_accounts_user_id_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("os_user", name="pk_os_user_accounts"),
    )
    op.create_index("ix_os_user_accounts_user_id", "os_user_accounts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_os_user_accounts_user_id", table_name="os_user_accounts")
    op.drop_table("os_user_accounts")
