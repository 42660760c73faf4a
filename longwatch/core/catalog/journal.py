"""The catalog's journal: every change to a decision table, written in the same transaction as the change.

Why: the packages and the custody ledger are the truth, and the catalog is a
projection that ``longwatch reindex`` rebuilds from both. Cases, events and
their reviews, dispositions, requests, share links and accounts are decided in
the catalog, so each change to their rows must reach the ledger, or losing the
catalog would lose them. Writing the ledger from every place that changes such
a row would miss the next place someone adds; instead this module listens to
the catalog's sessions and writes a snapshot of each changed row (never the
columns named secret below) into the ``catalog_journal`` table *in the same
transaction*, an outbox: a change is committed with its journal row or not at
all. :mod:`longwatch.core.custody.decisions` then appends the rows to the
ledger after the commit (and again at the next commit, or on ``custody
verify``, after a crash) and replays them on ``reindex``.

Two paths change rows and both are caught: the unit of work
(``session.add``, attribute changes, ``session.delete``) in ``after_flush``;
ORM ``insert``/``update``/``delete(Model)`` statements in ``do_orm_execute``,
by reading the keys they will touch before and the rows after; nothing else
in longwatch writes these tables. The packages table is journaled only for
tombstones (a package whose status became ``disposed``, with its clips) and for
uploads confirmed as a camera's recording (replay writes back only the
confirmation): every other package row is rebuilt from the package itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, event, insert, inspect, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from longwatch import clock
from longwatch.core.catalog.models import Base, CatalogJournal, Clip

if TYPE_CHECKING:
    from sqlalchemy.orm import ORMExecuteState

#: table -> columns never written to the ledger (secrets stay in the catalog)
JOURNALED: Mapping[str, frozenset[str]] = {
    "users": frozenset({"password_hash"}),
    "api_tokens": frozenset(),
    "account_changes": frozenset(),
    "cases": frozenset(),
    "case_ranges": frozenset(),
    "case_packages": frozenset(),
    "case_members": frozenset(),
    "events": frozenset(),
    "event_windows": frozenset(),
    "dispositions": frozenset(),
    "disposition_items": frozenset(),
    "planning_samples": frozenset(),
    "export_shares": frozenset(),
    "public_requests": frozenset(),
    "request_steps": frozenset(),
    "notice_versions": frozenset(),
    "packages": frozenset(),  # tombstones only: see _wanted
}

#: what a replay writes for a secret column of a row it must create: an account rebuilt from the ledger
#: cannot sign in until an administrator sets a new password (``longwatch users passwd``)
RESTORED_SECRET: Mapping[str, Mapping[str, Any]] = {"users": {"password_hash": "!"}}

PAUSED = "journal_paused"


def install(session_factory: sessionmaker[Session]) -> None:
    """Journal every session this factory makes (called once per catalog, before any session is used)."""
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "do_orm_execute", _orm_execute)


@contextmanager
def paused(session_factory: sessionmaker[Session]) -> Iterator[None]:
    """No journaling while ``reindex`` writes back what the packages and the ledger already say."""
    session_factory.kw.setdefault("info", {})
    before = session_factory.kw["info"].get(PAUSED, False)
    session_factory.kw["info"] = {**session_factory.kw["info"], PAUSED: True}
    try:
        yield
    finally:
        session_factory.kw["info"] = {**session_factory.kw["info"], PAUSED: before}


def journaled(session: Session) -> bool:
    """Whether this session wrote journal rows (so the ledger has something to take after its commit)."""
    return bool(session.info.get("journal_rows"))


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.iso_z(value) if value.tzinfo else value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def snapshot(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's columns as JSON values, without the secret ones."""
    secret = JOURNALED[table.name]
    return {c.name: jsonable(row[c.name]) for c in table.columns if c.name not in secret and c.name in row}


def key_of(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {c.name: jsonable(row[c.name]) for c in table.primary_key.columns}


def _wanted(table: Table, row: Mapping[str, Any]) -> bool:
    """Every decision table's rows; of packages only tombstones and uploads confirmed as a camera's recording
    (a decision made after the package was stored: ``core/preservation/provenance.py``)."""
    return table.name != "packages" or row.get("status") == "disposed" or (
        row.get("origin") == "upload" and row.get("confirmed_at") is not None)


def _tombstone_clips(session: Session, package_id: str) -> list[dict[str, Any]]:
    table = cast(Table, Clip.__table__)
    rows = session.connection().execute(select(table).where(table.c.package_id == package_id)).mappings()
    return [{c.name: jsonable(r[c.name]) for c in table.columns} for r in rows]


def _record(session: Session, items: list[tuple[Table, str, Mapping[str, Any]]]) -> None:
    if session.info.get(PAUSED) or not items:
        return
    now = clock.now()
    values = []
    for table, op, row in items:
        if op == "upsert" and not _wanted(table, row):
            continue
        data = snapshot(table, row) if op == "upsert" else None
        if data is not None and table.name == "packages" and row.get("status") == "disposed":
            data["_clips"] = _tombstone_clips(session, str(row["id"]))
        values.append({"table_name": table.name, "op": op, "at": now,
                       "key": json.dumps(key_of(table, row), sort_keys=True, ensure_ascii=False),
                       "row": json.dumps(data, sort_keys=True, ensure_ascii=False) if data is not None else None})
    if values:
        session.connection().execute(insert(cast(Table, CatalogJournal.__table__)), values)
        session.info["journal_rows"] = session.info.get("journal_rows", 0) + len(values)


def _columns(obj: Any) -> tuple[Table, dict[str, Any]]:
    state = inspect(obj)
    table = state.mapper.local_table
    row = {attr.columns[0].name: getattr(obj, attr.key) for attr in state.mapper.column_attrs
           if attr.columns[0].table is table}
    return table, row


def _after_flush(session: Session, _context: Any) -> None:
    items: list[tuple[Table, str, Mapping[str, Any]]] = []
    for op, objects in (("upsert", session.new), ("upsert", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            table = getattr(type(obj), "__table__", None)
            if table is None or table.name not in JOURNALED:
                continue
            if objects is session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            table, row = _columns(obj)
            items.append((table, op, row))
    _record(session, items)


def _orm_execute(state: ORMExecuteState) -> Any:
    if state.is_select or state.session.info.get(PAUSED):
        return None
    mapper = state.bind_mapper
    table = mapper.local_table if mapper is not None else None
    if not isinstance(table, Table) or table.name not in JOURNALED:
        return None
    pk = list(table.primary_key.columns)
    statement: Any = state.statement
    connection = state.session.connection()
    if state.is_insert:
        keys = _inserted_keys(connection, statement, state.parameters, pk)
    else:
        where = statement.whereclause
        keys = [tuple(r) for r in connection.execute(select(*pk) if where is None else select(*pk).where(where))]
    result = state.invoke_statement()
    if not keys:
        return result
    if state.is_delete:
        _record(state.session, [(table, "delete", dict(zip([c.name for c in pk], k, strict=True))) for k in keys])
        return result
    rows: list[Mapping[str, Any]] = []
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        cond = pk[0].in_([k[0] for k in part]) if len(pk) == 1 else tuple_(*pk).in_(part)
        rows += [dict(r) for r in connection.execute(select(table).where(cond)).mappings()]
    _record(state.session, [(table, "upsert", r) for r in rows])
    return result


def _inserted_keys(connection: Any, statement: Any, parameters: Any, pk: list[Any]) -> list[tuple[Any, ...]]:
    """The primary keys an ORM ``insert(Model)`` statement is about to write (from its values or its SELECT)."""
    names = [c.name for c in pk]
    if getattr(statement, "select", None) is not None:
        selected = list(statement._select_names)
        if not set(names) <= set(selected):
            raise RuntimeError(f"an INSERT ... SELECT into {statement.table.name} must name its primary key")
        return [tuple(row[selected.index(n)] for n in names) for row in connection.execute(statement.select)]
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    values = getattr(statement, "_values", None) or {}
    fixed = {getattr(k, "key", k): getattr(v, "value", v) for k, v in values.items()}
    return [tuple({**fixed, **row}.get(n) for n in names) for row in rows]


def tables() -> dict[str, Table]:
    """The journaled tables by name, parents before children (the order a replay writes them in)."""
    return {t.name: t for t in Base.metadata.sorted_tables if t.name in JOURNALED}
