"""Words beside the time (issue 22): a dense English word reads one page in time order.

Adds ``clip_words(term, t, clip_id)`` (see ``longwatch.core.catalog.term_index``, ``WORDS``):
per clip, every whole token of its package's ``search_terms`` that does not start with a
Korean letter (Latin words, numbers), with the clip's start, kept by triggers on ``clips``
and ``packages`` as ``clip_terms`` is, and fills it for every clip already catalogued.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07
"""

from alembic import op

from longwatch.core.catalog import term_index

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    term_index.create(op.get_bind(), term_index.WORDS)


def downgrade() -> None:
    term_index.drop(op.get_bind(), term_index.WORDS)
