"""Counts of clips per hour (issue 22): the facet panel answers from them, not from every match.

Adds ``clip_hours(zone, hour, camera, clips)`` and ``clip_hour_types(type, zone, hour, camera, clips)``
(see ``longwatch.core.catalog.facet_hours``), their indexes, the triggers on ``clips`` and ``events``
that keep them in step on both back ends, and fills them from the clips already catalogued with one
grouped INSERT ... SELECT each. The downgrade drops triggers, functions and tables.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07
"""

from alembic import op

from longwatch.core.catalog import facet_hours

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facet_hours.create(op.get_bind())


def downgrade() -> None:
    facet_hours.drop(op.get_bind())
