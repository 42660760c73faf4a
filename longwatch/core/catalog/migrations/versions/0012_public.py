"""Public-sector requests (PIPA access, disclosure, insurer, court, police), their steps, and notice versions.

Revision ID: 0012
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("identity_method", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("claimed_start_utc", sa.DateTime(), nullable=True),
        sa.Column("claimed_end_utc", sa.DateTime(), nullable=True),
        sa.Column("claimed_place", sa.Text(), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("refusal_reason", sa.String(64), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("packages", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_public_requests"),
        sa.UniqueConstraint("number", name="uq_public_requests_number"),
    )
    op.create_index("ix_public_requests_kind", "public_requests", ["kind"])
    op.create_index("ix_public_requests_received_at", "public_requests", ["received_at"])
    op.create_index("ix_public_requests_status", "public_requests", ["status"])
    op.create_table(
        "request_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("time_utc", sa.DateTime(), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("ledger_event", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["public_requests.id"],
                                name="fk_request_steps_request_id_public_requests", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_request_steps"),
    )
    op.create_index("ix_request_steps_request_id", "request_steps", ["request_id"])
    op.create_table(
        "notice_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("version", name="pk_notice_versions"),
    )
    op.create_index("ix_notice_versions_published_at", "notice_versions", ["published_at"])


def downgrade() -> None:
    op.drop_table("notice_versions")
    op.drop_index("ix_request_steps_request_id", table_name="request_steps")
    op.drop_table("request_steps")
    op.drop_table("public_requests")
