"""Moving a catalog to another database: growing from SQLite on one machine to PostgreSQL (``longwatch db copy``).

Why a command and not "dump and load": the catalog holds the custody
ledger's index and identity, so a copy that loses or reorders a row makes
the real ledger look edited (L-codes) or refuses appends (L024). The copy
goes table by table in dependency order with every column as stored,
resets PostgreSQL's id sequences so the next row continues the numbering,
rebuilds the full-text index the target's own way, and is then *checked*:
the same row count in every table and the same answers to a set of
searches on both sides. The caller (the command) also verifies the custody
ledger against the copy before anyone switches to it. The source is only read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, func, insert, select, text

from longwatch.core.catalog import fulltext
from longwatch.core.catalog import search as catalog_search
from longwatch.core.catalog.models import Base, Clip, Package
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.catalog import Catalog

BATCH = 5000


@dataclass
class CopyReport:
    """Row counts per table on both sides, and each probe search with whether both sides answered alike."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    searches: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(a == b for a, b in self.tables.values()) and all(same for _, same in self.searches)


def count_rows(catalog: Catalog) -> dict[str, int]:
    with catalog.engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for t in Base.metadata.sorted_tables}


def copy(source: Catalog, target: Catalog, progress: Callable[[int], None] | None = None) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (migrated to the newest schema, and empty: else A010)."""
    target.upgrade()
    with target.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise LongwatchError("A010", url=target.engine.url.render_as_string(hide_password=True),
                                     table=table.name)
    with source.engine.connect() as src, target.engine.begin() as dst:
        for table in Base.metadata.sorted_tables:
            result = src.execution_options(yield_per=BATCH).execute(select(table))
            for part in result.mappings().partitions(BATCH):
                dst.execute(insert(table), [dict(r) for r in part])
                if progress:
                    progress(len(part))
        if target.engine.dialect.name == "postgresql":
            _continue_sequences(dst)
        fulltext.rebuild_fulltext(dst)
    report = CopyReport()
    before, after = count_rows(source), count_rows(target)
    report.tables = {name: (before[name], after[name]) for name in before}
    for name, query in probes(source):
        same = _answers(source, query) == _answers(target, query)
        report.searches.append((name, same))
    return report


def _continue_sequences(conn: Any) -> None:
    """After rows were inserted with their own ids, PostgreSQL's sequences must start after the largest."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer) or column.autoincrement is False:
                continue
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                top = conn.execute(select(func.max(column))).scalar()
                conn.execute(text("SELECT setval(CAST(:s AS regclass), :v, false)"),
                             {"s": sequence, "v": int(top or 0) + 1})


def probes(catalog: Catalog) -> Iterable[tuple[str, catalog_search.Query]]:
    """Searches both catalogs must answer alike: everything, newest and oldest first, each of a few cameras,
    a time window around the median clip, and the words of a few titles (full text)."""
    yield "every clip, newest first", catalog_search.Query(limit=500)
    yield "every clip, oldest first", catalog_search.Query(order="asc", limit=500)
    with catalog.engine.connect() as conn:
        cameras = [c for (c,) in conn.execute(select(Clip.camera).distinct().order_by(Clip.camera).limit(5)) if c]
        starts: list[datetime] = [s for (s,) in conn.execute(
            select(Clip.start_utc).where(Clip.start_utc.is_not(None)).order_by(Clip.start_utc).limit(1000)) if s]
        titles = [t for (t,) in conn.execute(select(Package.title).where(Package.title != "")
                                             .order_by(Package.id).limit(3)) if t]
    for camera in cameras:
        yield f"camera {camera}", catalog_search.Query(cameras=[camera], limit=500)
    if starts:
        middle = starts[len(starts) // 2]
        yield "one hour around the median clip", catalog_search.Query(
            start=middle - timedelta(minutes=30), end=middle + timedelta(minutes=30), limit=500)
    for title in titles:
        words = fulltext.words(title)
        if words:
            yield f"text {words[0]!r}", catalog_search.Query(text=words[0], limit=500)


def _answers(catalog: Catalog, query: catalog_search.Query) -> list[Any]:
    return catalog_search.search(catalog, query).items
