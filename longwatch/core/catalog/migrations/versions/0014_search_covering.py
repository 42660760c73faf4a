"""Search at a million clips: a covering index for "event type + minimum confidence".

The event filter reads (type, confidence) and returns package_id; with package_id in the
index the filter is answered from the index alone, without one table lookup per event.
It replaces ix_events_type_confidence, which is its prefix.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-25
"""

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_type_confidence_package", "events", ["type", "confidence", "package_id"])
    op.drop_index("ix_events_type_confidence", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_type_confidence", "events", ["type", "confidence"])
    op.drop_index("ix_events_type_confidence_package", table_name="events")
