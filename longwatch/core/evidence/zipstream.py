"""An evidence export as a ZIP, streamed: what `export --zip` writes and what a share link downloads.

Why its own module: the ZIP is built as it is sent (stored entries, ZIP64,
data descriptors), so a 400 GB export never sits in memory or on disk twice;
the writer (:mod:`longwatch.core.evidence.export`) and the web's share
download (``web/shares.py``) both take it from here. A stored export (in the
object store, :mod:`longwatch.core.evidence.stored`) is streamed the same way
from its objects (:func:`stream_zip_objects`).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from longwatch.core.storage.objects import Objects


class _Sink:
    """A write-only, non-seekable target: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def bag_files(bag: Path) -> list[str]:
    return sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())


def stream_zip(bag: Path, prefix: str | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The bag as a ZIP (stored, ZIP64), yielded in pieces: nothing is assembled in memory."""
    prefix = prefix if prefix is not None else bag.name
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[call-overload]
        for rel in bag_files(bag):
            info = zipfile.ZipInfo.from_file(bag / rel, f"{prefix}/{rel}")
            info.compress_type = zipfile.ZIP_STORED
            with open(bag / rel, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while block := src.read(chunk_size):
                    dst.write(block)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def stream_zip_objects(store: Objects, key: str, prefix: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The stored export under ``key`` as the same ZIP, read object by object from the store."""
    sink = _Sink()
    base = key.rstrip("/") + "/"
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[call-overload]
        for full in store.list(key):
            info = store.stat(full)
            when = time.localtime(info.mtime if info else 0)[:6]
            entry = zipfile.ZipInfo(f"{prefix}/{full[len(base):]}", date_time=max(when, (1980, 1, 1, 0, 0, 0)))
            entry.compress_type = zipfile.ZIP_STORED
            entry.external_attr = 0o644 << 16
            with store.open(full) as src, zf.open(entry, "w", force_zip64=True) as dst:
                while block := src.read(chunk_size):
                    dst.write(block)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
