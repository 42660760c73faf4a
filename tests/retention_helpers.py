"""Helpers shared by the retention, hold and disposition tests (issue 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import ingest_one, unique_copy

from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Package
from longwatch.core.records import actors

T0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
ALICE = actors.Actor("alice", "operator")
BOB = actors.Actor("bob", "records-manager")
ADMIN = actors.Actor("root-admin", "administrator")


def add_package(archive: Archive, small_clip: Path, tmp_path: Path, name: str, camera: str = "cam-01",
                start: datetime = T0, zone: str = "Jung-gu/Market") -> str:
    """A real ingested 1-second clip recorded at ``start``."""
    return ingest_one(archive, unique_copy(small_clip, tmp_path / "src" / f"{name}.mp4"), camera=camera,
                      start=start, zone=zone)


def status(archive: Archive, package_id: str) -> str:
    with archive.catalog.session() as s:
        package = s.get(Package, package_id)
        assert package is not None
        return package.status


def on_storage(archive: Archive, package_id: str) -> bool:
    return any(archive.storage(name).has_package(package_id) for name in archive.settings.locations)


def later(days: int) -> datetime:
    return T0 + timedelta(days=days)
