"""Staged objects: a file on its way into a package, kept on the primary storage location.

Why: a job names what it works on, and the worker that takes it may run on
another machine than the one that queued it, with nothing in common but the
catalog's database and the object store (issue 20). A path on the submitting
machine means nothing there. So what a queued ingest needs travels through
the store: ``longwatch jobs ingest`` copies the file to ``staged/<sha256>``
and the job names that key; a tus upload's chunks are objects under
``uploads/<upload id>/`` (:mod:`longwatch.core.preservation.uploads`). On a
local location these are plain files under its folder.

The worker streams the object into its own scratch folder (checking the
SHA-256 it was queued with), ingests from there, and deletes the object only
after the package is published and copied, so a worker killed at any point
leaves the object for the retry. The key is the content's digest, so staging
the same file twice (two submitters, a retry) stores it once.

The prefixes are the archive's own: ``packages/`` is the packages', and the
S3 adapter keeps its publishing markers under ``staging/`` (its sweep removes
what it finds there), hence ``staged/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from longwatch.core.aip.fixity import digest_stream
from longwatch.core.archive import Archive
from longwatch.core.preservation.ingest import HEADROOM, check_source, open_source
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter, remove_unless_locked

PREFIX = "staged"
#: This machine's scratch folders for staged bytes being ingested (under the archive folder's ``tmp/``).
SCRATCH_PREFIXES = ("ingest-", "upload-")
#: Free space kept on a worker's scratch disk beyond the file it fetches.
SCRATCH_RESERVE = 64 << 20


@dataclass(frozen=True)
class Staged:
    """A file staged on the primary location: its key, SHA-256 and size."""

    key: str
    sha256: str
    size: int


def staged_key(sha256: str) -> str:
    return f"{PREFIX}/{sha256}"


def primary(archive: Archive) -> StorageAdapter:
    """Staged objects live on the primary location, which every machine of the archive reaches."""
    return archive.storage(archive.settings.primary_location)


class _Hashing:
    """A read-only stream that digests what passes through it (the store reads it once)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def stage_file(archive: Archive, path: Path, follow_symlinks: bool = False) -> Staged:
    """Copy ``path`` to ``staged/<sha256>`` on the primary location (once per content); the staged object.

    The file is checked as ingest checks it, on the submitting machine: a
    link or a FIFO is refused here (I051, I052), not by a worker that never
    saw it. It is read twice (the digest names the key, and object stores
    have no rename), and the second read must give the same digest.
    """
    checked = check_source(path, follow_symlinks)
    if checked.st_size == 0:
        raise LongwatchError("I001", path=path)
    with open_source(path, checked, follow_symlinks) as fh:
        sha256 = str(digest_stream(fh, algorithms=("sha256",))["sha256"])
    adapter = primary(archive)
    key = staged_key(sha256)
    try:
        if adapter.stat(key).size == checked.st_size:
            return Staged(key, sha256, checked.st_size)  # staged before (the same file queued again)
    except FileNotFoundError:
        pass
    free = adapter.free_bytes()
    if free is not None and free < checked.st_size + HEADROOM:
        raise LongwatchError("S001", location=adapter.location,
                             detail=f"{free} bytes free, {checked.st_size} needed")
    with open_source(path, checked, follow_symlinks) as fh:
        reader = _Hashing(fh)
        adapter.put(key, reader)  # type: ignore[arg-type]
    if reader.digest.hexdigest() != sha256:
        adapter.delete_transient(key)
        raise LongwatchError("I007", path=path, detail="the file changed while it was read")
    return Staged(key, sha256, reader.size)


def digest_file(path: Path) -> str:
    """The SHA-256 of a local file, read once."""
    with path.open("rb") as fh:
        return str(digest_stream(fh, algorithms=("sha256",))["sha256"])


def fetch(archive: Archive, keys: Iterable[str], target: Path) -> tuple[str, int]:
    """Stream the objects ``keys``, in order, into the file ``target``; their SHA-256 and total size.

    A missing object is J008. The caller compares the digest with the one
    the job was queued with.
    """
    adapter = primary(archive)
    keys = list(keys)
    needed = 0
    for key in keys:
        try:
            needed += adapter.stat(key).size
        except FileNotFoundError as exc:
            raise LongwatchError("J008", key=key, location=adapter.location) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < needed + SCRATCH_RESERVE:
        raise LongwatchError("S021", needed=needed, free=free, reserve=SCRATCH_RESERVE)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for key in keys:
            try:
                source = adapter.open(key)
            except FileNotFoundError as exc:
                raise LongwatchError("J008", key=key, location=adapter.location) from exc
            with source:
                while data := source.read(8 << 20):
                    digest.update(data)
                    out.write(data)
                    size += len(data)
    return digest.hexdigest(), size


@contextlib.contextmanager
def scratch(archive: Archive, prefix: str) -> Iterator[Path]:
    """A scratch folder of this machine's own, held (``flock``) while in use and removed afterwards.

    Why the lock: a worker killed mid-job cannot remove its folder, and a
    whole copy of a clip would stay; :func:`sweep_scratch` removes the
    folders no live process holds.
    """
    root = archive.root / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=root, prefix=prefix))
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep_scratch(archive: Archive) -> list[str]:
    """Remove the scratch folders that processes killed mid-job left on this machine; their names."""
    root = archive.root / "tmp"
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for leftover in root.iterdir():
        if leftover.name.startswith(SCRATCH_PREFIXES) and leftover.is_dir() and remove_unless_locked(leftover):
            removed.append(leftover.name)
    return removed


def discard(archive: Archive, keys: Iterable[str]) -> None:
    """Delete staged objects whose package is published (absent ones are no error)."""
    adapter = primary(archive)
    for key in keys:
        adapter.delete_transient(key)
