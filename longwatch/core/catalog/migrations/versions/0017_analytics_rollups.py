"""Analytics rollups: event counts per camera and local hour, and per local month, year and all
time, kept in step with the events table; and their state (built, in which time zone).

Revision ID: 0017
Revises: 0018
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_hourly",
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("hour_local", sa.String(13), nullable=False),
        sa.Column("cls", sa.String(16), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("first_utc", sa.DateTime(), nullable=False),
        sa.Column("last_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("camera", "hour_local", "cls", "package_id", name="pk_analytics_hourly"),
    )
    op.create_index("ix_analytics_hourly_hour_local", "analytics_hourly", ["hour_local"])
    op.create_table(
        "analytics_periods",
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("bucket", sa.String(7), nullable=False),
        sa.Column("cls", sa.String(16), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("first_utc", sa.DateTime(), nullable=False),
        sa.Column("last_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "level", "camera", "zone", "bucket", "cls", "period",
                                name="pk_analytics_periods"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_state"),
    )


def downgrade() -> None:
    op.drop_table("analytics_state")
    op.drop_table("analytics_periods")
    op.drop_index("ix_analytics_hourly_hour_local", table_name="analytics_hourly")
    op.drop_table("analytics_hourly")
