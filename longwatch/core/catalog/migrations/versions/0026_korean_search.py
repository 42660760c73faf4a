"""Korean search (issue 24): parts of compound nouns match ("시장" finds "남대문시장").

Adds ``packages.search_terms`` (the terms of ``longwatch.core.catalog.terms``: whole words,
and Korean runs cut into bigrams), fills it for every existing package, and rebuilds the
full-text index over that column on both back ends (SQLite's ``clips_fts`` with its triggers,
PostgreSQL's GIN index). Downgrading restores the index of revision 0002.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from longwatch.core.catalog.fulltext import create_fulltext, create_fulltext_v1, drop_fulltext, refresh_terms

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    drop_fulltext(conn)  # first: SQLite's update trigger would rewrite the old index row by row
    with op.batch_alter_table("packages") as batch:
        batch.add_column(sa.Column("search_terms", sa.Text(), nullable=True))
    refresh_terms(conn)
    create_fulltext(conn)


def downgrade() -> None:
    conn = op.get_bind()
    drop_fulltext(conn)
    # Not a batch (copy-and-rename) on SQLite: dropping the old packages table would cascade to clips.
    op.execute("ALTER TABLE packages DROP COLUMN search_terms")
    create_fulltext_v1(conn)
