"""The streaming multi-digest engine and the durable copy: correctness only (figures are in benchmarks/)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from longwatch.core.aip import fixity
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.local import _DurableFile

SMALL_CHUNK = 4096


def _data(size: int) -> bytes:
    return os.urandom(size)


def _expected(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


class _ReadOnly:
    """A source without readinto (the engine then copies from read())."""

    def __init__(self, data: bytes) -> None:
        self._fh = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self._fh.read(n)


@pytest.mark.parametrize("size", [0, 1, SMALL_CHUNK - 1, SMALL_CHUNK, SMALL_CHUNK + 1,
                                  fixity.POOL_SIZE * SMALL_CHUNK, fixity.POOL_SIZE * SMALL_CHUNK + 7])
def test_digests_and_copy_match_hashlib_around_chunk_boundaries(size: int) -> None:
    data = _data(size)
    for source in (io.BytesIO(data), _ReadOnly(data)):
        copy = io.BytesIO()
        digests = fixity.digest_stream(source, sinks=[copy], chunk_size=SMALL_CHUNK)  # type: ignore[arg-type]
        assert digests.size == size
        assert digests.hexdigests == _expected(data)
        assert copy.getvalue() == data


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_default_chunk_size_boundaries(tmp_path: Path, delta: int) -> None:
    data = _data(fixity.CHUNK_SIZE * 2 + delta)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    digests = fixity.digest_file(path)
    assert (digests.size, digests.hexdigests) == (len(data), _expected(data))


def test_no_digest_and_no_sink_still_counts_bytes() -> None:
    data = _data(SMALL_CHUNK * fixity.POOL_SIZE * 2 + 3)
    digests = fixity.digest_stream(io.BytesIO(data), algorithms=[], chunk_size=SMALL_CHUNK)
    assert (digests.size, digests.hexdigests) == (len(data), {})


class _FailingSink:
    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0

    def write(self, data: memoryview) -> int:
        self.seen += len(data)
        if self.seen > self.after:
            raise LongwatchError("S001", location="test", detail="disk full")
        return len(data)


def test_sink_error_propagates_without_hanging() -> None:
    data = _data(SMALL_CHUNK * fixity.POOL_SIZE * 4)
    with pytest.raises(LongwatchError) as caught:
        fixity.digest_stream(io.BytesIO(data), sinks=[io.BytesIO(), _FailingSink(SMALL_CHUNK * 3)],
                             chunk_size=SMALL_CHUNK)
    assert caught.value.code == "S001"


@pytest.mark.parametrize("size", [1, 4096, 4096 * 3 + 5, fixity.CHUNK_SIZE + 4096 + 1])
def test_durable_file_direct_writes_then_buffered_tail(tmp_path: Path, size: int) -> None:
    """Aligned chunks go through O_DIRECT where the filesystem allows it; the rest falls back."""
    data = _data(size)
    out = tmp_path / "copy.bin"
    with _DurableFile(out, durable=True, location="test") as fh:
        digests = fixity.digest_stream(io.BytesIO(data), sinks=[fh])
        fh.write(memoryview(b"x" + data[:4096])[1:])  # aligned length, unaligned address
    assert digests.hexdigests == _expected(data)
    assert out.read_bytes() == data + data[:4096]


@pytest.mark.parametrize("size", [1, 4095, 4096, fixity.CHUNK_SIZE, fixity.CHUNK_SIZE * 2 + 4097])
def test_direct_reads_give_the_same_digests(tmp_path: Path, size: int) -> None:
    """verify reads the medium with O_DIRECT where it can; sizes not a multiple of the block size too."""
    data = _data(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with fixity.open_for_reading(path, direct=True) as fh:
        digests = fixity.digest_stream(fh)
    assert (digests.size, digests.hexdigests) == (size, _expected(data))
