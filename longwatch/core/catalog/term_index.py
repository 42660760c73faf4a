# ruff: noqa: S608 - table, column and function names here are module constants, never user input
"""The terms of each clip beside its start time: a dense search reads one page in time order.

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
which is then checked against the full-text index clip by clip. Latin words and digits are in
a sibling table, ``clip_words`` (revision 0037, :data:`WORDS`): whole tokens, since a query word
is a prefix of a token there ("gate" finds "gates"), read as the range of its few words.

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
_TRIGGERS = ("ai", "ad", "au", "pu", "pd")
_PG_FUNCTIONS = ("ins", "del", "upd", "pkg")


@dataclass(frozen=True)
class Kind:
    """One table of terms beside the time: its name (also the stem of its triggers and functions), which
    tokens of ``search_terms`` it holds, and (PostgreSQL) the collation of its key.

    ``KOREAN`` (``clip_terms``, revision 0036): CJK bigrams and first letters, read by exact term.
    ``WORDS`` (``clip_words``, revision 0037): every whole token that starts with another letter or a
    digit (Latin words, numbers, "3번출구"), read by prefix: "gate" is the range of keys from "gate" up to
    "gate" followed by the last code point, so the key compares bytes (SQLite's default; ``COLLATE "C"``
    on PostgreSQL, where a locale's order would not keep a prefix's words together).
    """

    table: str
    words: bool
    collate: str = ""


KOREAN = Kind("clip_terms", words=False)
WORDS = Kind("clip_words", words=True, collate=' COLLATE "C"')


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


def _sqlite_terms(kind: Kind, body: str, start: str, clip: str, source: str, where: str) -> list[str]:
    """SELECTs of (term, t, clip_id): the bigrams, then the first letters of ``body``'s tokens (Korean);
    the whole tokens that do not start with a CJK letter (words).

    The space-separated terms become a JSON array for ``json_each`` (terms are letters and
    digits only, so no quoting is needed); CTEs, which would split them otherwise, are not
    allowed in triggers.
    """
    tokens = f"json_each('[\"' || replace(trim(coalesce({body}, '')), ' ', '\",\"') || '\"]') j"
    common = f"FROM {source}, {tokens} WHERE {where} AND {start} IS NOT NULL"
    if kind.words:
        return [f"SELECT DISTINCT j.value, {sqlite_time(start)}, {clip} {common} AND j.value <> '' "
                f"AND NOT {_sqlite_cjk('substr(j.value, 1, 1)')}"]
    bigrams = (f"SELECT DISTINCT j.value, {sqlite_time(start)}, {clip} {common} AND length(j.value) = 2 "
               f"AND {_sqlite_cjk('substr(j.value, 1, 1)')} AND {_sqlite_cjk('substr(j.value, 2, 1)')}")
    letters = (f"SELECT DISTINCT substr(j.value, 1, 1), {sqlite_time(start)}, {clip} {common} "
               f"AND {_sqlite_cjk('substr(j.value, 1, 1)')}")
    return [bigrams, letters]


def _sqlite_insert(kind: Kind, body: str, start: str, clip: str, source: str, where: str) -> str:
    return "".join(f"INSERT OR IGNORE INTO {kind.table}(term, t, clip_id) {sel}; "
                   for sel in _sqlite_terms(kind, body, start, clip, source, where))


def _sqlite_delete(kind: Kind, body: str, start: str, clip: str, source: str, where: str) -> str:
    return "".join(f"DELETE FROM {kind.table} WHERE (term, t, clip_id) IN ({sel}); "
                   for sel in _sqlite_terms(kind, body, start, clip, source, where))


def _create_sqlite(conn: Connection, kind: Kind) -> None:
    k, stem = kind, kind.table
    conn.execute(text(f"CREATE TABLE {stem} (term TEXT NOT NULL, t INTEGER NOT NULL, clip_id INTEGER NOT NULL, "
                      "PRIMARY KEY (term, t, clip_id)) WITHOUT ROWID"))
    one_clip = "packages p"
    conn.execute(text(f"""CREATE TRIGGER {stem}_ai AFTER INSERT ON clips BEGIN
        {_sqlite_insert(k, 'p.search_terms', 'new.start_utc', 'new.id', one_clip, 'p.id = new.package_id')} END"""))
    conn.execute(text(f"""CREATE TRIGGER {stem}_ad AFTER DELETE ON clips BEGIN
        {_sqlite_delete(k, 'p.search_terms', 'old.start_utc', 'old.id', one_clip, 'p.id = old.package_id')} END"""))
    conn.execute(text(f"""CREATE TRIGGER {stem}_au AFTER UPDATE OF start_utc, package_id ON clips BEGIN
        {_sqlite_delete(k, 'p.search_terms', 'old.start_utc', 'old.id', one_clip, 'p.id = old.package_id')}
        {_sqlite_insert(k, 'p.search_terms', 'new.start_utc', 'new.id', one_clip, 'p.id = new.package_id')} END"""))
    its_clips = "clips c"
    conn.execute(text(f"""CREATE TRIGGER {stem}_pu AFTER UPDATE OF search_terms ON packages BEGIN
        {_sqlite_delete(k, 'old.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = old.id')}
        {_sqlite_insert(k, 'new.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = new.id')} END"""))
    # Before a package goes: its clips are then deleted by the foreign key's cascade, when the
    # package's terms (which name the rows to delete) can no longer be read.
    conn.execute(text(f"""CREATE TRIGGER {stem}_pd BEFORE DELETE ON packages BEGIN
        {_sqlite_delete(k, 'old.search_terms', 'c.start_utc', 'c.id', its_clips, 'c.package_id = old.id')} END"""))


# -- PostgreSQL ------------------------------------------------------------------------------------
def _pg_terms_body(kind: Kind) -> str:
    """The SQL of ``lw_<table>(body text) RETURNS SETOF text``: the kind's tokens of a package's terms."""
    split = "regexp_split_to_table(coalesce(body, ''), ' ') w"
    if kind.words:
        return f"SELECT DISTINCT w FROM {split} WHERE w <> '' AND w !~ '^{_PG_CJK}'"
    return (f"SELECT w FROM {split} WHERE w ~ '^{_PG_CJK}{{2}}$' "
            f"UNION SELECT left(w, 1) FROM {split} WHERE w ~ '^{_PG_CJK}'")


def _create_pg(conn: Connection, kind: Kind) -> None:
    table, fn = kind.table, f"lw_{kind.table}"
    conn.execute(text(f"CREATE TABLE {table} (term text{kind.collate} NOT NULL, t timestamp without time zone "
                      "NOT NULL, clip_id integer NOT NULL, PRIMARY KEY (term, t, clip_id))"))
    conn.execute(text(f"""CREATE FUNCTION {fn}(body text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {_pg_terms_body(kind)} $$"""))
    rows_of = ("SELECT x, c.start_utc, c.id FROM {clips} JOIN packages p ON p.id = c.package_id "
               f"CROSS JOIN LATERAL {fn}(p.search_terms) x WHERE c.start_utc IS NOT NULL")
    # Inserts: one statement-level trigger per INSERT (a bulk load of 5,000 clips is one join).
    conn.execute(text(f"""CREATE FUNCTION {fn}_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO {table}(term, t, clip_id) {rows_of.format(clips='new_rows c')} ON CONFLICT DO NOTHING;
        RETURN NULL; END $$"""))
    conn.execute(text(f"""CREATE TRIGGER {table}_ai AFTER INSERT ON clips REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {fn}_ins()"""))
    delete_one = (f"DELETE FROM {table} WHERE clip_id = OLD.id AND t = OLD.start_utc AND term IN "
                  f"(SELECT {fn}(p.search_terms) FROM packages p WHERE p.id = OLD.package_id);")
    conn.execute(text(f"""CREATE FUNCTION {fn}_del() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {delete_one} RETURN NULL; END $$"""))
    conn.execute(text(f"CREATE TRIGGER {table}_ad AFTER DELETE ON clips FOR EACH ROW "
                      f"EXECUTE FUNCTION {fn}_del()"))
    conn.execute(text(f"""CREATE FUNCTION {fn}_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {delete_one}
        INSERT INTO {table}(term, t, clip_id) SELECT x, NEW.start_utc, NEW.id FROM packages p
        CROSS JOIN LATERAL {fn}(p.search_terms) x WHERE p.id = NEW.package_id
        AND NEW.start_utc IS NOT NULL ON CONFLICT DO NOTHING; RETURN NULL; END $$"""))
    conn.execute(text(f"CREATE TRIGGER {table}_au AFTER UPDATE OF start_utc, package_id ON clips FOR EACH ROW "
                      f"EXECUTE FUNCTION {fn}_upd()"))
    # A package's terms changed (AFTER UPDATE) or the package goes (BEFORE DELETE: its clips
    # then go by the cascade, when its terms can no longer be read): rows by primary key.
    conn.execute(text(f"""CREATE FUNCTION {fn}_pkg() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
        DELETE FROM {table} ct USING clips c WHERE c.package_id = OLD.id AND ct.clip_id = c.id
            AND ct.t = c.start_utc AND ct.term IN (SELECT {fn}(OLD.search_terms));
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO {table}(term, t, clip_id) SELECT x, c.start_utc, c.id FROM clips c
            CROSS JOIN LATERAL {fn}(NEW.search_terms) x
            WHERE c.package_id = NEW.id AND c.start_utc IS NOT NULL ON CONFLICT DO NOTHING;
            RETURN NULL;
        END IF;
        RETURN OLD; END $$"""))
    conn.execute(text(f"CREATE TRIGGER {table}_pu AFTER UPDATE OF search_terms ON packages FOR EACH ROW "
                      f"EXECUTE FUNCTION {fn}_pkg()"))
    conn.execute(text(f"CREATE TRIGGER {table}_pd BEFORE DELETE ON packages FOR EACH ROW "
                      f"EXECUTE FUNCTION {fn}_pkg()"))


# -- both ------------------------------------------------------------------------------------------
def create(conn: Connection, kind: Kind = KOREAN) -> None:
    """The table, its triggers, and its rows for the clips already in the catalog (revisions 0036, 0037)."""
    if conn.dialect.name == "sqlite":
        _create_sqlite(conn, kind)
    else:
        _create_pg(conn, kind)
    refill(conn, kind)


def drop(conn: Connection, kind: Kind = KOREAN) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in _TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {kind.table}_{trigger}"))
    else:
        for trigger in _TRIGGERS:
            on = "clips" if trigger.startswith("a") else "packages"
            conn.execute(text(f"DROP TRIGGER IF EXISTS {kind.table}_{trigger} ON {on}"))
        for function in _PG_FUNCTIONS:
            conn.execute(text(f"DROP FUNCTION IF EXISTS lw_{kind.table}_{function}()"))
        conn.execute(text(f"DROP FUNCTION IF EXISTS lw_{kind.table}(text)"))
    conn.execute(text(f"DROP TABLE IF EXISTS {kind.table}"))


def exists(conn: Connection, kind: Kind = KOREAN) -> bool:
    return inspect(conn).has_table(kind.table)


def refill(conn: Connection, kind: Kind = KOREAN) -> None:
    """Every clip's rows from its package's terms (after a migration, a bulk load, a reindex).

    Sorted by the key before inserting: the rows then arrive in index order, not one clip's
    twenty terms scattered over the whole tree.
    """
    conn.execute(text(f"DELETE FROM {kind.table}"))
    if conn.dialect.name == "sqlite":
        for sel in _sqlite_terms(kind, "p.search_terms", "c.start_utc", "c.id",
                                 "clips c JOIN packages p ON p.id = c.package_id", "1 = 1"):
            conn.execute(text(f"INSERT OR IGNORE INTO {kind.table}(term, t, clip_id) {sel} ORDER BY 1, 2, 3"))
    else:
        conn.execute(text(f"INSERT INTO {kind.table}(term, t, clip_id) SELECT x, c.start_utc, c.id FROM clips c "
                          "JOIN packages p ON p.id = c.package_id "
                          f"CROSS JOIN LATERAL lw_{kind.table}(p.search_terms) x "
                          "WHERE c.start_utc IS NOT NULL ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"))


# -- reading: one page in time order ---------------------------------------------------------------
@dataclass(frozen=True)
class Walk:
    """How a text query reads its page from these tables.

    ``needed``: the Korean terms the query needs (a clip must hold them all); ``prefixes``: its
    other words (Latin, digits), each matched as a prefix of a token in ``clip_words``;
    ``exact``: the phrases of two or more bigrams, which the terms alone do not prove (their
    order). One of the terms (or one prefix's words) is walked in time order and the others are
    primary-key lookups per candidate (the search picks which, see :mod:`walk`). One-bigram and
    one-letter words need no check.
    """

    needed: tuple[str, ...]
    exact: tuple[terms.Clause, ...]
    prefixes: tuple[str, ...] = ()


def plan(text_: str) -> Walk | None:
    """The walk for a query, or None when it has a word these tables do not hold.

    That is a word mixed of Korean and other letters that starts with a Korean letter
    ("번출구3"): a prefix of whole tokens starting with a CJK letter, which neither table keeps.
    """
    needed: list[str] = []
    exact: list[terms.Clause] = []
    prefixes: list[str] = []
    for clause in terms.query(text_):
        first = clause.terms[0]
        if clause.prefix:
            if not is_cjk(first[0]):
                prefixes += [first] if first not in prefixes else []
                continue
            if len(first) != 1:
                return None
        elif not all(len(t) == 2 and is_cjk(t[0]) and is_cjk(t[1]) for t in clause.terms):
            return None
        elif len(clause.terms) > 1:
            exact.append(clause)
        needed += [t for t in clause.terms if t not in needed]
    return Walk(tuple(needed), tuple(exact), tuple(prefixes)) if needed or prefixes else None


#: Above every code point a word can hold: "gate" .. "gate" + this is every word starting with "gate".
_LAST = "\U0010ffff"


def expand(conn: Connection | Any, prefix: str, limit: int) -> list[str]:
    """The distinct words of ``clip_words`` starting with ``prefix``, in key order, at most ``limit``.

    One index seek per word (the next key above the last one found), not a read of every row
    of the range: "gate" has 160,000 rows at a million clips but only a few words ("gate",
    "gates", "gateway").
    """
    table = WORDS.table
    sql = text(f"""WITH RECURSIVE x(term) AS (
        SELECT min(term) FROM {table} WHERE term >= :lo AND term < :hi
        UNION ALL SELECT (SELECT min(term) FROM {table} WHERE term > x.term AND term < :hi) FROM x
        WHERE x.term IS NOT NULL)
        SELECT term FROM x WHERE term IS NOT NULL LIMIT :n""")
    return [str(w) for w in conn.execute(sql, {"lo": prefix, "hi": prefix + _LAST, "n": limit}).scalars()]
