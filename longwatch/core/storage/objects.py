"""The archive's own objects beside its packages: exports, request deliveries, destruction certificates.

Why in the store and not under the archive folder: a web server and its
workers may run on separate machines that share only the catalog's database
and the object store, so anything one machine makes and another later serves
(an export a worker wrote, a certificate a disposition signed) must live on
the primary storage location. On the single-machine default (a local primary
location) these objects are plain files under the storage folder.

Keys are the adapters' plain keys under a prefix of their own
(``exports/<export id>/...``, ``certificates/<disposition id>.json``); the
packages' prefix is refused, so nothing here is ever mistaken for a package.
Evidence that must never change (a certificate) is written once and put under
the store's legal hold where the store has object lock.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import PACKAGE_ROOT, ObjectInfo, StorageAdapter, check_key

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: Prefixes that are not this module's to write: packages, the custody ledger's mirror, staging.
_FORBIDDEN = (PACKAGE_ROOT, "custody-ledger", ".staging", "staging", "commits")


def checked(key: str) -> str:
    """``key`` when it is a safe key outside the packages and the ledger's mirror; E037 otherwise."""
    check_key(key)
    if key.split("/", 1)[0] in _FORBIDDEN:
        raise LongwatchError("E037", key=key)
    return key


def is_key(value: str) -> bool:
    """True for an object key (relative), False for a local path that older releases recorded (absolute)."""
    return bool(value) and not Path(value).is_absolute()


class Objects:
    """Put, read, list and delete the archive's own objects on one location (the primary by default)."""

    def __init__(self, archive: Archive, location: str | None = None) -> None:
        self.location = location or archive.settings.primary_location
        self.adapter: StorageAdapter = archive.storage(self.location)

    def put_bytes(self, key: str, data: bytes) -> int:
        return self.adapter.put(checked(key), io.BytesIO(data))

    def put_file(self, key: str, path: Path) -> int:
        with open(path, "rb") as fh:
            return self.adapter.put(checked(key), fh)

    def put_once(self, key: str, data: bytes) -> bool:
        """Write evidence that never changes: once, then under the store's legal hold where it has one.

        True when written; False when the same bytes are there already (a retry);
        E038 when other bytes are there (nothing is overwritten)."""
        info = self.stat(key)
        if info is None:
            self.put_bytes(key, data)
            self.adapter.hold_object(key)
            return True
        if self.read_bytes(key) != data:
            raise LongwatchError("E038", key=key, location=self.location)
        return False

    def upload_tree(self, folder: Path, prefix: str, last: str = "") -> list[str]:
        """Every file under ``folder`` as ``prefix/<relative path>``; the file named ``last`` goes last, so a
        reader that waits for it never sees a half-uploaded tree."""
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        files.sort(key=lambda p: p.relative_to(folder).as_posix() == last)
        keys = []
        for path in files:
            key = f"{prefix.rstrip('/')}/{path.relative_to(folder).as_posix()}"
            self.put_file(key, path)
            keys.append(key)
        return keys

    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Bytes ``[start, end)`` of ``key``; FileNotFoundError when absent."""
        return self.adapter.open(checked(key), start, end)

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and time of ``key``; None when absent."""
        try:
            return self.adapter.stat(checked(key))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (a folder-like prefix, without the trailing slash), sorted."""
        return sorted(self.adapter.list(checked(prefix.rstrip("/"))))

    def delete(self, key: str) -> None:
        self.adapter.delete(checked(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix``; returns how many."""
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def download(self, key: str, target: Path) -> Path:
        """A local copy of ``key`` at ``target`` (written whole, then renamed)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        with self.open(key) as src, open(tmp, "wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
        tmp.replace(target)
        return target

    def chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        with self.open(key) as fh:
            while block := fh.read(chunk_size):
                yield block


def objects(archive: Archive, location: str | None = None) -> Objects:
    return Objects(archive, location)
