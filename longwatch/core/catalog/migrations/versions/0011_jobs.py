"""Failures of queued jobs with their error codes (issue 13, scale out).

procrastinate's own tables are applied by ``longwatch.core.jobs.queue.apply_schema``
(``longwatch worker`` does it on start), not here: they belong to procrastinate's
version, not to the catalog's.

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_failures",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_job_failures"),
    )


def downgrade() -> None:
    op.drop_table("job_failures")
