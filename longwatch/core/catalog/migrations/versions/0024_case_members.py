"""Cases shared with named accounts (issue 22, "who may see what"): an investigator sees only those cases.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_members",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_members_case_id_cases",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "username", name="pk_case_members"),
    )
    op.create_index("ix_case_members_username", "case_members", ["username"])


def downgrade() -> None:
    op.drop_table("case_members")
