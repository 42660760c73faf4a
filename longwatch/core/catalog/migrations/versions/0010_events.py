"""Events: vendor identity, detector, review; window packages made by rules and their retention class.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-25
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS: list[tuple[str, sa.types.TypeEngine[Any], str | None]] = [
    ("vendor_event_id", sa.String(200), None),
    ("detector", sa.Text(), ""),
    ("boxes", sa.Text(), ""),
    ("zone", sa.String(200), ""),
    ("status", sa.String(16), "new"),
    ("reviewer", sa.String(200), ""),
    ("review_note", sa.Text(), ""),
    ("reviewed_at", sa.DateTime(), None),
    ("window_package_id", sa.String(36), None),
]


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for name, type_, default in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=default is None,
                                       server_default=None if default is None else sa.text(f"'{default}'")))
    with op.batch_alter_table("events") as batch:
        for name, _type, default in COLUMNS:
            if default is not None:
                batch.alter_column(name, server_default=None)
    op.create_index("ix_events_status", "events", ["status"])
    op.create_index("uq_events_source_vendor", "events", ["source", "vendor_event_id"], unique=True)
    op.create_table(
        "event_windows",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("source_package_id", sa.String(36), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("superseded_by", sa.String(36), nullable=True),
        sa.Column("retention_class", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("package_id", name="pk_event_windows"),
    )
    op.create_index("ix_event_windows_source_package_id", "event_windows", ["source_package_id"])


def downgrade() -> None:
    op.drop_table("event_windows")
    op.drop_index("uq_events_source_vendor", "events")
    op.drop_index("ix_events_status", "events")
    with op.batch_alter_table("events") as batch:
        for name, _type, _default in reversed(COLUMNS):
            batch.drop_column(name)
