"""Cameras, zones, purposes, events, cases; search columns and full-text index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from longwatch.core.catalog.fulltext import create_fulltext_v1, drop_fulltext

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
    with op.batch_alter_table("clips") as batch:
        batch.add_column(sa.Column("camera", sa.String(64), nullable=True))
        batch.add_column(sa.Column("zone", sa.String(200), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("span_s", sa.Integer(), nullable=True))
    # Clips made by revision 0001 take their search fields from their package.
    for column in ("camera", "zone", "latitude", "longitude"):
        op.execute(f"UPDATE clips SET {column} = (SELECT p.{column} FROM packages p WHERE p.id = clips.package_id)")  # noqa: S608
    op.execute("UPDATE packages SET description = '' WHERE description IS NULL")
    op.execute("UPDATE packages SET notes = '' WHERE notes IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE clips SET span_s = CAST(ROUND((julianday(end_utc) - julianday(start_utc)) * 86400) "
                   "AS INTEGER) WHERE start_utc IS NOT NULL AND end_utc IS NOT NULL")
    else:
        op.execute("UPDATE clips SET span_s = CAST(ROUND(EXTRACT(EPOCH FROM end_utc - start_utc)) AS INTEGER) "
                   "WHERE start_utc IS NOT NULL AND end_utc IS NOT NULL")
    op.drop_index("ix_clips_package_id", table_name="clips")
    op.create_index("ix_clips_package_start", "clips", ["package_id", "start_utc"])
    op.create_index("ix_clips_camera_start", "clips", ["camera", "start_utc"])
    op.create_index("ix_clips_zone_start", "clips", ["zone", "start_utc"])
    op.create_index("ix_clips_lat_lon", "clips", ["latitude", "longitude"])
    op.create_index("ix_clips_span_s", "clips", ["span_s"])

    op.create_table(
        "zones",
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["parent"], ["zones.path"], name="fk_zones_parent_zones", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("path", name="pk_zones"),
    )
    op.create_index("ix_zones_parent", "zones", ["parent"])
    op.create_table(
        "purposes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_purposes"),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vendor", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("clock_offset_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
    )
    op.create_index("ix_cameras_zone", "cameras", ["zone"])
    op.create_index("ix_cameras_purpose", "cameras", ["purpose"])
    op.create_table(
        "camera_positions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name="fk_camera_positions_camera_id_cameras",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_camera_positions"),
    )
    op.create_index("ix_camera_positions_camera_id", "camera_positions", ["camera_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(36), nullable=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name="fk_events_package_id_packages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_package_id", "events", ["package_id"])
    op.create_index("ix_events_type_confidence", "events", ["type", "confidence"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
    )
    op.create_table(
        "case_packages",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_packages_case_id_cases",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name="fk_case_packages_package_id_packages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "package_id", name="pk_case_packages"),
    )
    op.create_index("ix_case_packages_package_id", "case_packages", ["package_id"])
    op.create_table(
        "case_ranges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_ranges_case_id_cases",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_case_ranges"),
    )
    op.create_index("ix_case_ranges_case_id", "case_ranges", ["case_id"])
    create_fulltext_v1(op.get_bind())


def downgrade() -> None:
    drop_fulltext(op.get_bind())
    for table in ("case_ranges", "case_packages", "cases", "events", "camera_positions", "cameras",
                  "purposes", "zones"):
        op.drop_table(table)
    for index in ("ix_clips_span_s", "ix_clips_lat_lon", "ix_clips_zone_start", "ix_clips_camera_start",
                  "ix_clips_package_start"):
        op.drop_index(index, table_name="clips")
    op.create_index("ix_clips_package_id", "clips", ["package_id"])
    with op.batch_alter_table("clips") as batch:
        for column in ("span_s", "longitude", "latitude", "zone", "camera"):
            batch.drop_column(column)
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("notes")
        batch.drop_column("description")
