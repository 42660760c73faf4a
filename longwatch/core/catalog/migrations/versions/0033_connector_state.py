"""Connector and detector state in the catalog (issue 20): nothing shared but the database and the store.

A watch's cursor, gaps and clips, and a detection run's checkpoints, lived
in files under the archive folder (``connectors/<watch>/state.json``,
``state/detect/``). A machine sharing only the database could not continue
them. An existing state file is imported once, the first time its watch or
run opens it.

Revision ID: 0033
Revises: 0031
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_state",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("gaps", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_connector_state"),
    )
    op.create_table(
        "connector_clips",
        sa.Column("watch", sa.String(200), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("watch", "key", name="pk_connector_clips"),
    )
    op.create_table(
        "detector_state",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_detector_state"),
    )


def downgrade() -> None:
    op.drop_table("detector_state")
    op.drop_table("connector_clips")
    op.drop_table("connector_state")
