"""Footage gaps: times a camera should have recorded and did not (issue 7, connectors).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "footage_gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("ledger_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_footage_gaps"),
        sa.UniqueConstraint("camera", "start_utc", "end_utc", name="uq_footage_gaps_camera_start_end"),
    )
    op.create_index("ix_footage_gaps_start_utc", "footage_gaps", ["start_utc"])
    op.create_index("ix_footage_gaps_camera_start", "footage_gaps", ["camera", "start_utc"])


def downgrade() -> None:
    op.drop_index("ix_footage_gaps_camera_start", table_name="footage_gaps")
    op.drop_index("ix_footage_gaps_start_utc", table_name="footage_gaps")
    op.drop_table("footage_gaps")
