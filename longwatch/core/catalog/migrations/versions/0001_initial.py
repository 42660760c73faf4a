"""Packages and clips.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("location_name", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("start_utc", sa.DateTime(), nullable=True),
        sa.Column("end_utc", sa.DateTime(), nullable=True),
        sa.Column("time_source", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("storage_location", sa.String(64), nullable=False),
        sa.Column("tagmanifest_sha256", sa.String(64), nullable=False),
        sa.Column("signer_fingerprint", sa.String(80), nullable=False),
        sa.Column("media_ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
    )
    op.create_index("ix_packages_camera", "packages", ["camera"])
    op.create_index("ix_packages_start_utc", "packages", ["start_utc"])
    op.create_index("ix_packages_status", "packages", ["status"])
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("relpath", sa.Text(), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("format_name", sa.String(100), nullable=False),
        sa.Column("codec", sa.String(50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("start_utc", sa.DateTime(), nullable=True),
        sa.Column("end_utc", sa.DateTime(), nullable=True),
        sa.Column("probe_ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name="fk_clips_package_id_packages",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_clips"),
    )
    op.create_index("ix_clips_package_id", "clips", ["package_id"])
    op.create_index("ix_clips_sha256", "clips", ["sha256"])
    op.create_index("ix_clips_start_end", "clips", ["start_utc", "end_utc"])


def downgrade() -> None:
    op.drop_table("clips")
    op.drop_table("packages")
