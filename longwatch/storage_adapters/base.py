"""The storage adapter interface, small enough for object stores and filesystems alike.

Object stores have no rename and no directories, so the interface speaks of
keys ("packages/ab/cd/<id>/data/media/x.mp4") and streams, and a package is
written through a :class:`PackageWriter` that publishes it atomically: every
file first, then one publishing step (a rename on a filesystem, a commit
marker written last on an object store, as OCFL writes its inventory last).
Readers never see a package whose publishing step has not happened.
"""

from __future__ import annotations

import builtins
import fcntl
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from longwatch.errors import LongwatchError


def remove_unless_locked(path: Path) -> bool:
    """Remove the folder ``path`` unless a live process holds a ``flock`` on it; True when removed.

    A writer keeps its own working folder locked while it works (the kernel
    drops the lock when the process dies), so a sweep on the same machine
    removes what killed processes left and never a folder still in use.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)

PACKAGE_ROOT = "packages"
_UNSAFE_KEY = re.compile(r"[\x00-\x1f\x7f\\]")


def check_key(key: str) -> str:
    """Refuse keys that could leave the location (absolute, '..', control characters)."""
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or _UNSAFE_KEY.search(key)
        or any(p in ("", ".", "..") for p in parts)
        or len(key.encode("utf-8")) > 1024
    ):
        raise LongwatchError("S003", key=key)
    return key


def package_prefix(package_id: str) -> str:
    """Shard packages by the first four hex digits so no directory grows without bound."""
    compact = package_id.replace("-", "")
    return check_key(f"{PACKAGE_ROOT}/{compact[:2]}/{compact[2:4]}/{package_id}")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime: float


class PackageWriter(ABC):
    """Stages one package's files and publishes them in one step, or not at all."""

    package_id: str

    @abstractmethod
    def open(self, relpath: str) -> BinaryIO:
        """A binary file to write ``relpath`` of the package into; closing it finishes the file."""

    def write_bytes(self, relpath: str, data: bytes) -> None:
        with self.open(relpath) as fh:
            fh.write(data)

    @abstractmethod
    def commit(self) -> None:
        """Publish atomically. After this returns the package is durable and visible."""

    @abstractmethod
    def abort(self) -> None:
        """Forget everything staged. Safe to call twice, and after a failed commit."""

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None:
            self.abort()


class StorageAdapter(ABC):
    """Base class of every storage adapter; subclasses set ``NAME`` (kebab-case)."""

    NAME: ClassVar[str]

    def __init__(self, location: str, options: dict[str, Any], archive_root: Path) -> None:
        self.location = location
        self.options = options
        self.archive_root = archive_root

    # -- objects -------------------------------------------------------------
    @abstractmethod
    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Read bytes ``[start, end)`` of ``key`` (to the end when ``end`` is None)."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size and modification time of ``key``; FileNotFoundError when absent."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, in no promised order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are not an error."""

    @abstractmethod
    def put(self, key: str, stream: BinaryIO) -> int:
        """Store a whole object from ``stream``; returns its size."""

    def delete_transient(self, key: str) -> None:
        """Remove an object kept only for a while and never locked (a staged file, an upload's chunk).

        The same as :meth:`delete` here; a store that can do it more cheaply
        for such objects (no lock lookups, no listing of versions) overrides it.
        """
        self.delete(key)

    # -- packages ------------------------------------------------------------
    @abstractmethod
    def begin_package(self, package_id: str) -> PackageWriter:
        """Start writing a new package; nothing is visible until ``commit``."""

    @abstractmethod
    def package_ids(self) -> Iterator[str]:
        """Every published package on this location."""

    @abstractmethod
    def sweep(self) -> builtins.list[str]:
        """Remove staging left by killed writers; return what was removed."""

    def delete_package(self, package_id: str) -> None:
        """Remove every file of one package from this location.

        Called only through ``records.deletion.delete_package`` (which checks holds
        first) and by tier moves after a verified copy exists elsewhere.
        Adapters whose store can refuse (object lock) raise before removing
        anything; adapters with a faster way (one rmtree) override this.
        """
        prefix = package_prefix(package_id)
        for relpath in list(self.package_files(package_id)):
            self.delete(f"{prefix}/{relpath}")

    def has_package(self, package_id: str) -> bool:
        return any(True for _ in self.package_files(package_id))

    def package_files(self, package_id: str) -> Iterator[str]:
        """Relative paths of a published package's files."""
        prefix = package_prefix(package_id) + "/"
        for key in self.list(prefix):
            yield key[len(prefix) :]

    def open_package_file(self, package_id: str, relpath: str) -> BinaryIO:
        return self.open(check_key(f"{package_prefix(package_id)}/{relpath}"))

    def local_path(self, package_id: str) -> Path | None:
        """A directory holding the package when the location is a filesystem, else None."""
        return None

    def free_bytes(self) -> int | None:
        """Room left, when the location can tell."""
        return None

    # -- object lock (WORM) --------------------------------------------------
    # A store that can refuse deletion itself (S3 object lock) overrides these;
    # the core asks ``has_object_lock`` first and never calls the setters on a
    # store without it, so holds there live in the catalog alone.
    def has_object_lock(self) -> bool:
        """True when the store itself can refuse to delete a package (legal holds, retain-until dates)."""
        return False

    def set_legal_hold(self, package_id: str, on: bool) -> bool:
        """Put (or lift) the store's legal hold on every object of the package; True when something changed."""
        raise LongwatchError("S018", location=self.location, adapter=self.NAME)

    def set_retention(self, package_id: str, until: Any, mode: str | None = None) -> bool:
        """Retain every object until ``until`` (extended, never shortened); True when something changed."""
        raise LongwatchError("S018", location=self.location, adapter=self.NAME)

    def lock_status(self, package_id: str, every_version: bool = False) -> dict[str, str]:
        """key -> how the store locks it, for each locked object of the package (empty: nothing locked)."""
        return {}

    def hold_object(self, key: str) -> bool:
        """Put the store's legal hold on one object that is never to change (the custody ledger's mirror,
        core/custody/mirror.py); False where the store has no object lock, which is not an error."""
        return False


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
