"""The viewing caches (poster frames, access copies): where they live, what they weigh, and their purge.

The web makes them from stored clips on first view. They are kept as objects
on the primary storage location under ``cache/<kind>/<package id>/<name>``,
through the same adapter calls as the custody ledger's mirror (``put``,
``open``, ``stat``, ``list``, ``delete``), and not in a folder of the
archive: a web process on another machine, which shares only the database and
the store, serves a view made elsewhere instead of running ffmpeg again. On a
local primary location they are plain files under the storage folder.

They are pictures of the footage, so a package that is lawfully destroyed
must take them with it: :func:`purge` runs inside the one deletion path, and
:func:`usage` counts them where storage use is reported, so that they never
grow unseen. Keying by package (not by the clip's digest) makes the purge one
listing of the package's own prefix, with no question of which other package
shares the bytes.

Archives from before this release kept them in ``<archive>/cache/<kind>/``
by SHA-256; :func:`purge` still removes a disposed package's files there
(nothing new is written there), so an upgrade leaves no picture behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import select

from longwatch.core.catalog.models import Clip, Package
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter, check_key

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: the key prefix on the primary location (packages live under ``packages/``, never touched here)
CACHE_PREFIX = "cache"
#: the kinds of view the web makes; each is a folder of its own under the prefix
KINDS = ("posters", "access")
#: where archives before this release kept them (a folder of the archive), purged, never written
LEGACY_DIR = "cache"


@dataclass
class CacheUsage:
    files: int = 0
    bytes: int = 0
    #: keys a purge could not delete (the store refused or failed): left for the next run of the deletion
    left: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}


@dataclass(frozen=True)
class CachedView:
    """One cached view on the primary location: its key and size, and its file when the location is local."""

    key: str
    size: int
    path: Path | None = None


def view_key(kind: str, package_id: str, name: str) -> str:
    return check_key(f"{CACHE_PREFIX}/{kind}/{package_id}/{name}")


def store(archive: Archive) -> StorageAdapter:
    """The primary location: the one every machine of the archive reads first."""
    return archive.storage(archive.settings.primary_location)


def _view(adapter: StorageAdapter, key: str, size: int) -> CachedView:
    root = getattr(adapter, "root", None)  # the local adapter's folder: ffmpeg and send_file read the file
    return CachedView(key, size, Path(root) / key if isinstance(root, Path) else None)


def find(archive: Archive, kind: str, package_id: str, name: str) -> CachedView | None:
    """The view when some machine made it already (one stat), else None."""
    adapter = store(archive)
    key = view_key(kind, package_id, name)
    try:
        info = adapter.stat(key)
    except FileNotFoundError:
        return None
    if info.size <= 0:
        return None
    return _view(adapter, key, info.size)


def keep(archive: Archive, kind: str, package_id: str, name: str, made: Path) -> CachedView:
    """Store a view made in this machine's temporary folder; the adapter publishes it whole or not at all."""
    adapter = store(archive)
    key = view_key(kind, package_id, name)
    with made.open("rb") as fh:
        size = adapter.put(key, fh)
    return _view(adapter, key, size)


def open_view(archive: Archive, view: CachedView, start: int = 0, end: int | None = None) -> BinaryIO:
    return store(archive).open(view.key, start, end)


def _keys(adapter: StorageAdapter, prefix: str) -> Iterator[str]:
    try:
        yield from adapter.list(prefix)
    except FileNotFoundError:
        return


def usage(archive: Archive) -> CacheUsage:
    """Objects and bytes of every viewing cache (one listing and a stat each; caches are small and few)."""
    adapter = store(archive)
    found = CacheUsage()
    for key in list(_keys(adapter, CACHE_PREFIX)):
        try:
            found.bytes += adapter.stat(key).size
        except FileNotFoundError:  # purged meanwhile
            continue
        found.files += 1
    for path in _legacy_files(archive):
        try:
            found.bytes += path.stat().st_size
        except FileNotFoundError:
            continue
        found.files += 1
    return found


def purge(archive: Archive, package_id: str) -> CacheUsage:
    """Remove every cached view of a disposed package; what went, and what the store would not delete.

    A store error on one view never stops the deletion it is part of (the
    custody event must still be written): the key is reported in ``left`` and
    running the deletion again retries it.
    """
    adapter = store(archive)
    gone = CacheUsage()
    for kind in KINDS:
        for key in list(_keys(adapter, f"{CACHE_PREFIX}/{kind}/{package_id}")):
            try:
                size = adapter.stat(key).size
                adapter.delete(key)
            except FileNotFoundError:
                continue
            except LongwatchError:  # a store that refuses (a bucket's default retention) or fails: say so
                gone.left.append(key)
                continue
            gone.files += 1
            gone.bytes += size
    legacy = _purge_legacy(archive, package_id)
    gone.files += legacy.files
    gone.bytes += legacy.bytes
    return gone


def _legacy_files(archive: Archive) -> Iterator[Path]:
    root = archive.root / LEGACY_DIR
    if not root.is_dir():
        return
    for kind in root.iterdir():
        if kind.is_dir():
            yield from (p for p in kind.iterdir() if p.is_file())


def _purge_legacy(archive: Archive, package_id: str) -> CacheUsage:
    """The old folder's views of the package's clips (by SHA-256) that no package still stored shares."""
    gone = CacheUsage()
    if not (archive.root / LEGACY_DIR).is_dir():
        return gone
    with archive.catalog.session() as s:
        digests = set(s.scalars(select(Clip.sha256).where(Clip.package_id == package_id)))
        if not digests:
            return gone
        shared = set(s.scalars(select(Clip.sha256).join(Package, Package.id == Clip.package_id).where(
            Clip.sha256.in_(digests), Package.id != package_id, Package.status != "disposed")))
    doomed = digests - shared
    for path in list(_legacy_files(archive)):
        if path.name.split(".", 1)[0] in doomed:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            gone.files += 1
            gone.bytes += size
    return gone
