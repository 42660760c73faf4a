"""Planning samples: footage kept (cut or re-classed) when its source was disposed of (issue 14).

Revision ID: 0021
Revises: 0017
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planning_samples",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("source_package_id", sa.String(36), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("disposition_id", sa.String(36), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("package_id", name="pk_planning_samples"),
    )
    op.create_index("ix_planning_samples_camera_start", "planning_samples", ["camera", "start_utc"])
    op.create_index("ix_planning_samples_source_package_id", "planning_samples", ["source_package_id"])
    op.create_index("ix_planning_samples_disposition_id", "planning_samples", ["disposition_id"])


def downgrade() -> None:
    op.drop_index("ix_planning_samples_disposition_id", table_name="planning_samples")
    op.drop_index("ix_planning_samples_source_package_id", table_name="planning_samples")
    op.drop_index("ix_planning_samples_camera_start", table_name="planning_samples")
    op.drop_table("planning_samples")
