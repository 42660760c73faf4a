"""Prometheus metrics, read from the catalog when scraped: the one module that imports ``prometheus_client``.

Why at scrape time and not in-process counters: gunicorn runs several worker
processes (and several machines), and a scrape reaches one of them; counters
kept in one process would show that process's share only, and would restart
from zero with it. The catalog holds the facts every process shares (packages,
copies, storage events, job failures, the ledger's index), so each scrape
answers for the whole archive whichever process serves it. The ledger's last
checkpoint is read from its directory (a file name and one small note).

Each query is an aggregate over an indexed column; a scrape of a large
archive costs a few count/sum queries, not a walk of storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from longwatch import clock
from longwatch.core import custody
from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Clip, Copy, CustodyEntry, JobFailure, Package, StorageEvent
from longwatch.core.jobs import queue as jobs

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ArchiveCollector:
    """Collects the archive's figures on each scrape (prometheus_client's custom-collector protocol)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def describe(self) -> list[Metric]:
        return []  # no description run at registration: that would query the catalog at start-up

    def collect(self) -> Iterator[Metric]:
        yield from self._packages()
        yield from self._storage()
        yield from self._jobs()
        yield from self._ledger()

    def _packages(self) -> Iterator[Metric]:
        packages = GaugeMetricFamily("longwatch_packages", "Packages in the catalog, by status.", labels=["status"])
        stored = GaugeMetricFamily("longwatch_package_bytes", "Bytes of the packages in the catalog, by status "
                                   "(ingest rate: deriv() of the 'stored' series).", labels=["status"])
        with self.archive.catalog.session() as s:
            for status, count, size in s.execute(select(Package.status, func.count(), func.sum(Package.size_bytes))
                                                 .group_by(Package.status)):
                packages.add_metric([status], count)
                stored.add_metric([status], int(size or 0))
            clips = s.scalar(select(func.count()).select_from(Clip)) or 0
        yield packages
        yield stored
        yield GaugeMetricFamily("longwatch_clips", "Recording files (clips) in the catalog.", value=clips)

    def _storage(self) -> Iterator[Metric]:
        copies = GaugeMetricFamily("longwatch_copies", "Copies per storage location and status.",
                                   labels=["location", "status"])
        used = GaugeMetricFamily("longwatch_location_bytes", "Bytes of the copies on each storage location.",
                                 labels=["location"])
        events = CounterMetricFamily("longwatch_storage_events", "Storage events since the archive began: fixity "
                                     "checks (audit results), repairs, replications, by kind and outcome.",
                                     labels=["kind", "outcome"])
        with self.archive.catalog.session() as s:
            for location, status, count in s.execute(select(Copy.location, Copy.status, func.count())
                                                     .group_by(Copy.location, Copy.status)):
                copies.add_metric([location, status], count)
            for location, size in s.execute(select(Copy.location, func.sum(Copy.size_bytes)).group_by(Copy.location)):
                used.add_metric([location], int(size or 0))
            for kind, outcome, count in s.execute(select(StorageEvent.kind, StorageEvent.outcome, func.count())
                                                  .group_by(StorageEvent.kind, StorageEvent.outcome)):
                events.add_metric([kind, outcome], count)
        free = GaugeMetricFamily("longwatch_location_free_bytes", "Room left on each storage location that can "
                                 "tell (filesystems).", labels=["location"])
        for name in self.archive.settings.locations:
            try:
                room = self.archive.storage(name).free_bytes()
            except Exception:  # unreachable: no figure (/readyz says why)
                room = None
            if room is not None:
                free.add_metric([name], room)
        yield from (copies, used, events, free)

    def _jobs(self) -> Iterator[Metric]:
        with self.archive.catalog.session() as s:
            failures = s.scalar(select(func.count()).select_from(JobFailure)) or 0
        yield GaugeMetricFamily("longwatch_job_failures", "Queued jobs whose last attempt failed (with an error "
                                "code, `longwatch jobs --state failed`).", value=failures)
        queue = GaugeMetricFamily("longwatch_jobs", "Jobs in the queue by state (PostgreSQL catalogs; on "
                                  "SQLite jobs run in-process and there is no queue).", labels=["state"])
        for state, count in sorted(jobs.counts(self.archive).items()):
            queue.add_metric([state], count)
        yield queue

    def _ledger(self) -> Iterator[Metric]:
        with self.archive.catalog.session() as s:
            top = s.scalar(select(func.max(CustodyEntry.seq)))
        yield GaugeMetricFamily("longwatch_ledger_entries", "Entries in the custody ledger (its index).",
                                value=0 if top is None else int(top) + 1)
        ledger = custody.Ledger.for_archive(self.archive)
        last = ledger.last_checkpoint()
        if last is not None:
            yield GaugeMetricFamily("longwatch_ledger_checkpoint_size", "Entries covered by the last signed "
                                    "checkpoint.", value=last.size)
            yield GaugeMetricFamily("longwatch_ledger_checkpoint_age_seconds", "Seconds since the last signed "
                                    "checkpoint of the custody ledger.",
                                    value=max(0.0, (clock.now() - last.time).total_seconds()))


def exposition(archive: Archive) -> bytes:
    """The text a Prometheus scrape reads, made now from the catalog."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(archive))
    return generate_latest(registry)


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by name (tests and `longwatch` tools read the exposition back with prometheus' own parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, list[tuple[dict[str, str], Any]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out
