"""The facet panel from the indexes alone (issue 22): covering indexes for the newest matches of a zone and
for their packages' event types.

The capped facets (``search._capped_facets``) read the newest 10,000 matches' camera, zone, package and
start. A zone's were found through ``ix_clips_zone_start`` and then each clip's row was fetched for its
camera and package, and an event type's clips through ``ix_clips_package_start`` then each row for its
camera and zone; the event types of those clips through ``ix_events_package_id`` and then each
event's row for its type. Each is replaced by a covering index whose prefix it was, so every
query that used them still can:

- ``ix_clips_zone_cover`` (zone, start_utc, id, camera, package_id) replaces ``ix_clips_zone_start``;
- ``ix_clips_package_cover`` (package_id, start_utc, id, camera, zone) replaces ``ix_clips_package_start``
  (an event type's or a case's clips, found from their packages);
- ``ix_events_package_type`` (package_id, type) replaces ``ix_events_package_id``.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07
"""

from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clips_zone_cover", "clips", ["zone", "start_utc", "id", "camera", "package_id"])
    op.drop_index("ix_clips_zone_start", table_name="clips")
    op.create_index("ix_clips_package_cover", "clips", ["package_id", "start_utc", "id", "camera", "zone"])
    op.drop_index("ix_clips_package_start", table_name="clips")
    op.create_index("ix_events_package_type", "events", ["package_id", "type"])
    op.drop_index("ix_events_package_id", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_package_id", "events", ["package_id"])
    op.drop_index("ix_events_package_type", table_name="events")
    op.create_index("ix_clips_package_start", "clips", ["package_id", "start_utc"])
    op.drop_index("ix_clips_package_cover", table_name="clips")
    op.create_index("ix_clips_zone_start", "clips", ["zone", "start_utc"])
    op.drop_index("ix_clips_zone_cover", table_name="clips")
