"""The S3-compatible adapter (AWS S3, MinIO, Ceph RGW): the only module that imports boto3.

Object stores have no rename, so a package is published as OCFL publishes a
version: every file first (large ones as multipart uploads whose parts are
cut from the ingest's single digesting pass), then a commit marker last.
The marker (``commits/<id>.json``) lists the package's files and sizes;
readers look only at markers, so a package whose marker is absent does not
exist for them, whatever objects it left behind. A staging marker
(``staging/<id>``) is written before the first byte, so ``sweep`` finds
leftovers by listing one small prefix instead of walking the store.

Package files do not go through boto3's managed transfer (``upload_fileobj``):
it pulls bytes from a file object, while ingest pushes them from its digesting
pass, and a pipe between the two would cost a thread and a copy for the same
requests (same part size and threads as ``upload_file``, a checksum per part).
Measured against ``upload_file`` of the same file, the storage path keeps
pace (docs/performance.md). ``put`` (a whole object from a stream) does use it.

Object lock (WORM) is used where the bucket has it: a legal hold for
packages under a hold, a retain-until date for fixed retention. Deleting a
version the store still locks is refused by longwatch with S013 before the
store is asked (and the store would refuse too).

Credentials come from boto3's standard chain (environment, shared profile,
instance role); they are never read, logged or stored by longwatch.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import json
import logging
import queue
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from longwatch import clock
from longwatch.errors import LongwatchError
from longwatch.extras import require
from longwatch.hookspecs import hookimpl
from longwatch.storage_adapters.base import (
    ObjectInfo,
    PackageWriter,
    StorageAdapter,
    check_key,
    package_prefix,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ModuleNotFoundError:  # no [s3] extra: the adapter still registers, and opening an S3 location says T002

    class BotoCoreError(Exception):  # type: ignore[no-redef]
        """Stands in for botocore's, which nothing raises without botocore."""

    class ClientError(Exception):  # type: ignore[no-redef]
        """Stands in for botocore's, which nothing raises without botocore."""


log = logging.getLogger(__name__)

COMMITS = "commits"
STAGING = "staging"
MIN_PART = 5 << 20  # S3's smallest part except the last
DEFAULT_PART = 8 << 20  # as boto3's upload_file (TransferConfig.multipart_chunksize)
DEFAULT_CONCURRENCY = 10  # as boto3's upload_file (TransferConfig.max_concurrency)
#: Every object is sent with this checksum; the store checks it on receipt (AWS and current MinIO
#: and Ceph RGW answer BadDigest to a mismatch) and reports the checksum of what it stored, which we
#: compare (docs/storage.md, "What the upload checks").
CHECKSUM = "SHA256"
PART_ATTEMPTS = 4
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
#: (endpoint, bucket) -> whether the bucket has object lock (see ``has_object_lock``)
_OBJECT_LOCK: dict[tuple[str, str], bool] = {}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _same_checksum(found: str, expected: str) -> bool:
    """Equal, allowing a store that leaves out the ``-N`` part count of a composite checksum."""
    return found == expected or (expected.rpartition("-")[0] == found and "-" not in found)


def composite_sha256(part_digests: list[bytes]) -> str:
    """S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256s, then ``-N``."""
    return f"{_b64(hashlib.sha256(b''.join(part_digests)).digest())}-{len(part_digests)}"


class _Reader(io.RawIOBase):
    """A seekable raw reader over one object: range GETs opened lazily at the current position."""

    def __init__(self, adapter: S3StorageAdapter, key: str, start: int, end: int | None) -> None:
        super().__init__()
        self._adapter = adapter
        self._key = key
        self._start = start
        self._end = end
        self._pos = start
        self._body: Any = None
        self._size: int | None = None
        self.name = key
        self._open_body()  # FileNotFoundError now, not on first read

    def _open_body(self) -> None:
        limit = self._end
        if limit is not None and self._pos >= limit:
            self._body = None
            return
        rng = f"bytes={self._pos}-" + (str(limit - 1) if limit is not None else "")
        try:
            response = self._adapter.client.get_object(Bucket=self._adapter.bucket, Key=self._key, Range=rng)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(self._key) from exc
            if _code(exc) == "InvalidRange":  # an empty object, or a start at its end
                self._body = None
                self._size = self._pos
                return
            raise self._adapter.error(exc) from exc
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        if total.isdigit():
            self._size = int(total)
        self._body = response["Body"]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._body is None:
            return 0
        view = memoryview(buffer).cast("B")
        want = len(view)
        if self._end is not None:
            want = min(want, self._end - self._pos)
        if want <= 0:
            return 0
        data = self._body.read(want)
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def _length(self) -> int:
        if self._size is None:
            self._size = self._adapter.stat(self._key).size
        return self._size if self._end is None else min(self._size, self._end)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = self._start + offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        else:
            target = self._length() + offset
        if target != self._pos:
            self._close_body()
            self._pos = target
            self._open_body()
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()


class _PartBody(io.RawIOBase):
    """A seekable view over one part buffer, so botocore can retry and checksum it without a copy."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = bytes(self._view[self._pos : end])
        self._pos = end
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, min(len(self._view), base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def __len__(self) -> int:
        return len(self._view)


class _UploadFile:
    """Writes one object: small ones in one PUT, large ones as a multipart upload.

    ``write`` is called by the ingest's digesting pass (``fixity.digest_stream``)
    with each buffer it has read. Bytes are copied once, into one of a fixed
    set of part buffers; a full buffer goes to the writer's thread pool while
    the next one fills, and at most ``concurrency`` parts are in flight, so
    memory stays flat whatever the file size. A part that fails is retried;
    if it still fails, the whole upload is aborted so no orphan parts remain.
    Small files are sent in the background too, and ``commit`` waits for all.

    Each part (and each small file) carries its SHA-256, computed by the
    sending thread over the very buffer it sends, so the store can refuse a
    part that arrives damaged; the checksum the store reports for the whole
    object must equal the one computed here, or the upload fails (S016).
    This proves the transfer, not the source: the manifest digests come from
    the same read buffers in the ingest's single pass (see docs/storage.md).
    """

    def __init__(self, writer: S3PackageWriter, key: str) -> None:
        self.writer = writer
        self.adapter = writer.adapter
        self.key = key
        self.name = key
        self._part_size = self.adapter.part_size
        self._free: queue.Queue[bytearray] = queue.Queue()
        self._buffers = 0
        self._buf: bytearray | None = None
        self._fill = 0
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._digests: dict[int, bytes] = {}  # part number -> SHA-256 of the part as sent
        self.size = 0
        self.closed = False

    def _buffer(self) -> bytearray:
        if self._buffers <= self.adapter.concurrency:  # in flight, plus the one filling
            try:
                return self._free.get_nowait()
            except queue.Empty:
                self._buffers += 1
                return bytearray(self._part_size)
        return self._free.get()  # wait for a part to finish

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        self.size += total
        while view:
            if self._buf is None:
                # calloc'd: a small tag file touches only the pages it fills
                self._buf, self._fill = self._buffer(), 0
            take = min(self._part_size - self._fill, len(view))
            self._buf[self._fill : self._fill + take] = view[:take]
            self._fill += take
            view = view[take:]
            if self._fill == self._part_size:
                self._send_part(self._buf, self._part_size)
                self._buf, self._fill = None, 0
        return total

    def _check_failed(self) -> None:
        for future in self._parts:
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]

    def _send_part(self, buf: bytearray, length: int) -> None:
        adapter = self.adapter
        if self._upload_id is None:
            try:
                response = adapter.client.create_multipart_upload(
                    Bucket=adapter.bucket, Key=self.key, ChecksumAlgorithm=CHECKSUM, **adapter.put_args())
            except (ClientError, BotoCoreError) as exc:
                raise adapter.error(exc) from exc
            self._upload_id = str(response["UploadId"])
            self.writer.uploads.append((self.key, self._upload_id))
        self._check_failed()
        number = len(self._parts) + 1
        future = self.writer.pool.submit(self._upload_part, number, buf, length)
        self._parts.append(future)

    def _upload_part(self, number: int, buf: bytearray, length: int) -> dict[str, Any]:
        adapter = self.adapter
        try:
            digest = hashlib.sha256(memoryview(buf)[:length]).digest()  # releases the GIL: parts hash in parallel
            self._digests[number] = digest
            checksum = _b64(digest)
            for attempt in range(1, PART_ATTEMPTS + 1):
                try:
                    if adapter.fail_part is not None:
                        adapter.fail_part(self.key, number, attempt)
                    response = adapter.client.upload_part(
                        Bucket=adapter.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number,
                        Body=_PartBody(memoryview(buf)[:length]), ChecksumSHA256=checksum)
                    return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}
                except (ClientError, BotoCoreError, OSError) as exc:
                    if attempt == PART_ATTEMPTS:
                        raise LongwatchError("S012", location=adapter.location, key=self.key, part=number,
                                             attempts=attempt, detail=str(exc)) from exc
                    log.warning("part %d of %s failed (attempt %d): %s; retrying", number, self.key, attempt, exc)
                    time.sleep(0.2 * attempt)
            raise AssertionError("unreachable")
        finally:
            self._free.put(buf)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        adapter = self.adapter
        if self._upload_id is None:
            data = bytes(memoryview(self._buf)[: self._fill]) if self._buf is not None else b""
            self._buf = None
            self.writer.pending.append(self.writer.pool.submit(self._put_small, data))
            self.writer.sizes[self.key] = self.size
            return
        if self._fill:
            assert self._buf is not None
            self._send_part(self._buf, self._fill)
            self._buf, self._fill = None, 0
        try:
            parts = [f.result() for f in self._parts]
            response = adapter.client.complete_multipart_upload(
                Bucket=adapter.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": parts})
        except (ClientError, BotoCoreError) as exc:
            raise adapter.error(exc) from exc
        self.writer.uploads.remove((self.key, self._upload_id))
        self.writer.sizes[self.key] = self.size
        expected = composite_sha256([self._digests[n] for n in sorted(self._digests)])
        self.writer.checksums[self.key] = adapter.check_stored(self.key, expected, response, ask=True)

    def _put_small(self, data: bytes) -> None:
        self.writer.checksums[self.key] = self.adapter.put_bytes(self.key, data)

    def discard(self) -> None:
        """Stop without publishing: wait for parts in flight, then let the writer abort the upload."""
        self.closed = True
        self._buf = None
        for future in self._parts:
            future.cancel()
        for future in self._parts:
            if not future.cancelled():
                future.exception()

    def __enter__(self) -> _UploadFile:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class S3PackageWriter(PackageWriter):
    """Files under the package's prefix, then the commit marker: visible all at once or not at all."""

    def __init__(self, adapter: S3StorageAdapter, package_id: str) -> None:
        self.adapter = adapter
        self.package_id = package_id
        self.prefix = package_prefix(package_id)
        if adapter.has_package(package_id):
            raise LongwatchError("S002", location=adapter.location, detail=f"package {package_id} exists")
        self.files: dict[str, str] = {}  # relpath -> key
        self.sizes: dict[str, int] = {}
        self.checksums: dict[str, str] = {}  # key -> SHA-256 checksum the store reported (S3 notation)
        self.uploads: list[tuple[str, str]] = []
        self._open: list[_UploadFile] = []
        #: parts of large files and whole small files are sent by this pool while the next ones fill
        self.pool = ThreadPoolExecutor(adapter.concurrency, thread_name_prefix="lw-s3")
        self.pending: list[Future[None]] = []
        self._done = False
        self._staging_version = adapter.put_object(adapter.key(f"{STAGING}/{package_id}"), json.dumps(
            {"package_id": package_id, "started": clock.now().isoformat()}).encode()).get("VersionId")

    def open(self, relpath: str) -> BinaryIO:
        key = self.adapter.key(check_key(f"{self.prefix}/{check_key(relpath)}"))
        self.files[relpath] = key
        upload = _UploadFile(self, key)
        self._open.append(upload)
        return upload  # type: ignore[return-value]

    def commit(self) -> None:
        for upload in self._open:
            upload.close()
        for future in self.pending:
            future.result()
        marker = {
            "package_id": self.package_id,
            "committed": clock.now().isoformat(),
            "files": {rel: self.sizes[key] for rel, key in sorted(self.files.items())},
            # what the store reported holding, checked against what was sent (docs/storage.md)
            "checksums_sha256": {rel: self.checksums[key] for rel, key in sorted(self.files.items())},
        }
        self.adapter.put_bytes(self.adapter.commit_key(self.package_id),
                               json.dumps(marker, indent=1).encode("utf-8"))
        self._done = True
        self.pool.shutdown(wait=True)
        self.adapter.forget_staging(self.package_id, self._staging_version)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        for upload in self._open:
            upload.discard()
        for future in self.pending:
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        adapter = self.adapter
        for key, upload_id in self.uploads:
            try:
                adapter.client.abort_multipart_upload(Bucket=adapter.bucket, Key=key, UploadId=upload_id)
            except ClientError:
                pass  # sweep aborts what is left
        for key in self.files.values():
            adapter.delete_versions(key)
        adapter.delete_versions(adapter.key(f"{STAGING}/{self.package_id}"))


class S3StorageAdapter(StorageAdapter):
    """Packages on an S3-compatible bucket, under an optional key prefix.

    Options (``[storage.locations.NAME]`` in longwatch.toml): ``bucket``
    (required), ``prefix``, ``endpoint_url`` (MinIO, Ceph RGW), ``region``,
    ``profile`` (a shared-credentials profile), ``part_size`` (bytes),
    ``concurrency``, ``sse`` (``AES256`` or ``aws:kms``), ``sse_kms_key_id``,
    ``object_lock_mode`` (``GOVERNANCE`` or ``COMPLIANCE``),
    ``sweep_grace_seconds``, ``cap_bytes`` and ``cold`` (read by the policy).
    """

    NAME = "s3"

    def __init__(self, location: str, options: dict[str, Any], archive_root: Path) -> None:
        super().__init__(location, options, archive_root)
        bucket = options.get("bucket")
        if not bucket:
            raise LongwatchError("S010", location=location, detail="the option `bucket` is required")
        self.bucket = str(bucket)
        self.prefix = str(options.get("prefix", "")).strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.part_size = max(MIN_PART, int(options.get("part_size", DEFAULT_PART)))
        self.concurrency = max(1, int(options.get("concurrency", DEFAULT_CONCURRENCY)))
        self.lock_mode = str(options.get("object_lock_mode", "GOVERNANCE")).upper()
        if self.lock_mode not in LOCK_MODES:
            raise LongwatchError("S010", location=location,
                                 detail=f"object_lock_mode must be GOVERNANCE or COMPLIANCE, not {self.lock_mode}")
        self.grace = float(options.get("sweep_grace_seconds", 86400))
        #: Test seam: called before every part upload attempt; may raise to simulate a failing network.
        self.fail_part: Any = None
        # here, not at import: every command loads the plugin, few open an S3 location; T002 without [s3]
        boto3 = require("boto3", "s3")
        from botocore.config import Config

        session = boto3.session.Session(profile_name=options.get("profile") or None,
                                        region_name=options.get("region") or None)
        config = Config(retries={"max_attempts": 5, "mode": "standard"},
                        max_pool_connections=max(10, self.concurrency * 2),
                        s3={"addressing_style": str(options.get("addressing_style", "path"))})
        try:
            self.client = session.client("s3", endpoint_url=options.get("endpoint_url") or None, config=config)
        except (BotoCoreError, ValueError) as exc:
            raise LongwatchError("S010", location=location, detail=str(exc)) from exc

    # -- helpers -----------------------------------------------------------
    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def unprefixed(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def commit_key(self, package_id: str) -> str:
        return self.key(f"{COMMITS}/{package_id}.json")

    def put_args(self) -> dict[str, Any]:
        """Server-side encryption settings, passed through as the operator wrote them."""
        args: dict[str, Any] = {}
        if self.options.get("sse"):
            args["ServerSideEncryption"] = str(self.options["sse"])
        if self.options.get("sse_kms_key_id"):
            args["SSEKMSKeyId"] = str(self.options["sse_kms_key_id"])
        return args

    def error(self, exc: Exception) -> LongwatchError:
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in ("NoSuchBucket",):
                return LongwatchError("S011", location=self.location, bucket=self.bucket)
            if code in ("EntityTooLarge", "QuotaExceeded", "XMinioStorageFull"):
                return LongwatchError("S001", location=self.location, detail=code)
        return LongwatchError("S002", location=self.location, detail=str(exc))

    def put_object(self, key: str, data: bytes) -> dict[str, Any]:
        """One PUT with its SHA-256 checksum, which the store checks against the bytes it received."""
        try:
            response: dict[str, Any] = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ChecksumSHA256=_b64(hashlib.sha256(data).digest()),
                **self.put_args())
        except (ClientError, BotoCoreError) as exc:
            raise self.error(exc) from exc
        return response

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` at ``key``; the SHA-256 checksum the store reported for it, checked."""
        return self.check_stored(key, _b64(hashlib.sha256(data).digest()), self.put_object(key, data))

    def check_stored(self, key: str, expected: str, response: dict[str, Any], ask: bool = False) -> str:
        """The store's checksum of what it stored must be the one sent; else S016, and the object goes.

        The checksum comes from the write's response (AWS returns it), or,
        with ``ask`` (multipart objects: one per large file), from a HEAD,
        since some servers (moto) leave it out of the response. A store that
        reports none is accepted: a store that supports checksums has still
        checked the SHA-256 sent with each request (BadDigest otherwise).
        """
        found = response.get("ChecksumSHA256")
        if found is None and ask:
            try:
                found = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED").get(
                    "ChecksumSHA256")
            except (ClientError, BotoCoreError) as exc:
                raise self.error(exc) from exc
        if found is None or _same_checksum(found, expected):
            return expected
        try:
            self.delete_versions(key)  # never leave an object that is not what was sent
        except LongwatchError as exc:
            log.warning("could not remove %s after a checksum mismatch: %s", key, exc)
        raise LongwatchError("S016", location=self.location, key=self.unprefixed(key), expected=expected,
                             found=found)

    def _list_raw(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                yield from page.get("Contents", [])
        except ClientError as exc:
            raise self.error(exc) from exc

    def _versions(self, key: str) -> builtins.list[dict[str, Any]]:
        try:
            response = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        except ClientError as exc:
            raise self.error(exc) from exc
        every = response.get("Versions", []) + response.get("DeleteMarkers", [])
        found: builtins.list[dict[str, Any]] = [v for v in every if v["Key"] == key]
        return found

    # -- objects -----------------------------------------------------------
    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        return io.BufferedReader(_Reader(self, self.key(check_key(key)), start, end), 1 << 20)

    def stat(self, key: str) -> ObjectInfo:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(check_key(key)))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(key) from exc
            raise self.error(exc) from exc
        return ObjectInfo(key=key, size=int(head["ContentLength"]), mtime=head["LastModified"].timestamp())

    def list(self, prefix: str) -> Iterator[str]:
        full = self.key(check_key(prefix.rstrip("/"))) + "/"
        for item in self._list_raw(full):
            yield self.unprefixed(item["Key"])

    def delete(self, key: str) -> None:
        """Remove every version of ``key``; S013 when the store still locks one of them."""
        self.delete_versions(self.key(check_key(key)))

    def delete_transient(self, key: str) -> None:
        """Every version of an object written for a while and never locked, without listing versions.

        Why: staged files and upload chunks come and go by the thousand, and a
        listing of versions costs as much as the bucket on some servers (moto
        copies every version of every object for each). HEAD names the newest
        version, which is deleted by id, until none is left (a staged file
        stored twice has two); on a bucket without versioning one DELETE does.
        """
        full = self.key(check_key(key))
        for _ in range(64):
            try:
                version = self.client.head_object(Bucket=self.bucket, Key=full).get("VersionId")
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return
                raise self.error(exc) from exc
            args = {"VersionId": version} if version else {}
            try:
                self.client.delete_object(Bucket=self.bucket, Key=full, **args)
            except ClientError as exc:
                if _code(exc) == "AccessDenied":
                    raise LongwatchError("S013", location=self.location, key=key, lock=_code(exc)) from exc
                if _code(exc) not in _MISSING:
                    raise self.error(exc) from exc
            if not version:
                return

    def forget_staging(self, package_id: str, version_id: str | None = None) -> None:
        """Drop a staging marker: one DELETE of the version written (never locked, so no lock lookups).

        Without a version id (an unversioned bucket) a plain DELETE removes it;
        on a versioned bucket the version id makes the delete permanent instead
        of leaving a delete marker. No listing: on some servers listing
        versions costs as much as the whole upload.
        """
        key = self.key(f"{STAGING}/{package_id}")
        args = {"VersionId": version_id} if version_id and version_id != "null" else {}
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, **args)
        except ClientError:
            pass  # a later sweep retries

    def delete_versions(self, full_key: str) -> None:
        versions = self._versions(full_key)
        for version in versions:
            lock = self._lock_of(full_key, version.get("VersionId"))
            if lock:
                raise LongwatchError("S013", location=self.location, key=self.unprefixed(full_key), lock=lock)
        for version in versions:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=full_key, VersionId=version["VersionId"])
            except ClientError as exc:
                if _code(exc) == "AccessDenied":
                    raise LongwatchError("S013", location=self.location, key=self.unprefixed(full_key),
                                         lock=_code(exc)) from exc
                if _code(exc) not in _MISSING:
                    raise self.error(exc) from exc

    def put(self, key: str, stream: BinaryIO) -> int:
        full = self.key(check_key(key))
        counter = _Counting(stream)
        try:
            self.client.upload_fileobj(counter, self.bucket, full,
                                       ExtraArgs={"ChecksumAlgorithm": CHECKSUM, **self.put_args()},
                                       Config=_transfer_config(multipart_chunksize=self.part_size,
                                                             max_concurrency=self.concurrency))
        except (ClientError, BotoCoreError) as exc:
            raise self.error(exc) from exc
        return counter.count

    # -- packages ----------------------------------------------------------
    def begin_package(self, package_id: str) -> PackageWriter:
        return S3PackageWriter(self, package_id)

    def package_ids(self) -> Iterator[str]:
        start = self.key(COMMITS) + "/"
        for item in self._list_raw(start):
            name = item["Key"][len(start) :]
            if name.endswith(".json") and "/" not in name:
                yield name[: -len(".json")]

    def has_package(self, package_id: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.commit_key(package_id))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise self.error(exc) from exc
        except BotoCoreError as exc:  # unreachable: whether the copy is there is unknown, which is not "no"
            raise self.error(exc) from exc
        return True

    def package_files(self, package_id: str) -> Iterator[str]:
        """The files the commit marker lists: stray uncommitted objects never show."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.commit_key(package_id))["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return
            raise self.error(exc) from exc
        marker = json.loads(body)
        yield from marker.get("files", {})

    def package_keys(self, package_id: str) -> builtins.list[str]:
        """Every key of a committed package, its commit marker included (object lock covers them all)."""
        prefix = package_prefix(package_id)
        return [self.key(f"{prefix}/{rel}") for rel in self.package_files(package_id)] + [
            self.commit_key(package_id)]

    def delete_package(self, package_id: str) -> None:
        """Dispose of a package: refused with S013, before anything is removed, while the store locks it."""
        keys = self.package_keys(package_id)
        for key in keys:
            for version in self._versions(key):
                lock = self._lock_of(key, version.get("VersionId"))
                if lock:
                    raise LongwatchError("S013", location=self.location, key=self.unprefixed(key), lock=lock)
        # The marker first: a half-deleted package is then invisible, never half there.
        for key in [keys[-1], *keys[:-1]]:
            self.delete_versions(key)
        for leftover in builtins.list(self._list_raw(self.key(package_prefix(package_id)) + "/")):
            self.delete_versions(leftover["Key"])

    def sweep(self, older_than: float | None = None) -> builtins.list[str]:
        """Remove packages whose writer never committed (after a grace period), and stale multipart uploads."""
        grace = self.grace if older_than is None else older_than
        cutoff = time.time() - grace
        removed: builtins.list[str] = []
        start = self.key(STAGING) + "/"
        live: set[str] = set()
        for item in builtins.list(self._list_raw(start)):
            package_id = item["Key"][len(start) :]
            if item["LastModified"].timestamp() > cutoff:
                live.add(package_id)
                continue  # a live writer, or one that died only recently
            if not self.has_package(package_id):
                for leftover in builtins.list(self._list_raw(self.key(package_prefix(package_id)) + "/")):
                    self.delete_versions(leftover["Key"])
            self.delete_versions(item["Key"])
            removed.append(package_id)
        try:
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key("") if self.prefix else ""):
                for upload in page.get("Uploads", []):
                    parts = self.unprefixed(upload["Key"]).split("/")
                    owner = parts[3] if len(parts) > 3 and parts[0] == "packages" else ""
                    if upload["Initiated"].timestamp() <= cutoff and owner not in live:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                           UploadId=upload["UploadId"])
                        removed.append(f"upload:{upload['Key']}")
        except ClientError as exc:
            raise self.error(exc) from exc
        return removed

    # -- object lock -------------------------------------------------------
    def has_object_lock(self) -> bool:
        """Asked of the store once per bucket and process: the core asks it for every copy it may lock
        (each audited copy, each new copy), and a bucket's lock cannot be turned off once on.

        Only the store's own "no configuration" answer means no lock. Any
        other refusal (AccessDenied, a 503 that outlived boto's retries)
        leaves it unknown, and unknown must not read as "no": disposal would
        then skip the lock check and holds would never reach the store. So
        it is S019 (not cached: asked again next time), or S011 for a
        missing bucket.
        """
        cache_key = (str(self.options.get("endpoint_url") or ""), self.bucket)
        if cache_key not in _OBJECT_LOCK:
            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
            except ClientError as exc:
                if _code(exc) == "NoSuchBucket":
                    raise self.error(exc) from exc
                if _code(exc) != "ObjectLockConfigurationNotFoundError":
                    raise LongwatchError("S019", location=self.location, bucket=self.bucket,
                                         detail=_code(exc) or str(exc)) from exc
                _OBJECT_LOCK[cache_key] = False
            except BotoCoreError as exc:  # unreachable: whether it locks is unknown, which is not "no"
                raise self.error(exc) from exc
            else:
                enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
                _OBJECT_LOCK[cache_key] = enabled
        return _OBJECT_LOCK[cache_key]

    def _object_versions(self, key: str) -> builtins.list[str | None]:
        """Version ids of every stored version of ``key`` (delete markers left out); [None] when unversioned."""
        try:
            response = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        except ClientError as exc:
            raise self.error(exc) from exc
        found = [v.get("VersionId") for v in response.get("Versions", []) if v["Key"] == key]
        return [v if v and v != "null" else None for v in found] or [None]

    @staticmethod
    def _version_args(version_id: str | None) -> dict[str, Any]:
        return {"VersionId": version_id} if version_id and version_id != "null" else {}

    def _lock_state(self, key: str, version_id: str | None) -> tuple[bool, datetime | None, str]:
        """(legal hold on, retain-until date, mode) of one version, from one HEAD.

        HEAD rather than GetObjectLegalHold and GetObjectRetention: one request
        instead of two, and every S3-compatible store (moto's server included)
        answers it with the object-lock headers.
        """
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, **self._version_args(version_id))
        except ClientError as exc:
            if _code(exc) in _MISSING or _code(exc) == "405":  # gone, or a delete marker
                return False, None, ""
            raise self.error(exc) from exc
        until = head.get("ObjectLockRetainUntilDate")
        return (head.get("ObjectLockLegalHoldStatus") == "ON", until.astimezone(UTC) if until else None,
                str(head.get("ObjectLockMode", "")))

    def _lock_of(self, key: str, version_id: str | None) -> str:
        """'legal hold' or 'COMPLIANCE retention until ...' when the store locks this version, else ''."""
        held, until, mode = self._lock_state(key, version_id)
        if held:
            return "legal hold"
        if until is not None and until > clock.wall_clock():
            return f"{mode} retention until {until.isoformat().replace('+00:00', 'Z')}"
        return ""

    def set_legal_hold(self, package_id: str, on: bool) -> bool:
        """Put (or lift) an S3 legal hold on every version of every object of the package.

        Every version, not only the current one: a repair writes a new version
        beside the quarantined one, and an old version left held would keep the
        package from disposal after its last hold is released. S014 when the
        bucket has no lock. True when the store's state changed.
        """
        self._require_lock(package_id)
        wanted = "ON" if on else "OFF"
        changed = False
        for key in self.package_keys(package_id):
            for version in self._object_versions(key):
                if self._lock_state(key, version)[0] == on:
                    continue
                args: dict[str, Any] = {"Bucket": self.bucket, "Key": key, **self._version_args(version)}
                try:
                    self.client.put_object_legal_hold(**args, LegalHold={"Status": wanted})
                except ClientError as exc:
                    raise self.error(exc) from exc
                changed = True
        return changed

    def hold_object(self, key: str) -> bool:
        """An indefinite legal hold on the current version of ``key``, where the bucket has object lock."""
        if not self.has_object_lock():
            return False
        try:
            self.client.put_object_legal_hold(Bucket=self.bucket, Key=self.key(check_key(key)),
                                              LegalHold={"Status": "ON"})
        except (ClientError, BotoCoreError) as exc:
            raise self.error(exc) from exc
        return True

    def set_retention(self, package_id: str, until: datetime, mode: str | None = None) -> bool:
        """Retain every version of every object until ``until`` (GOVERNANCE or COMPLIANCE), never shorter.

        A date already later is left as it is: COMPLIANCE cannot be shortened
        by anyone, and GOVERNANCE only with a bypass permission longwatch does
        not use. A COMPLIANCE date stays COMPLIANCE when extended. True when
        the store's state changed.
        """
        self._require_lock(package_id)
        if until.tzinfo is None:
            raise LongwatchError("I003", value=str(until))
        until = until.astimezone(UTC).replace(microsecond=0)
        wanted_mode = (mode or self.lock_mode).upper()
        changed = False
        for key in self.package_keys(package_id):
            for version in self._object_versions(key):
                _held, current, current_mode = self._lock_state(key, version)
                if current is not None and current >= until:
                    continue
                live = current is not None and current > clock.wall_clock()
                keep = "COMPLIANCE" if live and current_mode == "COMPLIANCE" else wanted_mode
                args: dict[str, Any] = {"Bucket": self.bucket, "Key": key, **self._version_args(version)}
                try:
                    self.client.put_object_retention(**args, Retention={"Mode": keep, "RetainUntilDate": until})
                except ClientError as exc:
                    raise self.error(exc) from exc
                changed = True
        return changed

    def lock_status(self, package_id: str, every_version: bool = False) -> dict[str, str]:
        """key -> lock description for each locked object of the package (its current version, or every one).

        A bucket without object lock answers {} without a HEAD per object; one
        that cannot say whether it has lock raises S019 (never {}).
        """
        found: dict[str, str] = {}
        if not self.has_object_lock():
            return found
        for key in self.package_keys(package_id):
            for version in self._object_versions(key) if every_version else [None]:
                lock = self._lock_of(key, version)
                if lock:
                    found[self.unprefixed(key)] = lock
                    break
        return found

    def _require_lock(self, package_id: str) -> None:
        if not self.has_package(package_id):
            raise LongwatchError("V017", package_id=package_id, location=self.location)
        if not self.has_object_lock():
            raise LongwatchError("S014", location=self.location, bucket=self.bucket)


class _Counting:
    """Counts the bytes boto3 reads from a stream (upload_fileobj returns nothing)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


@hookimpl
def register_storage_adapters() -> list[type[StorageAdapter]]:
    return [S3StorageAdapter]


def _transfer_config(**options: Any) -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(**options)
