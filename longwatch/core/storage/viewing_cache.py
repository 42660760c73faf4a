"""The viewing caches (poster frames, access copies): where they live, what they weigh, and their purge.

The web makes them from stored clips on first view and keeps them under
``<archive>/cache/<kind>/<clip sha256><suffix>``. They are pictures of the
footage, so a package that is lawfully destroyed must take them with it:
:func:`purge` runs inside the one deletion path, and :func:`usage` counts
them where storage use is reported, so that they never grow unseen. A cache
file is shared by every clip with the same bytes; it goes only when no
package still stored holds those bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from longwatch.core.catalog.models import Clip, Package

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

CACHE_DIR = "cache"


@dataclass
class CacheUsage:
    files: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}


def cache_root(archive: Archive) -> Path:
    return archive.root / CACHE_DIR


def _entries(archive: Archive) -> Iterable[Path]:
    root = cache_root(archive)
    if not root.is_dir():
        return []
    return (p for kind in root.iterdir() if kind.is_dir() for p in kind.iterdir() if p.is_file())


def usage(archive: Archive) -> CacheUsage:
    """Files and bytes of every viewing cache (one directory listing; caches are small and few)."""
    found = CacheUsage()
    for path in _entries(archive):
        try:
            found.bytes += path.stat().st_size
        except FileNotFoundError:  # purged meanwhile
            continue
        found.files += 1
    return found


def purge(archive: Archive, package_id: str) -> CacheUsage:
    """Remove the cached views of a disposed package's clips that no stored package shares; what went."""
    with archive.catalog.session() as s:
        digests = set(s.scalars(select(Clip.sha256).where(Clip.package_id == package_id)))
        if not digests:
            return CacheUsage()
        shared = set(s.scalars(select(Clip.sha256).join(Package, Package.id == Clip.package_id).where(
            Clip.sha256.in_(digests), Package.id != package_id, Package.status != "disposed")))
    doomed = digests - shared
    gone = CacheUsage()
    for path in list(_entries(archive)):
        if path.name.split(".", 1)[0] in doomed:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            gone.files += 1
            gone.bytes += size
    return gone
