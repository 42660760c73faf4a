"""Upload parts (issue 20): each received tus chunk is an object on the primary location, named here.

Uploads no longer live under the archive folder of the web server that
received them: two web servers behind one load balancer share only the
database and the object store, so the catalog records which objects make up
each upload, in order. Uploads in progress when upgrading (bytes in the old
``uploads/`` folder, no parts) cannot be resumed and are started again.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_parts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"], name="fk_upload_parts_upload_id_uploads",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_upload_parts"),
        sa.UniqueConstraint("upload_id", "start", name="uq_upload_parts_upload_id"),
    )
    # an upload still receiving has its bytes in the old folder, which no other server sees: it starts again
    op.execute("UPDATE uploads SET status = 'expired' "
               "WHERE status = 'receiving' AND \"offset\" > 0 AND \"offset\" < length")


def downgrade() -> None:
    op.drop_table("upload_parts")
