"""Planning samples: footage kept (cut or re-classed) when its source was disposed of; analytics
rollups per local day and week, and an index on the events' time, so spans that are not whole
months are fast (issue 14).

The new day and week rollup starts empty, so the rollups are marked as not built: counts are live
(exact) until ``longwatch analytics rebuild`` (small archives rebuild on first use).

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
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
        sa.PrimaryKeyConstraint("package_id", "start_utc", name="pk_planning_samples"),
    )
    op.create_index("ix_planning_samples_camera_start", "planning_samples", ["camera", "start_utc"])
    op.create_index("ix_planning_samples_source_package_id", "planning_samples", ["source_package_id"])
    op.create_index("ix_planning_samples_disposition_id", "planning_samples", ["disposition_id"])
    op.create_table(
        "analytics_days",
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("span", sa.String(1), nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("bucket", sa.String(7), nullable=False),
        sa.Column("cls", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("first_utc", sa.DateTime(), nullable=False),
        sa.Column("last_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "span", "first_day", "camera", "zone", "bucket", "cls",
                                name="pk_analytics_days"),
        sqlite_with_rowid=False,
    )
    op.execute("DELETE FROM analytics_state")
    op.create_index("ix_events_start_utc", "events", ["start_utc"])


def downgrade() -> None:
    op.drop_index("ix_events_start_utc", table_name="events")
    op.drop_table("analytics_days")
    op.drop_index("ix_planning_samples_disposition_id", table_name="planning_samples")
    op.drop_index("ix_planning_samples_source_package_id", table_name="planning_samples")
    op.drop_index("ix_planning_samples_camera_start", table_name="planning_samples")
    op.drop_table("planning_samples")
