"""The local filesystem adapter: staging directory plus one atomic rename.

Files are written under ``<root>/.staging/`` on the same filesystem, flushed
to disk (file data, then the directories), and the package directory is
renamed into place: after a crash the package is either entirely there or
not there, and ``sweep`` removes the staging that a killed ingest left.
"""

from __future__ import annotations

import builtins
import errno
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.storage_adapters.base import (
    PACKAGE_ROOT,
    ObjectInfo,
    PackageWriter,
    StorageAdapter,
    check_key,
    fsync_dir,
    package_prefix,
    remove_unless_locked,
)

STAGING = ".staging"


#: O_DIRECT needs buffer address, length and file offset aligned to the device's block size.
_DIRECT_ALIGN = 4096


class _DurableFile:
    """A raw file that writes every byte (raw writes may be short) and fsyncs on close.

    Durable files are written with O_DIRECT where the filesystem allows it:
    the bytes go from the caller's buffer straight to the device, so the copy
    costs almost no CPU (the digests need it) and the fsync before publishing
    only has metadata left to flush, instead of the whole file's dirty pages.
    The first unaligned write (the tail, or a small tag file) switches the
    file back to ordinary buffered writes; the fsync on close covers both.
    """

    def __init__(self, path: Path, durable: bool, location: str) -> None:
        self._fh = open(path, "xb", buffering=0)
        self._durable = durable
        self._location = location
        self._direct = durable and _set_direct(self._fh.fileno(), True)
        self.name = str(path)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        try:
            while view:
                if self._direct and len(view) % _DIRECT_ALIGN:
                    self._buffered()
                try:
                    written = self._fh.write(view)
                except OSError as exc:
                    if not (self._direct and exc.errno == errno.EINVAL):
                        raise
                    self._buffered()  # an unaligned buffer: nothing was written
                    continue
                view = view[written:]
        except OSError as exc:
            raise _storage_error(exc, self._location) from exc
        return total

    def _buffered(self) -> None:
        _set_direct(self._fh.fileno(), False)
        self._direct = False

    def flush_to_disk(self) -> None:
        """Write back what is written so far; used during long copies so close is quick."""
        if self._durable and not self._direct:
            os.fdatasync(self._fh.fileno())

    def close(self) -> None:
        if self._fh.closed:
            return
        try:
            if self._durable:
                os.fsync(self._fh.fileno())
        except OSError as exc:
            raise _storage_error(exc, self._location) from exc
        finally:
            self._fh.close()

    def __enter__(self) -> _DurableFile:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off; False where the platform or filesystem (tmpfs) refuses it."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | direct) if on else (flags & ~direct))
    except OSError:
        return False
    return on


def _storage_error(exc: OSError, location: str) -> LongwatchError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return LongwatchError("S001", location=location, detail=exc.strerror)
    return LongwatchError("S002", location=location, detail=str(exc))


class LocalPackageWriter(PackageWriter):
    def __init__(self, adapter: LocalStorageAdapter, package_id: str) -> None:
        self.adapter = adapter
        self.package_id = package_id
        self.final = adapter.root / package_prefix(package_id)
        self.dir = adapter.root / STAGING / f"{package_id}.{uuid.uuid4().hex[:8]}"
        try:
            self.dir.mkdir(parents=True)
        except OSError as exc:
            raise _storage_error(exc, adapter.location) from exc
        self._dirs: set[Path] = {self.dir}
        # Held while this writer lives: sweep() skips staging whose owner still runs.
        self._lock_fd: int | None = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def open(self, relpath: str) -> BinaryIO:
        path = self.dir / check_key(relpath)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error(exc, self.adapter.location) from exc
        self._dirs.add(path.parent)
        return _DurableFile(path, self.adapter.durable, self.adapter.location)  # type: ignore[return-value]

    def commit(self) -> None:
        try:
            if self.adapter.durable:
                for directory in sorted(self._dirs, key=lambda p: len(p.parts), reverse=True):
                    fsync_dir(directory)
            self.final.parent.mkdir(parents=True, exist_ok=True)
            if self.final.exists():
                raise LongwatchError("S002", location=self.adapter.location, detail=f"{self.final.name} exists")
            os.rename(self.dir, self.final)
            if self.adapter.durable:
                fsync_dir(self.final.parent)
        except OSError as exc:
            raise _storage_error(exc, self.adapter.location) from exc
        self._unlock()

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self._unlock()


class LocalStorageAdapter(StorageAdapter):
    """Packages as plain directories: readable with ls, sha256sum and any BagIt tool."""

    NAME = "local"

    def __init__(self, location: str, options: dict[str, Any], archive_root: Path) -> None:
        super().__init__(location, options, archive_root)
        root = Path(str(options.get("path", "storage"))).expanduser()
        self.root = root if root.is_absolute() else archive_root / root
        # fsync before publishing; turning it off is for throwaway test archives only.
        self.durable = bool(options.get("durable", True))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, an unmounted share, no permission: a coded error
            raise LongwatchError("S002", location=location, detail=f"{self.root}: {exc.strerror or exc}") from exc

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        fh = open(self._path(key), "rb")
        if start:
            fh.seek(start)
        if end is None:
            return fh
        from io import BytesIO

        data = fh.read(max(0, end - start))
        fh.close()
        return BytesIO(data)

    def stat(self, key: str) -> ObjectInfo:
        st = self._path(key).stat()
        return ObjectInfo(key=key, size=st.st_size, mtime=st.st_mtime)

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / check_key(prefix.rstrip("/"))
        if not base.is_dir():
            return
        for dirpath, _dirs, files in os.walk(base):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in files:
                yield f"{rel}/{name}"

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def put(self, key: str, stream: BinaryIO) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        size = 0
        try:
            with _DurableFile(tmp, self.durable, self.location) as out:
                while chunk := stream.read(1 << 20):
                    size += out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    def begin_package(self, package_id: str) -> PackageWriter:
        return LocalPackageWriter(self, package_id)

    def package_ids(self) -> Iterator[str]:
        base = self.root / PACKAGE_ROOT
        if not base.is_dir():
            return
        for shard1 in sorted(base.iterdir()):
            for shard2 in sorted(shard1.iterdir()) if shard1.is_dir() else ():
                for pkg in sorted(shard2.iterdir()) if shard2.is_dir() else ():
                    if pkg.is_dir():
                        yield pkg.name

    def has_package(self, package_id: str) -> bool:
        return (self.root / package_prefix(package_id)).is_dir()

    def delete_package(self, package_id: str) -> None:
        path = self.root / package_prefix(package_id)
        if path.exists():
            shutil.rmtree(path)
            if self.durable:
                fsync_dir(path.parent)

    def sweep(self) -> builtins.list[str]:
        staging = self.root / STAGING
        removed = []
        if staging.is_dir():
            for leftover in staging.iterdir():
                if remove_unless_locked(leftover):  # a live writer keeps its folder locked
                    removed.append(leftover.name)
        return removed

    def local_path(self, package_id: str) -> Path | None:
        return self.root / package_prefix(package_id)

    def free_bytes(self) -> int | None:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize


@hookimpl
def register_storage_adapters() -> list[type[StorageAdapter]]:
    return [LocalStorageAdapter]
