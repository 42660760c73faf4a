"""Upload provenance (issue 22): an upload is an upload by its account until a records manager confirms it.

Adds to ``packages`` the origin (``camera`` or ``upload``), the uploading account, the camera an upload
claims, and who confirmed it as that camera's recording and when. Existing rows are ``camera``: before
this revision nothing told an upload apart; ``reindex`` reads the truth back from each package's
bag-info.txt. The downgrade drops the columns in place (no table rebuild, which would lose the
full-text and term triggers on ``packages``).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

COLUMNS = ("origin", "uploaded_by", "claimed_camera", "confirmed_by", "confirmed_at")


def upgrade() -> None:
    op.add_column("packages", sa.Column("origin", sa.String(16), nullable=False, server_default="camera"))
    op.add_column("packages", sa.Column("uploaded_by", sa.String(64), nullable=False, server_default=""))
    op.add_column("packages", sa.Column("claimed_camera", sa.String(64), nullable=False, server_default=""))
    op.add_column("packages", sa.Column("confirmed_by", sa.String(64), nullable=False, server_default=""))
    op.add_column("packages", sa.Column("confirmed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("packages", column)
