# ruff: noqa: S608 - table and column names here are module constants, never user input
"""Full-text search, each back end with its own engine.

SQLite: an FTS5 table ``clips_fts`` (one row per clip, rowid = clips.id, so VACUUM can
never break the link) kept current by triggers, so any writer keeps it right.
PostgreSQL: a GIN index over ``to_tsvector('simple', ...)`` of the package's text;
the 'simple' configuration only lower-cases and splits, which suits Korean, where
language stemmers would mangle words. Both are searched by word prefix, so "시장"
finds "시장에서" on either back end.

User text never reaches either query language as syntax: it is cut into words
(letters and digits only) and every word is quoted or given as a lexeme.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

#: The package fields searched as text (Dublin Core title, description, coverage, source; notes).
FIELDS = ("title", "description", "notes", "location_name", "camera", "zone")
PG_INDEX = "ix_packages_fulltext"
SQLITE_TABLE = "clips_fts"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _concat(alias: str) -> str:
    return " || ' ' || ".join(f"coalesce({alias}.{f}, '')" for f in FIELDS)


def pg_document(alias: str = "packages") -> str:
    """The indexed expression; queries must repeat it exactly for PostgreSQL to use the index."""
    return f"to_tsvector('simple', {_concat(alias)})"


def create_fulltext(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        body_p = _concat("p")
        conn.execute(text(f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(body, tokenize='unicode61 "
                          "remove_diacritics 2')"))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ai AFTER INSERT ON clips BEGIN
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT new.id, {body_p} FROM packages p
            WHERE p.id = new.package_id; END"""))
        conn.execute(text(f"""CREATE TRIGGER clips_fts_ad AFTER DELETE ON clips BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid = old.id; END"""))
        conn.execute(text(f"""CREATE TRIGGER packages_fts_au AFTER UPDATE OF {", ".join(FIELDS)} ON packages BEGIN
            DELETE FROM {SQLITE_TABLE} WHERE rowid IN (SELECT id FROM clips WHERE package_id = new.id);
            INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, {body_p} FROM clips c
            JOIN packages p ON p.id = c.package_id WHERE c.package_id = new.id; END"""))
        rebuild_fulltext(conn)
    else:
        conn.execute(text(f"CREATE INDEX {PG_INDEX} ON packages USING gin ({pg_document('packages')})"))


def drop_fulltext(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in ("clips_fts_ai", "clips_fts_ad", "packages_fts_au"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {SQLITE_TABLE}"))
    else:
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))


def rebuild_fulltext(conn: Connection) -> None:
    """Refill the SQLite index from the tables (after a bulk load); PostgreSQL's index needs nothing."""
    if conn.dialect.name != "sqlite":
        return
    conn.execute(text(f"DELETE FROM {SQLITE_TABLE}"))
    conn.execute(text(f"INSERT INTO {SQLITE_TABLE}(rowid, body) SELECT c.id, {_concat('p')} FROM clips c "
                      "JOIN packages p ON p.id = c.package_id"))


def words(query: str) -> list[str]:
    """The searchable words of what a person typed; every operator and quote is dropped."""
    return [w.lower() for w in _WORD.findall(query)]


def sqlite_match(tokens: list[str]) -> str:
    """An FTS5 MATCH expression: every word quoted, as a prefix, all required."""
    return " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)


def pg_tsquery(tokens: list[str]) -> str:
    """A to_tsquery text: every word a prefix lexeme, all required (words hold no operators)."""
    return " & ".join(f"'{t}':*" for t in tokens)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For alembic's compare_metadata: the full-text objects live outside the models on purpose."""
    if name is None:
        return True
    return not (name.startswith(SQLITE_TABLE) or name == PG_INDEX)
