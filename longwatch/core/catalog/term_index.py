# ruff: noqa: S608 - table, column and function names here are module constants, never user input
"""The Korean terms of each clip beside its start time: a dense search reads one page in time order.

A page of search results is the newest (or oldest) 50 matching clips. The full-text engines
(FTS5, GIN) answer "which clips match" in clip or row order, not in time order, so a dense
word (시장, one clip in six) either listed all its matches first (SQLite: 200,000 ids) or walked
the time index checking clip after clip against the text (PostgreSQL). This table keeps, per
clip, each Korean term it holds with the clip's start: ``clip_terms(term, t, clip_id)`` with
that primary key, so "the newest clips holding 시장" is one index range read in time order,
and a second word is a primary-key lookup per candidate (term, t, clip_id).

Which terms: the CJK bigrams of ``packages.search_terms`` (tokens of exactly two CJK letters)
and the first letter of every token that starts with a CJK letter. A query's phrase of bigrams
needs each of its bigrams; a one-letter query (a prefix, see :mod:`terms`) matches exactly the
clips holding a token that starts with that letter, i.e. the clips with that letter here. So
the table is exact for a one-bigram or one-letter word, and a superset for a longer phrase,
which is then checked against the full-text index clip by clip. Latin words and digits are not
here (they keep the full-text engines' prefix search).

``t`` is the clip's ``start_utc``: PostgreSQL's own timestamp; on SQLite, whose times are
text, whole microseconds since 1970 (an integer is a third the size of the text and sorts the
same). The rows are written by triggers on both back ends from ``search_terms``, so every
writer (the ORM, bulk SQL, a reindex, a transfer) keeps them in step, and the terms stay the
ones computed once in Python (:mod:`terms`): the two back ends index the same tokens.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from longwatch.core.catalog import terms

TABLE = "clip_terms"
#: Unicode ranges of the letters that write compounds (as terms._CJK_RUN): Hangul, Han.
_CJK = ((0xAC00, 0xD7A3), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_PG_CJK = "[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK) + "]"
_SQLITE_TRIGGERS = ("clip_terms_ai", "clip_terms_ad", "clip_terms_au", "clip_terms_pu", "clip_terms_pd")
_PG_FUNCTIONS = ("lw_clip_terms_ins", "lw_clip_terms_del", "lw_clip_terms_upd", "lw_clip_terms_pkg")


def is_cjk(letter: str) -> bool:
    return any(a <= ord(letter) <= b for a, b in _CJK)


def key_time(dialect: str, when: datetime) -> Any:
    """The ``t`` of a clip starting at ``when`` (aware), as the back end stores it."""
    naive = when.astimezone(UTC).replace(tzinfo=None)
    if dialect == "sqlite":
        return calendar.timegm(naive.timetuple()) * 1_000_000 + naive.microsecond
    return naive


def sqlite_time(column: str) -> str:
    """SQL for ``t`` from SQLite's stored text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's fixed format)."""
    return f"(unixepoch(substr({column}, 1, 19)) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


# -- SQLite ----------------------------------------------------------------------------------------
def _sqlite_cjk(expr: str) -> str:
    code = f"unicode({expr})"
    return "(" + " OR ".join(f"{code} BETWEEN {a} AND {b}" for a, b in _CJK) + ")"


def _sqlite_terms(body: str, start: str, clip: str, source: str, where: str) -> list[str]:
    """Two SELECTs of (term, t, clip_id): the bigrams, then the first letters of ``body``'s tokens.

    The space-separated terms become a JSON array for ``json_each`` (terms are letters and
    digits only, so no quoting is needed); CTEs, which would split them otherwise, are not
    allowed in triggers.
    """
    tokens = f"json_each('[\"' || replace(trim(coalesce({body}, '')), ' ', '\",\"') || '\"]') j"
    common = f"FROM {source}, {tokens} WHERE {where} AND {start} IS NOT NULL"
    bigrams = (f"SELECT DISTINCT j.value, {sqlite_time(start)}, {clip} {common} AND length(j.value) = 2 "
               f"AND {_sqlite_cjk('substr(j.value, 1, 1)')} AND {_sqlite_cjk('substr(j.value, 2, 1)')}")
    letters = (f"SELECT DISTINCT substr(j.value, 1, 1), {sqlite_time(start)}, {clip} {common} "
               f"AND {_sqlite_cjk('substr(j.value, 1, 1)')}")
    return [bigrams, letters]


def _sqlite_insert(body: str, start: str, clip: str, source: str, where: str) -> str:
    return "".join(f"INSERT OR IGNORE INTO {TABLE}(term, t, clip_id) {sel}; "
                   for sel in _sqlite_terms(body, start, clip, source, where))


def _sqlite_delete(body: str, start: str, clip: str, source: str, where: str) -> str:
    return "".join(f"DELETE FROM {TABLE} WHERE (term, t, clip_id) IN ({sel}); "
                   for sel in _sqlite_terms(body, start, clip, source, where))


def _create_sqlite(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE {TABLE} (term TEXT NOT NULL, t INTEGER NOT NULL, clip_id INTEGER NOT NULL, "
                      "PRIMARY KEY (term, t, clip_id)) WITHOUT ROWID"))
    one_clip = "packages p"
    conn.execute(text(f"""CREATE TRIGGER clip_terms_ai AFTER INSERT ON clips BEGIN
        {_sqlite_insert('p.search_terms', 'new.start_utc', 'new.id', one_clip, 'p.id = new.package_id')} END"""))
    conn.execute(text(f"""CREATE TRIGGER clip_terms_ad AFTER DELETE ON clips BEGIN
        {_sqlite_delete('p.search_terms', 'old.start_utc', 'old.id', one_clip, 'p.id = old.package_id')} END"""))
    conn.execute(text(f"""CREATE TRIGGER clip_terms_au AFTER UPDATE OF start_utc, package_id ON clips BEGIN
        {_sqlite_delete('p.search_terms', 'old.start_utc', 'old.id', one_clip, 'p.id = old.package_id')}
        {_sqlite_insert('p.search_terms', 'new.start_utc', 'new.id', one_clip, 'p.id = new.package_id')} END"""))
    its_clips = "clips c"
    conn.execute(text(f"""CREATE TRIGGER clip_terms_pu AFTER UPDATE OF search_terms ON packages BEGIN
        {_sqlite_delete('old.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = old.id')}
        {_sqlite_insert('new.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = new.id')} END"""))
    # Before a package goes: its clips are then deleted by the foreign key's cascade, when the
    # package's terms (which name the rows to delete) can no longer be read.
    conn.execute(text(f"""CREATE TRIGGER clip_terms_pd BEFORE DELETE ON packages BEGIN
        {_sqlite_delete('old.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = old.id')} END"""))


# -- PostgreSQL ------------------------------------------------------------------------------------
def _create_pg(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE {TABLE} (term text NOT NULL, t timestamp without time zone NOT NULL, "
                      "clip_id integer NOT NULL, PRIMARY KEY (term, t, clip_id))"))
    conn.execute(text(f"""CREATE FUNCTION lw_clip_terms(body text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT w FROM regexp_split_to_table(coalesce(body, ''), ' ') w WHERE w ~ '^{_PG_CJK}{{2}}$'
        UNION SELECT left(w, 1) FROM regexp_split_to_table(coalesce(body, ''), ' ') w WHERE w ~ '^{_PG_CJK}'
        $$"""))
    rows_of = ("SELECT x, c.start_utc, c.id FROM {clips} JOIN packages p ON p.id = c.package_id "
               "CROSS JOIN LATERAL lw_clip_terms(p.search_terms) x WHERE c.start_utc IS NOT NULL")
    # Inserts: one statement-level trigger per INSERT (a bulk load of 5,000 clips is one join).
    conn.execute(text(f"""CREATE FUNCTION lw_clip_terms_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO {TABLE}(term, t, clip_id) {rows_of.format(clips='new_rows c')} ON CONFLICT DO NOTHING;
        RETURN NULL; END $$"""))
    conn.execute(text("""CREATE TRIGGER clip_terms_ai AFTER INSERT ON clips REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION lw_clip_terms_ins()"""))
    delete_one = (f"DELETE FROM {TABLE} WHERE clip_id = OLD.id AND t = OLD.start_utc AND term IN "
                  "(SELECT lw_clip_terms(p.search_terms) FROM packages p WHERE p.id = OLD.package_id);")
    conn.execute(text(f"""CREATE FUNCTION lw_clip_terms_del() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {delete_one} RETURN NULL; END $$"""))
    conn.execute(text("CREATE TRIGGER clip_terms_ad AFTER DELETE ON clips FOR EACH ROW "
                      "EXECUTE FUNCTION lw_clip_terms_del()"))
    conn.execute(text(f"""CREATE FUNCTION lw_clip_terms_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {delete_one}
        INSERT INTO {TABLE}(term, t, clip_id) SELECT x, NEW.start_utc, NEW.id FROM packages p
        CROSS JOIN LATERAL lw_clip_terms(p.search_terms) x WHERE p.id = NEW.package_id
        AND NEW.start_utc IS NOT NULL ON CONFLICT DO NOTHING; RETURN NULL; END $$"""))
    conn.execute(text("CREATE TRIGGER clip_terms_au AFTER UPDATE OF start_utc, package_id ON clips FOR EACH ROW "
                      "EXECUTE FUNCTION lw_clip_terms_upd()"))
    # A package's terms changed (AFTER UPDATE) or the package goes (BEFORE DELETE: its clips
    # then go by the cascade, when its terms can no longer be read): rows by primary key.
    conn.execute(text(f"""CREATE FUNCTION lw_clip_terms_pkg() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
        DELETE FROM {TABLE} ct USING clips c WHERE c.package_id = OLD.id AND ct.clip_id = c.id
            AND ct.t = c.start_utc AND ct.term IN (SELECT lw_clip_terms(OLD.search_terms));
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO {TABLE}(term, t, clip_id) SELECT x, c.start_utc, c.id FROM clips c
            CROSS JOIN LATERAL lw_clip_terms(NEW.search_terms) x
            WHERE c.package_id = NEW.id AND c.start_utc IS NOT NULL ON CONFLICT DO NOTHING;
            RETURN NULL;
        END IF;
        RETURN OLD; END $$"""))
    conn.execute(text("CREATE TRIGGER clip_terms_pu AFTER UPDATE OF search_terms ON packages FOR EACH ROW "
                      "EXECUTE FUNCTION lw_clip_terms_pkg()"))
    conn.execute(text("CREATE TRIGGER clip_terms_pd BEFORE DELETE ON packages FOR EACH ROW "
                      "EXECUTE FUNCTION lw_clip_terms_pkg()"))


# -- both ------------------------------------------------------------------------------------------
def create(conn: Connection) -> None:
    """The table, its triggers, and its rows for the clips already in the catalog (revision 0036)."""
    if conn.dialect.name == "sqlite":
        _create_sqlite(conn)
    else:
        _create_pg(conn)
    refill(conn)


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    else:
        for trigger, table in (("clip_terms_ai", "clips"), ("clip_terms_ad", "clips"), ("clip_terms_au", "clips"),
                               ("clip_terms_pu", "packages"), ("clip_terms_pd", "packages")):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {table}"))
        for function in _PG_FUNCTIONS:
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
        conn.execute(text("DROP FUNCTION IF EXISTS lw_clip_terms(text)"))
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


def exists(conn: Connection) -> bool:
    return inspect(conn).has_table(TABLE)


def refill(conn: Connection) -> None:
    """Every clip's rows from its package's terms (after a migration, a bulk load, a reindex).

    Sorted by the key before inserting: the rows then arrive in index order, not one clip's
    twenty terms scattered over the whole tree.
    """
    conn.execute(text(f"DELETE FROM {TABLE}"))
    if conn.dialect.name == "sqlite":
        for sel in _sqlite_terms("p.search_terms", "c.start_utc", "c.id",
                                 "clips c JOIN packages p ON p.id = c.package_id", "1 = 1"):
            conn.execute(text(f"INSERT OR IGNORE INTO {TABLE}(term, t, clip_id) {sel} ORDER BY 1, 2, 3"))
    else:
        conn.execute(text(f"INSERT INTO {TABLE}(term, t, clip_id) SELECT x, c.start_utc, c.id FROM clips c "
                          "JOIN packages p ON p.id = c.package_id CROSS JOIN LATERAL lw_clip_terms(p.search_terms) x "
                          "WHERE c.start_utc IS NOT NULL ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"))


# -- reading: one page in time order ---------------------------------------------------------------
@dataclass(frozen=True)
class Walk:
    """How a Korean text query reads its page from this table.

    ``needed``: the table's terms the query needs (a clip must hold them all); one of them is
    walked in time order and the others are primary-key lookups per candidate (the search picks
    which, see ``search._walk_select``); ``exact``: the phrases of two or more bigrams, which the
    terms alone do not prove (their order). One-bigram and one-letter words need no check.
    """

    needed: tuple[str, ...]
    exact: tuple[terms.Clause, ...]


def plan(text_: str) -> Walk | None:
    """The walk for a query, or None when it has a word this table does not hold (Latin, digits)."""
    needed: list[str] = []
    exact: list[terms.Clause] = []
    for clause in terms.query(text_):
        if clause.prefix:
            if len(clause.terms[0]) != 1 or not is_cjk(clause.terms[0]):
                return None
        elif not all(len(t) == 2 and is_cjk(t[0]) and is_cjk(t[1]) for t in clause.terms):
            return None
        elif len(clause.terms) > 1:
            exact.append(clause)
        needed += [t for t in clause.terms if t not in needed]
    return Walk(tuple(needed), tuple(exact)) if needed else None
