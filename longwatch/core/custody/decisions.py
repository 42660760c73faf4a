"""Decisions kept in the catalog reach the custody ledger, and come back from it on ``reindex``.

The catalog journals every change to a decision table (cases, events and
reviews, dispositions, requests, share links, accounts, tombstones) in the
same transaction as the change (:mod:`longwatch.core.catalog.journal`). Here:

- :func:`drain` appends the waiting journal rows to the ledger, one
  "metadata modification" entry per changed row carrying the row itself
  (``extra.catalog``), in the order they were committed, then deletes them.
  It runs after every commit that journaled something (the built-in
  ``longwatch.plugins.journal`` listens for it), so a decision is in the
  ledger when the command that made it returns. A crash between the commit
  and the append leaves the rows for the next drain: nothing committed is
  lost, at worst an entry is written twice, which replay does not mind.
- :func:`replay` writes the rows back, the ledger's last word on each one
  winning, after ``reindex`` has read the packages: drop the catalog,
  reindex, and every case, event, review, disposition, request, share link
  and account is as it was. Secrets never enter the ledger: an account
  rebuilt from it cannot sign in until an administrator sets a new password.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import DateTime, Table, delete, insert, select, update

from longwatch.core.catalog import journal, terms
from longwatch.core.catalog.models import SEARCHED, CatalogJournal, Clip
from longwatch.core.custody.entries import CustodyEvent, person_agent, software_agent
from longwatch.core.custody.ledger import Ledger
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from longwatch.core.archive import Archive

#: what ``ledger.entries(mentioning=...)`` looks for: every journal entry has it, other entries never do
MARK = b'"catalog":{'
BATCH = 2000


def drain(archive: Archive) -> int:
    """Append every waiting journal row to the ledger in commit order; how many were appended."""
    table = cast(Table, CatalogJournal.__table__)
    engine = archive.catalog.engine
    done = 0
    with archive.catalog.exclusive("catalog-journal"):
        while True:
            with engine.connect() as conn:
                rows = conn.execute(select(table).order_by(table.c.id).limit(BATCH)).mappings().all()
            if not rows:
                return done
            agents = [software_agent(), *([person_agent(archive.operator)] if archive.operator else [])]
            Ledger.for_archive(archive).append([_entry(r, agents) for r in rows])
            with engine.begin() as conn:
                conn.execute(delete(table).where(table.c.id <= rows[-1]["id"]))
            done += len(rows)


def _entry(row: Any, agents: list[dict[str, str]]) -> CustodyEvent:
    key = json.loads(row["key"])
    data = json.loads(row["row"]) if row["row"] is not None else None
    what = row["table_name"]
    packages = [str(key["id"])] if what == "packages" else []
    verb = "removed" if row["op"] == "delete" else "recorded"
    return CustodyEvent(
        type="metadata modification", packages=packages,
        agents=agents, time=row["at"],
        detail=f"catalog {what} {verb}: " + ", ".join(f"{k}={v}" for k, v in sorted(key.items())),
        extra={"catalog": {"table": what, "op": row["op"], "key": key, "row": data}})


@dataclass
class ReplayReport:
    rows: int = 0
    deleted: int = 0
    skipped: list[LongwatchError] = field(default_factory=list)


def replay(archive: Archive, entries: Iterable[dict[str, Any]]) -> ReplayReport:
    """Write back what the journal entries say, the last entry on each row winning; idempotent.

    Packages come first in a reindex, so a row whose package no longer exists
    anywhere (neither stored nor a tombstone) is skipped and reported, never
    half-written. Unknown columns (a newer longwatch wrote the entry) are ignored,
    columns an older entry lacks keep their defaults.
    """
    state: dict[tuple[str, str], tuple[str, dict[str, Any] | None, dict[str, Any]]] = {}
    for entry in entries:
        extra = entry.get("extra") if isinstance(entry, dict) else None
        item = extra.get("catalog") if isinstance(extra, dict) else None
        if not isinstance(item, dict) or item.get("table") not in journal.JOURNALED \
                or item.get("op") not in ("upsert", "delete") or not isinstance(item.get("key"), dict):
            continue
        ident = (item["table"], json.dumps(item["key"], sort_keys=True))
        state.pop(ident, None)  # re-inserted at the end: the final order follows the last entry
        state[ident] = (item["op"], item.get("row"), item["key"])
    report = ReplayReport()
    tables = journal.tables()
    with archive.catalog.engine.begin() as conn:
        for name, table in tables.items():
            for (what, _), (op, data, key) in state.items():
                if what == name and op == "upsert" and isinstance(data, dict):
                    if _upsert(conn, table, key, data, report):
                        report.rows += 1
        for name, table in reversed(list(tables.items())):
            for (what, _), (op, _data, key) in state.items():
                if what == name and op == "delete":
                    conn.execute(delete(table).where(*_match(table, key)))
                    report.deleted += 1
    return report


def _match(table: Table, key: dict[str, Any]) -> list[Any]:
    return [table.c[name] == _value(table.c[name], value) for name, value in key.items() if name in table.c]


def _value(column: Any, value: Any) -> Any:
    """A JSON value back in the column's own type (times are the only ones JSON changes)."""
    kind = column.type
    if isinstance(value, str) and (isinstance(kind, DateTime) or isinstance(getattr(kind, "impl_instance", None),
                                                                          DateTime)):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed
    return value


#: what replay writes back of a stored package's row (not a tombstone): the confirmation of an upload as a
#: camera's recording; everything else of it comes from the package itself
CONFIRMATION = ("camera", "confirmed_by", "confirmed_at")


def _confirmation(conn: Connection, table: Table, key: dict[str, Any], data: dict[str, Any]) -> bool:
    """An upload's confirmation onto the package row reindex read from the package, and onto its clips."""
    values = {c: _value(table.c[c], data[c]) for c in CONFIRMATION if c in data}
    done = conn.execute(update(table).where(*_match(table, key), table.c.origin == "upload")
                        .values(**values)).rowcount
    if done and "camera" in values:
        clips = cast(Table, Clip.__table__)
        conn.execute(update(clips).where(clips.c.package_id == key["id"]).values(camera=values["camera"]))
        # the camera is a searched field: its terms as the ORM would have kept them (models.SEARCHED)
        row = conn.execute(select(*(table.c[f] for f in SEARCHED)).where(*_match(table, key))).one()
        conn.execute(update(table).where(*_match(table, key)).values(search_terms=terms.document(*row)))
    return bool(done)


def _upsert(conn: Connection, table: Table, key: dict[str, Any], data: dict[str, Any],
            report: ReplayReport) -> bool:
    if table.name == "packages" and data.get("status") != "disposed":
        return _confirmation(conn, table, key, data)
    values = {c.name: _value(c, data[c.name]) for c in table.columns if c.name in data}
    for fk in table.foreign_keys:
        value = values.get(fk.parent.name)
        target = fk.column
        if value is not None and conn.execute(select(target).where(target == value).limit(1)).first() is None:
            report.skipped.append(LongwatchError("L026", table=table.name, key=json.dumps(key, sort_keys=True),
                                                 parent=target.table.name, value=value))
            return False
    if conn.execute(select(*table.primary_key.columns).where(*_match(table, key))).first() is None:
        conn.execute(insert(table).values(**{**journal.RESTORED_SECRET.get(table.name, {}), **values}))
    else:
        conn.execute(update(table).where(*_match(table, key)).values(**values))
    if table.name == "packages" and isinstance(data.get("_clips"), list):
        clips = cast(Table, Clip.__table__)
        conn.execute(delete(clips).where(clips.c.package_id == key["id"]))
        for clip in data["_clips"]:
            conn.execute(insert(clips).values(**{c.name: _value(c, clip[c.name]) for c in clips.columns
                                                 if c.name in clip}))
    return True
