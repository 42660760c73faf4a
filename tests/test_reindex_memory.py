"""``reindex`` holds a bounded batch of parsed packages, not the whole archive (issue 20).

Reindex after a lost catalog is when an operator can least afford an
out-of-memory kill, and a city's archive holds millions of packages. The
packages are parsed once each, staged on disk, and written back in ingest order
a batch (``reindex.BATCH``) at a time, so the memory reindex needs grows with
the batch, not with the archive. These tests grow a real archive (one ingested
package cloned by hard links under new ids, as ``benchmarks/reindex.py`` does)
and weigh reindex's peak with ``tracemalloc``; they also check that the
rebuilt catalog is the one ingest wrote, row for row and in ingest order.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import create_archive
from retention_helpers import T0, add_package
from sqlalchemy import text

from longwatch.core.archive import Archive
from longwatch.core.preservation import reindex
from longwatch.core.storage import rebuild as storage_rebuild
from longwatch.storage_adapters.base import package_prefix

#: KiB of reindex's peak (as tracemalloc weighs it) per package added. Holding every parsed package as
#: ORM rows (the code before the batches) cost 22.8 KiB a package in this test; what stays per package
#: now (its id in the listing and in the set of ids found, its copy while the ledger is replayed) about 1.
PER_PACKAGE_KIB = 4.0


def clone(archive: Archive, template: str, count: int) -> list[str]:
    """``count`` more packages on the primary location, each file a hard link to the template's."""
    root = Path(archive.storage().root)
    source = root / package_prefix(template)
    files = [p.relative_to(source) for p in source.rglob("*") if p.is_file()]
    ids = []
    for _ in range(count):
        new = str(uuid.uuid4())
        for rel in files:
            (root / package_prefix(new) / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(source / rel, root / package_prefix(new) / rel)
        ids.append(new)
    return ids


def peak_kib(archive: Archive) -> tuple[float, reindex.ReindexReport]:
    """reindex's peak of Python memory above what was held before it started."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        report = reindex.reindex(archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / 1024, report


def test_the_peak_grows_with_the_batch_not_with_the_archive(archive, small_clip, tmp_path, monkeypatch):
    # so that a few hundred packages make many batches (of packages, and of the copies replayed from the ledger)
    monkeypatch.setattr(reindex, "BATCH", 25, raising=False)
    monkeypatch.setattr(storage_rebuild, "COPY_BATCH", 25, raising=False)
    template = add_package(archive, small_clip, tmp_path, "template")
    reindex.reindex(archive)  # warm: imports and plugins loaded once are not reindex's memory
    clone(archive, template, 99)
    small, report = peak_kib(archive)
    assert (report.packages, report.problems) == (100, [])
    clone(archive, template, 300)
    large, report = peak_kib(archive)
    assert (report.packages, report.problems) == (400, [])
    per_package = (large - small) / 300
    assert per_package < PER_PACKAGE_KIB, f"{per_package:.1f} KiB more per package ({small:.0f} -> {large:.0f} KiB)"


def dump(archive: Archive) -> dict[str, list[Any]]:
    """The packages and their clips as the catalog holds them, clips in id order (ingest order)."""
    with archive.catalog.engine.connect() as conn:
        packages = [dict(r) for r in conn.execute(text("SELECT * FROM packages ORDER BY id")).mappings()]
        clips = [dict(r) for r in conn.execute(text("SELECT * FROM clips ORDER BY id")).mappings()]
    return {"packages": packages, "clips": clips}


@pytest.fixture
def backend_archive(catalog_backend: str, tmp_path: Path) -> Iterator[Archive]:
    """An archive whose catalog is on the back end of this run (SQLite, then PostgreSQL)."""
    a = create_archive(tmp_path / "archive")
    yield a
    a.close()


def test_the_rebuilt_catalog_is_the_one_ingest_wrote(backend_archive, small_clip, tmp_path, frozen_clock,
                                                     monkeypatch):
    archive = backend_archive
    monkeypatch.setattr(reindex, "BATCH", 2, raising=False)  # ingest order must hold across batches
    ids = []
    for i, minutes in enumerate((7, 3, 3, 9, 1)):  # two packages made in the same microsecond: then by id
        frozen_clock(T0 + timedelta(days=1, minutes=minutes))
        ids.append(add_package(archive, small_clip, tmp_path, f"p{i}", camera=f"cam-0{i}",
                               start=T0 + timedelta(hours=i)))
    before = dump(archive)
    with archive.catalog.engine.connect() as conn:
        order = [r[0] for r in conn.execute(text("SELECT id FROM packages ORDER BY created_at, id"))]
    report = reindex.reindex(archive)
    assert (report.packages, report.clips, report.problems) == (5, 5, [])
    after = dump(archive)
    assert after["packages"] == before["packages"]
    assert order != ids  # made in another order than their ids sort, and not in the order of the calls
    assert [c["package_id"] for c in after["clips"]] == order  # catalog ids in ingest order, across batches
    without_id = [{k: v for k, v in c.items() if k != "id"} for c in after["clips"]]
    assert without_id == sorted(({k: v for k, v in c.items() if k != "id"} for c in before["clips"]),
                                key=lambda c: order.index(c["package_id"]))
    monkeypatch.setattr(reindex, "READERS", 3, raising=False)  # read by threads (as on S3): the same order
    assert reindex.reindex(archive).packages == 5
    again = dump(archive)
    assert again["packages"] == before["packages"]
    assert [{k: v for k, v in c.items() if k != "id"} for c in again["clips"]] == without_id
