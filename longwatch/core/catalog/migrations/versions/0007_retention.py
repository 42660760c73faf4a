"""Retention assignments, legal holds and dispositions (issue 6).

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_assignments",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("schedule_id", sa.String(100), nullable=False),
        sa.Column("record_class", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("trigger_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=True),
        sa.Column("case_closed_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("package_id", name="pk_retention_assignments"),
    )
    op.create_index("ix_retention_assignments_record_class", "retention_assignments", ["record_class"])
    op.create_index("ix_retention_assignments_due_at", "retention_assignments", ["due_at"])
    op.create_index("ix_retention_assignments_case_id", "retention_assignments", ["case_id"])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=True),
        sa.Column("end_utc", sa.DateTime(), nullable=True),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_at", sa.DateTime(), nullable=True),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("released_by", sa.String(200), nullable=False),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legal_holds"),
    )
    op.create_index("ix_legal_holds_released_at", "legal_holds", ["released_at"])
    op.create_table(
        "dispositions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("schedule_id", sa.String(100), nullable=False),
        sa.Column("proposer", sa.String(200), nullable=False),
        sa.Column("proposer_role", sa.String(64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("approver_role", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("executed_at", sa.DateTime(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispositions"),
    )
    op.create_index("ix_dispositions_status", "dispositions", ["status"])
    op.create_table(
        "disposition_items",
        sa.Column("disposition_id", sa.String(36), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("record_class", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["disposition_id"], ["dispositions.id"],
                                name="fk_disposition_items_disposition_id_dispositions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("disposition_id", "package_id", name="pk_disposition_items"),
    )
    op.create_index("ix_disposition_items_package_id", "disposition_items", ["package_id"])


def downgrade() -> None:
    op.drop_table("disposition_items")
    op.drop_table("dispositions")
    op.drop_table("legal_holds")
    op.drop_table("retention_assignments")
