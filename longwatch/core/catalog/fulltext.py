# ruff: noqa: S608 - table and column names here are module constants, never user input
"""Full-text search, each back end with its own engine, over the same terms.

The terms come from :mod:`longwatch.core.catalog.terms` (whole words, and Korean compounds
cut into bigrams), computed in Python on every write into ``packages.search_terms``.
SQLite: an FTS5 table ``clips_fts`` (one row per clip, rowid = clips.id, so VACUUM can
never break the link) holding that column, kept current by triggers, so any writer keeps it right.
PostgreSQL: a GIN index over the generated column ``search_vector`` =
``to_tsvector('simple', search_terms)``; the 'simple' configuration only lower-cases and
splits, so both engines index exactly the terms given.
Other words than Korean are searched by word prefix, so "gate" finds "gateway" on either back end.

User text never reaches either query language as syntax: it is cut into words
(letters and digits only) and every term is quoted or given as a lexeme.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from longwatch.core.catalog import facet_hours, term_index, terms
from longwatch.core.catalog.models import SEARCHED

#: The package fields searched as text (Dublin Core title, description, coverage, source; notes).
FIELDS = SEARCHED
PG_INDEX = "ix_packages_fulltext"
SQLITE_TABLE = "clips_fts"
#: Packages whose terms are recomputed per statement when the whole catalog is refreshed.
BATCH = 2000


PG_COLUMN = "search_vector"


def pg_document(alias: str = "packages") -> str:
    """The indexed column: the tsvector of ``search_terms``, kept by PostgreSQL itself (generated, stored).

    Stored rather than an index on the expression: a phrase (Korean bigrams in order) needs the
    positions, which a GIN index does not hold, so every candidate row is checked again; from
    a stored tsvector that is a read, from an expression it was a new ``to_tsvector`` per row
    (seconds for a dense query at a million clips).
    """
    return f"{alias}.{PG_COLUMN}"


def pg_clips_in_array(param: str) -> str:
    """Clips of the packages matching the tsquery bound at ``param``, as an array the planner cannot hash."""
    return (f"clips.package_id = ANY(ARRAY(SELECT packages.id FROM packages WHERE {pg_document('packages')} "
            f"@@ to_tsquery('simple', {param})))")


def pg_clip_matches(param: str) -> str:
    """Whether this clip's package matches the tsquery bound at ``param``, evaluated row by row."""
    return (f"(SELECT {pg_document('p')} @@ to_tsquery('simple', {param}) FROM packages p "
            "WHERE p.id = clips.package_id)")


def create_fulltext(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        body_p = "coalesce(p.search_terms, '')"
        # remove_diacritics 0: the terms are folded already (terms.words), and PostgreSQL folds nothing more.
        conn.execute(text(f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(body, tokenize='unicode61 "
                          "remove_diacritics 0')"))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ai AFTER INSERT ON clips BEGIN
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT new.id, {body_p} FROM packages p
            WHERE p.id = new.package_id; END"""))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ad AFTER DELETE ON clips BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid = old.id; END"""))
        conn.execute(text(f"""CREATE TRIGGER packages_fts_au AFTER UPDATE OF search_terms ON packages BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid IN (SELECT id FROM clips WHERE package_id = new.id);
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, {body_p} FROM clips c
            JOIN packages p ON p.id = c.package_id WHERE c.package_id = new.id; END"""))
        _refill_sqlite(conn)
    else:
        conn.execute(text(f"ALTER TABLE packages ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
                          "(to_tsvector('simple', coalesce(search_terms, ''))) STORED"))
        conn.execute(text(f"CREATE INDEX {PG_INDEX} ON packages USING gin ({PG_COLUMN})"))


def drop_fulltext(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in ("clips_fts_ai", "clips_fts_ad", "packages_fts_au"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {SQLITE_TABLE}"))
    else:
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
        conn.execute(text(f"ALTER TABLE packages DROP COLUMN IF EXISTS {PG_COLUMN}"))


def refresh_terms(conn: Connection) -> int:
    """Recompute every package's ``search_terms`` from its fields; returns how many changed.

    For rows written by an older longwatch (the migration) or by bulk SQL that skipped the
    ORM; only changed rows are written, so a current catalog costs one read.
    """
    columns = ", ".join(FIELDS)
    update = text("UPDATE packages SET search_terms = :terms WHERE id = :pid").bindparams(
        bindparam("terms"), bindparam("pid"))
    changed, last = 0, ""
    while True:
        rows = conn.execute(text(f"SELECT id, search_terms, {columns} FROM packages WHERE id > :last "
                                 "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return changed
        batch = []
        for row in rows:
            fresh = terms.document(*row[2:])
            if fresh != row[1]:
                batch.append({"terms": fresh, "pid": row[0]})
        if batch:
            conn.execute(update, batch)
            changed += len(batch)
        last = rows[-1][0]


def _refill_sqlite(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {SQLITE_TABLE}"))
    conn.execute(text(f"INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, coalesce(p.search_terms, '') "
                      "FROM clips c JOIN packages p ON p.id = c.package_id"))


def rebuild_fulltext(conn: Connection) -> None:
    """Bring the index up to date with the text (``longwatch reindex``, after a bulk load).

    The terms are recomputed (an analyser changed by an upgrade reaches every row), then
    SQLite's FTS table is refilled; PostgreSQL's index follows the column by itself. The
    terms and words beside the time (``clip_terms``, ``clip_words``) are refilled on both.
    """
    refresh_terms(conn)
    if conn.dialect.name == "sqlite":
        _refill_sqlite(conn)
    for kind in (term_index.KOREAN, term_index.WORDS):
        if term_index.exists(conn, kind):
            term_index.refill(conn, kind)


# -- the index of revisions 0002 to 0022, for those migrations (frozen: never change it) ------------
_V1_FIELDS = ("title", "description", "notes", "location_name", "camera", "zone")


def _v1_concat(alias: str) -> str:
    return " || ' ' || ".join(f"coalesce({alias}.{f}, '')" for f in _V1_FIELDS)


def create_fulltext_v1(conn: Connection) -> None:
    """The first full-text index: whole words of the raw fields (unicode61 / 'simple'), no column of terms."""
    if conn.dialect.name == "sqlite":
        body_p = _v1_concat("p")
        conn.execute(text(f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(body, tokenize='unicode61 "
                          "remove_diacritics 2')"))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ai AFTER INSERT ON clips BEGIN
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT new.id, {body_p} FROM packages p
            WHERE p.id = new.package_id; END"""))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ad AFTER DELETE ON clips BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid = old.id; END"""))
        conn.execute(text(f"""CREATE TRIGGER packages_fts_au AFTER UPDATE OF {", ".join(_V1_FIELDS)} ON packages BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid IN (SELECT id FROM clips WHERE package_id = new.id);
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, {body_p} FROM clips c
            JOIN packages p ON p.id = c.package_id WHERE c.package_id = new.id; END"""))
        conn.execute(text(f"INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, {_v1_concat('p')} FROM clips c "
                          "JOIN packages p ON p.id = c.package_id"))
    else:
        conn.execute(text(f"CREATE INDEX {PG_INDEX} ON packages USING gin "
                          f"(to_tsvector('simple', {_v1_concat('packages')}))"))


def words(query: str) -> list[str]:
    """The searchable words of what a person typed; every operator and quote is dropped."""
    return terms.words(query)


def sqlite_match(query: str) -> str:
    """An FTS5 MATCH expression for what a person typed (see :mod:`terms`)."""
    return terms.sqlite_match(terms.query(query))


def pg_tsquery(query: str) -> str:
    """A to_tsquery text for what a person typed (see :mod:`terms`)."""
    return terms.pg_tsquery(terms.query(query))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For alembic's compare_metadata: the full-text objects, and the facet panel's counts per hour (kept by
    triggers, never written by the ORM), live outside the models on purpose."""
    if name is None:
        return True
    return not (name.startswith(SQLITE_TABLE) or name in (PG_INDEX, PG_COLUMN, term_index.KOREAN.table,
                                                          term_index.WORDS.table, facet_hours.HOURS, facet_hours.TYPES,
                                                          facet_hours.MIXED)
                or name.startswith(("ix_clip_hours_", "ix_clip_hour_types_")))
