# ruff: noqa: S608 - table, column and function names here are module constants, never user input
"""Counts of clips kept per hour (issue 22, revision 0040): the facet panel without reading every match.

The facet panel counts the matching clips by camera, zone, day and event type. Counted from
the clips, a broad search reads every match (a zone's 20,000 clips, an event type's 10,000
event probes at a million clips): 100-300 ms of CPU a panel, seconds under 50 clients. These
tables hold the same counts already grouped, so a panel reads a few hundred rows:

- ``clip_hours(zone, hour, camera, clips)``: clips by the UTC hour of their start;
- ``clip_hour_types(type, zone, hour, camera, clips)``: of those, the clips whose package has at least one
  event of ``type`` (the facet's meaning: a clip with a fall and a fire counts under both).

- ``mixed_packages(package_id)``: the packages with events of two types or more, from which the types
  occurring together with a searched type are counted (few: most packages have one type or none).

``hour`` is whole hours since 1970-01-01 00:00 UTC (an integer on both back ends), so a day in any
offset of whole hours is ``(hour + offset hours) div 24``. A NULL camera or zone is kept as ''.
A count that falls to 0 stays as a row of 0 (the readers skip it): a trigger then never deletes.

Kept in step by triggers on ``clips`` (insert, delete, update of camera, zone, start or package)
and ``events`` (insert, delete, change of type or package: the first event of a type in a package
adds that package's clips under the type, the last one takes them away). A package's deletion
reaches both through the foreign keys' cascades (SQLite, row by row, whichever goes first: each
trigger reads the rows as they are when it runs); on PostgreSQL a trigger before the package's
deletion deletes its clips first, while its events are there to say which types to take away.
SQLite's triggers run per row, as each row changes; PostgreSQL's are per statement with
transition tables (a row trigger there runs after the whole statement and would see, say, both
events of a type deleted and take the clips away twice), so a bulk load of 5,000 clips is one
grouped upsert. Every writer (the ORM, bulk SQL, ``reindex``, ``db copy``)
goes through them; :func:`refill` rebuilds both tables from the clips in two grouped INSERTs.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

HOURS = "clip_hours"
TYPES = "clip_hour_types"
MIXED = "mixed_packages"
_SQLITE_TRIGGERS = ("clip_hours_ai", "clip_hours_ad", "clip_hours_au", "clip_hours_eai", "clip_hours_ead",
                    "clip_hours_eau_old", "clip_hours_eau_new", "mixed_packages_ai", "mixed_packages_ad",
                    "mixed_packages_au")
_PG_TRIGGERS = (("clip_hours_ai", "clips"), ("clip_hours_ad", "clips"), ("clip_hours_au", "clips"),
                ("clip_hours_eai", "events"), ("clip_hours_ead", "events"), ("clip_hours_eau", "events"),
                ("clip_hours_pd", "packages"))
_PG_FUNCTIONS = ("lw_clip_hours_ins", "lw_clip_hours_del", "lw_clip_hours_upd", "lw_clip_hours_eins",
                 "lw_clip_hours_edel", "lw_clip_hours_eupd", "lw_clip_hours_pkg")


def hour_sql(dialect: str, column: str) -> str:
    """SQL for the whole UTC hours since 1970 of a start time column (SQLite's text, PostgreSQL's timestamp)."""
    if dialect == "sqlite":
        return f"(unixepoch(substr({column}, 1, 13) || ':00:00') / 3600)"
    return f"CAST(floor(extract(epoch FROM {column}) / 3600) AS integer)"


def _upsert(table: str) -> str:
    key = "zone, hour, camera" if table == HOURS else "type, zone, hour, camera"
    return f"ON CONFLICT ({key}) DO UPDATE SET clips = {table}.clips + excluded.clips"


def _key(dialect: str, alias: str) -> str:
    """zone, hour, camera of a clip row."""
    return (f"coalesce({alias}.zone, ''), {hour_sql(dialect, f'{alias}.start_utc')}, "
            f"coalesce({alias}.camera, '')")


def _package_clips(dialect: str, type_: str, package: str, sign: str) -> str:
    """Add (``sign`` '') or take away ('-') a package's clips under one event type."""
    return (f"INSERT INTO {TYPES}(type, zone, hour, camera, clips) SELECT {type_}, {_key(dialect, 'c')}, "
            f"{sign}count(*) FROM clips c WHERE c.package_id = {package} AND c.start_utc IS NOT NULL "
            f"GROUP BY 1, 2, 3, 4 {_upsert(TYPES)};")


# -- SQLite: row triggers, run as each row changes ----------------------------------------------------
def _sqlite_clip(row: str, sign: str) -> str:
    """One clip row (``new`` or ``old``) added to or taken from both tables."""
    key = _key("sqlite", row)
    return (f"INSERT INTO {HOURS}(zone, hour, camera, clips) SELECT {key}, {sign}1 "
            f"WHERE {row}.start_utc IS NOT NULL {_upsert(HOURS)}; "
            f"INSERT INTO {TYPES}(type, zone, hour, camera, clips) SELECT DISTINCT e.type, {key}, {sign}1 "
            f"FROM events e WHERE e.package_id = {row}.package_id AND {row}.start_utc IS NOT NULL {_upsert(TYPES)};")


def _create_sqlite(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE {HOURS} (zone TEXT NOT NULL, hour INTEGER NOT NULL, camera TEXT NOT NULL, "
                      "clips INTEGER NOT NULL, PRIMARY KEY (zone, hour, camera)) WITHOUT ROWID"))
    conn.execute(text(f"CREATE TABLE {TYPES} (type TEXT NOT NULL, zone TEXT NOT NULL, hour INTEGER NOT NULL, "
                      "camera TEXT NOT NULL, clips INTEGER NOT NULL, PRIMARY KEY (type, zone, hour, camera)) "
                      "WITHOUT ROWID"))
    conn.execute(text(f"CREATE TRIGGER clip_hours_ai AFTER INSERT ON clips BEGIN {_sqlite_clip('new', '')} END"))
    conn.execute(text(f"CREATE TRIGGER clip_hours_ad AFTER DELETE ON clips BEGIN {_sqlite_clip('old', '-')} END"))
    conn.execute(text("CREATE TRIGGER clip_hours_au AFTER UPDATE OF camera, zone, start_utc, package_id ON clips "
                      f"BEGIN {_sqlite_clip('old', '-')} {_sqlite_clip('new', '')} END"))
    first = "(SELECT count(*) FROM events x WHERE x.package_id = new.package_id AND x.type = new.type) = 1"
    gone = "NOT EXISTS (SELECT 1 FROM events x WHERE x.package_id = old.package_id AND x.type = old.type)"
    changed = "(old.type IS NOT new.type OR old.package_id IS NOT new.package_id)"
    conn.execute(text(f"""CREATE TRIGGER clip_hours_eai AFTER INSERT ON events
        WHEN new.package_id IS NOT NULL AND {first}
        BEGIN {_package_clips('sqlite', 'new.type', 'new.package_id', '')} END"""))
    conn.execute(text(f"""CREATE TRIGGER clip_hours_ead AFTER DELETE ON events
        WHEN old.package_id IS NOT NULL AND {gone}
        BEGIN {_package_clips('sqlite', 'old.type', 'old.package_id', '-')} END"""))
    conn.execute(text(f"""CREATE TRIGGER clip_hours_eau_old AFTER UPDATE OF type, package_id ON events
        WHEN {changed} AND old.package_id IS NOT NULL AND {gone}
        BEGIN {_package_clips('sqlite', 'old.type', 'old.package_id', '-')} END"""))
    conn.execute(text(f"""CREATE TRIGGER clip_hours_eau_new AFTER UPDATE OF type, package_id ON events
        WHEN {changed} AND new.package_id IS NOT NULL AND {first}
        BEGIN {_package_clips('sqlite', 'new.type', 'new.package_id', '')} END"""))
    conn.execute(text(f"CREATE TABLE {MIXED} (package_id TEXT PRIMARY KEY) WITHOUT ROWID"))
    kinds = "(SELECT count(DISTINCT x.type) FROM events x WHERE x.package_id = {row}.package_id)"
    add = (f"INSERT OR IGNORE INTO {MIXED}(package_id) SELECT new.package_id WHERE new.package_id IS NOT NULL "
           f"AND {kinds.format(row='new')} >= 2;")
    remove = f"DELETE FROM {MIXED} WHERE package_id = old.package_id AND {kinds.format(row='old')} < 2;"
    conn.execute(text(f"CREATE TRIGGER mixed_packages_ai AFTER INSERT ON events BEGIN {add} END"))
    conn.execute(text(f"CREATE TRIGGER mixed_packages_ad AFTER DELETE ON events BEGIN {remove} END"))
    conn.execute(text(f"CREATE TRIGGER mixed_packages_au AFTER UPDATE OF type, package_id ON events "
                      f"BEGIN {remove} {add} END"))


# -- PostgreSQL: statement triggers over transition tables --------------------------------------------
def _pg_clips(rows: str, sign: str) -> str:
    """Clip rows (a transition table or a subquery of one, aliased c) added to or taken from both tables."""
    key = _key("postgresql", "c")
    return (f"INSERT INTO {HOURS}(zone, hour, camera, clips) SELECT {key}, {sign}count(*) FROM {rows} "
            f"WHERE c.start_utc IS NOT NULL GROUP BY 1, 2, 3 {_upsert(HOURS)}; "
            f"INSERT INTO {TYPES}(type, zone, hour, camera, clips) SELECT t.type, {key}, {sign}count(*) FROM {rows} "
            "CROSS JOIN LATERAL (SELECT DISTINCT e.type FROM events e WHERE e.package_id = c.package_id) t "
            f"WHERE c.start_utc IS NOT NULL GROUP BY 1, 2, 3, 4 {_upsert(TYPES)};")


def _pg_pairs(pairs: str, sign: str) -> str:
    """The clips of each (package_id, type) of ``pairs`` (a subquery aliased f) added or taken under the type."""
    return (f"INSERT INTO {TYPES}(type, zone, hour, camera, clips) SELECT f.type, {_key('postgresql', 'c')}, "
            f"{sign}count(*) FROM {pairs} JOIN clips c ON c.package_id = f.package_id "
            f"WHERE c.start_utc IS NOT NULL GROUP BY 1, 2, 3, 4 {_upsert(TYPES)};")


def _pg_mixed(rows: str) -> str:
    """The packages of ``rows`` (events) put in or taken out of ``mixed_packages`` by their types now."""
    touched = f"SELECT package_id FROM {rows} WHERE package_id IS NOT NULL"
    return (f"DELETE FROM {MIXED} WHERE package_id IN ({touched}); "
            f"INSERT INTO {MIXED}(package_id) SELECT e.package_id FROM events e WHERE e.package_id IN ({touched}) "
            "GROUP BY e.package_id HAVING count(DISTINCT e.type) >= 2 ON CONFLICT DO NOTHING;")


def _pg_function(conn: Connection, name: str, body: str) -> None:
    conn.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                      "RETURN NULL; END $$"))


def _create_pg(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE {HOURS} (zone text NOT NULL, hour integer NOT NULL, camera text NOT NULL, "
                      "clips integer NOT NULL, PRIMARY KEY (zone, hour, camera))"))
    conn.execute(text(f"CREATE TABLE {TYPES} (type text NOT NULL, zone text NOT NULL, hour integer NOT NULL, "
                      "camera text NOT NULL, clips integer NOT NULL, PRIMARY KEY (type, zone, hour, camera))"))
    moved = ("(SELECT o.* FROM {a} o JOIN {b} n ON n.id = o.id WHERE (n.camera, n.zone, n.start_utc, n.package_id) "
             "IS DISTINCT FROM (o.camera, o.zone, o.start_utc, o.package_id)) c")
    _pg_function(conn, "lw_clip_hours_ins", _pg_clips("new_rows c", ""))
    _pg_function(conn, "lw_clip_hours_del", _pg_clips("old_rows c", "-"))
    _pg_function(conn, "lw_clip_hours_upd", _pg_clips(moved.format(a="old_rows", b="new_rows"), "-")
                 + _pg_clips(moved.format(a="new_rows", b="old_rows"), ""))
    # The first event of a type in its package: no event of that (package, type) outside this statement's rows.
    firsts = ("(SELECT DISTINCT n.package_id, n.type FROM new_rows n WHERE n.package_id IS NOT NULL AND NOT EXISTS "
              "(SELECT 1 FROM events e WHERE e.package_id = n.package_id AND e.type = n.type "
              "AND NOT EXISTS (SELECT 1 FROM new_rows m WHERE m.id = e.id)){also}) f")
    lasts = ("(SELECT DISTINCT o.package_id, o.type FROM old_rows o WHERE o.package_id IS NOT NULL AND NOT EXISTS "
             "(SELECT 1 FROM events e WHERE e.package_id = o.package_id AND e.type = o.type)) f")
    was = " AND NOT EXISTS (SELECT 1 FROM old_rows w WHERE w.package_id = n.package_id AND w.type = n.type)"
    conn.execute(text(f"CREATE TABLE {MIXED} (package_id text PRIMARY KEY)"))
    _pg_function(conn, "lw_clip_hours_eins", _pg_pairs(firsts.format(also=""), "") + _pg_mixed("new_rows"))
    _pg_function(conn, "lw_clip_hours_edel", _pg_pairs(lasts, "-") + _pg_mixed("old_rows"))
    _pg_function(conn, "lw_clip_hours_eupd", _pg_pairs(lasts, "-") + _pg_pairs(firsts.format(also=was), "")
                 + _pg_mixed("(SELECT package_id FROM old_rows UNION SELECT package_id FROM new_rows) a"))
    # A package deleted: its clips go first, by this statement, while its events are still there. Left to the
    # foreign keys' cascades, both statement triggers ran after both cascades: the clips' found no events and
    # the events' no clips, and the package's event types were never taken away.
    conn.execute(text("CREATE FUNCTION lw_clip_hours_pkg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                      "DELETE FROM clips WHERE package_id = OLD.id; RETURN OLD; END $$"))
    conn.execute(text("CREATE TRIGGER clip_hours_pd BEFORE DELETE ON packages FOR EACH ROW "
                      "EXECUTE FUNCTION lw_clip_hours_pkg()"))
    # Transition tables cannot go with a column list (UPDATE OF ...): the update functions compare old and new.
    for trigger, table, op, refs, fn in (
            ("clip_hours_ai", "clips", "INSERT", "NEW TABLE AS new_rows", "ins"),
            ("clip_hours_ad", "clips", "DELETE", "OLD TABLE AS old_rows", "del"),
            ("clip_hours_au", "clips", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "upd"),
            ("clip_hours_eai", "events", "INSERT", "NEW TABLE AS new_rows", "eins"),
            ("clip_hours_ead", "events", "DELETE", "OLD TABLE AS old_rows", "edel"),
            ("clip_hours_eau", "events", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "eupd")):
        conn.execute(text(f"CREATE TRIGGER {trigger} AFTER {op} ON {table} REFERENCING {refs} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION lw_clip_hours_{fn}()"))


# -- both -----------------------------------------------------------------------------------------------
def _indexes(conn: Connection) -> None:
    """The reads of :mod:`facets_fast`: a zone's (the key), a camera's or every hour range, with or without a
    type; each index holds the count, so a read never touches the table."""
    for name, table, columns in (
            ("ix_clip_hours_camera", HOURS, "camera, hour, zone, clips"),
            ("ix_clip_hours_hour", HOURS, "hour, camera, zone, clips"),
            ("ix_clip_hour_types_camera", TYPES, "type, camera, hour, zone, clips"),
            ("ix_clip_hour_types_hour", TYPES, "type, hour, camera, zone, clips"),
            ("ix_clip_hour_types_zone_any", TYPES, "zone, hour, type, camera, clips"),
            ("ix_clip_hour_types_camera_any", TYPES, "camera, hour, type, zone, clips"),
            ("ix_clip_hour_types_hour_any", TYPES, "hour, type, camera, zone, clips")):
        conn.execute(text(f"CREATE INDEX {name} ON {table} ({columns})"))


def create(conn: Connection) -> None:
    """The tables, their indexes and triggers, and the counts of the clips already catalogued (revision 0040)."""
    if conn.dialect.name == "sqlite":
        _create_sqlite(conn)
    else:
        _create_pg(conn)
    _indexes(conn)
    refill(conn)


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    else:
        for trigger, table in _PG_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {table}"))
        for function in _PG_FUNCTIONS:
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
    conn.execute(text(f"DROP TABLE IF EXISTS {MIXED}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {TYPES}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {HOURS}"))


def exists(conn: Connection) -> bool:
    return inspect(conn).has_table(HOURS)


def refill(conn: Connection) -> None:
    """Both tables from the clips and events as they are: one grouped INSERT ... SELECT each."""
    dialect = conn.dialect.name
    conn.execute(text(f"DELETE FROM {MIXED}"))
    conn.execute(text(f"INSERT INTO {MIXED}(package_id) SELECT package_id FROM events WHERE package_id IS NOT NULL "
                      "GROUP BY package_id HAVING count(DISTINCT type) >= 2"))
    conn.execute(text(f"DELETE FROM {TYPES}"))
    conn.execute(text(f"DELETE FROM {HOURS}"))
    conn.execute(text(f"INSERT INTO {HOURS}(zone, hour, camera, clips) SELECT {_key(dialect, 'c')}, count(*) "
                      "FROM clips c WHERE c.start_utc IS NOT NULL GROUP BY 1, 2, 3"))
    conn.execute(text(f"INSERT INTO {TYPES}(type, zone, hour, camera, clips) SELECT t.type, {_key(dialect, 'c')}, "
                      "count(*) FROM clips c JOIN (SELECT DISTINCT package_id, type FROM events "
                      "WHERE package_id IS NOT NULL) t ON t.package_id = c.package_id "
                      "WHERE c.start_utc IS NOT NULL GROUP BY 1, 2, 3, 4"))
