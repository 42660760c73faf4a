"""Korean terms beside the time (issue 24): a dense Korean search reads one page in time order.

Adds ``clip_terms(term, t, clip_id)`` (see ``longwatch.core.catalog.term_index``): per clip,
the Korean bigrams and first letters of its package's ``search_terms`` with the clip's start,
kept by triggers on ``clips`` and ``packages``, and fills it for every clip already catalogued.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07
"""

from alembic import op

from longwatch.core.catalog import term_index

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    term_index.create(op.get_bind())


def downgrade() -> None:
    term_index.drop(op.get_bind())
