"""Streaming multi-digest: read once, hash with every algorithm and copy, all at once.

SHA-512 on one core is the floor of an ingest on this class of machine, so
the digests and the copy run in their own threads over shared read buffers
(hashlib and file writes release the GIL on large buffers): the copy and
SHA-256 hide under SHA-512. Memory is a fixed pool of buffers whatever the
file size.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

ALGORITHMS = ("sha256", "sha512")
#: 4 MiB chunks: each digest thread takes the GIL back once per chunk, so larger chunks mean fewer waits for it
#: while the command's start-up runs Python code beside the pass (longwatch/startup.py); 8 chunks in flight
#: (32 MiB) keep the slowest digest fed.
CHUNK_SIZE = 4 << 20
POOL_SIZE = 8
#: During long copies, ask the sink to write back every this many bytes, so the final fsync is short.
FLUSH_EVERY = 256 << 20


class Sink(Protocol):
    def write(self, data: Any) -> int: ...


@dataclass
class Digests:
    size: int
    hexdigests: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, algorithm: str) -> str:
        return self.hexdigests[algorithm]


class _Chunk:
    """One pooled buffer; page-aligned (an anonymous map) so sinks may write it with O_DIRECT."""

    __slots__ = ("buf", "length", "pending")

    def __init__(self, size: int) -> None:
        self.buf = mmap.mmap(-1, size)
        self.length = 0
        self.pending = 0


class _Worker(threading.Thread):
    """Consumes every chunk in order; returns the buffer to the pool when the last consumer is done."""

    def __init__(self, work: Callable[[memoryview], None], release: Callable[[_Chunk], None]) -> None:
        super().__init__(daemon=True)
        self.inbox: queue.Queue[_Chunk | None] = queue.Queue()
        self.work = work
        self.release = release
        self.error: BaseException | None = None

    def run(self) -> None:
        while (chunk := self.inbox.get()) is not None:
            try:
                if self.error is None:
                    self.work(memoryview(chunk.buf)[: chunk.length])
            except BaseException as exc:  # re-raised in the reading thread
                self.error = exc
            finally:
                self.release(chunk)


def digest_stream(
    source: BinaryIO,
    sinks: Iterable[Sink] = (),
    algorithms: Iterable[str] = ALGORITHMS,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Digests:
    """Read ``source`` once; feed every digest and every sink concurrently; return the digests."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    pool: queue.Queue[_Chunk] = queue.Queue()
    for _ in range(POOL_SIZE):
        pool.put(_Chunk(chunk_size))
    lock = threading.Lock()

    def release(chunk: _Chunk) -> None:
        with lock:
            chunk.pending -= 1
            done = chunk.pending == 0
        if done:
            pool.put(chunk)

    workers = [_Worker(h.update, release) for h in hashers.values()]
    for sink in sinks:
        workers.append(_Worker(_sink_writer(sink), release))
    for worker in workers:
        worker.start()

    size = 0
    readinto = getattr(source, "readinto", None)
    try:
        while True:
            chunk = pool.get()
            if readinto is not None:
                n = readinto(chunk.buf) or 0
            else:
                data = source.read(chunk_size)
                n = len(data)
                chunk.buf[:n] = data
            if n == 0:
                pool.put(chunk)
                break
            chunk.length = n
            chunk.pending = len(workers)
            size += n
            for worker in workers:
                worker.inbox.put(chunk)
            if not workers:  # nothing to feed (a size-only pass): the buffer is free again at once
                pool.put(chunk)
            if progress is not None:
                progress(n)
            if any(w.error is not None for w in workers):
                break
    finally:
        for worker in workers:
            worker.inbox.put(None)
        for worker in workers:
            worker.join()
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return Digests(size=size, hexdigests={name: h.hexdigest() for name, h in hashers.items()})


def _sink_writer(sink: Sink) -> Callable[[memoryview], None]:
    flush = getattr(sink, "flush_to_disk", None)
    written = 0

    def write(view: memoryview) -> None:
        nonlocal written
        sink.write(view)
        written += len(view)
        if flush is not None and written >= FLUSH_EVERY:
            flush()
            written = 0

    return write


def digest_file(path: str | os.PathLike[str], algorithms: Iterable[str] = ALGORITHMS) -> Digests:
    """Digest a file on disk with every algorithm in one read."""
    with open(path, "rb", buffering=0) as fh:
        _advise_sequential(fh)
        return digest_stream(fh, algorithms=algorithms)


def _advise_sequential(fh: Any) -> None:
    try:
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
    except (AttributeError, OSError):
        pass


def digest_bytes(data: bytes, algorithms: Iterable[str] = ALGORITHMS) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in algorithms}


def open_for_reading(path: str | os.PathLike[str] | int, direct: bool = False) -> BinaryIO:
    """Open a source file unbuffered (``readinto`` straight into the pool) with sequential read-ahead.

    ``direct`` reads from the device with O_DIRECT where the filesystem allows
    it: a fixity check then tests the bytes on the medium rather than a copy
    in the page cache, and the reader costs almost no CPU (the digests need
    it). The pool's buffers are page-aligned and their size a multiple of the
    block size, as O_DIRECT requires. ``path`` may be a descriptor already
    opened (ingest opens its sources itself, to refuse links and FIFOs).
    """
    fh = open(path, "rb", buffering=0)
    if not (direct and _set_direct(fh)):
        _advise_sequential(fh)
    return fh


def _set_direct(fh: Any) -> bool:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    import fcntl

    try:
        fcntl.fcntl(fh.fileno(), fcntl.F_SETFL, fcntl.fcntl(fh.fileno(), fcntl.F_GETFL) | flag)
    except OSError:
        return False
    return True
