"""The S3 adapter against a real S3 HTTP server on loopback: uploads, object lock, sweep, end to end."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from s3 import make_adapter

from longwatch.core.archive import Archive
from longwatch.core.storage import audit as storage_audit
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.s3 import S3StorageAdapter, composite_sha256


def _keys(server, bucket):
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def _uploads(server, bucket):
    return server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_multipart_upload_round_trips_with_ranges(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    data = os.urandom(adapter.part_size * 2 + 12345)
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        with writer.open("data/media/big.bin") as out:
            for i in range(0, len(data), 1 << 20):  # as the digesting pass writes it
                out.write(memoryview(data)[i : i + (1 << 20)])
        writer.commit()
    prefix = f"packages/{package_id[:2]}/{package_id[2:4]}/{package_id}"
    assert adapter.stat(f"{prefix}/data/media/big.bin").size == len(data)
    with adapter.open_package_file(package_id, "data/media/big.bin") as fh:
        assert fh.read() == data
    key = next(k for k in adapter.list("packages/") if k.endswith("big.bin"))
    start = adapter.part_size - 10
    with adapter.open(key, start, start + 100) as fh:
        assert fh.read() == data[start : start + 100]
    with adapter.open(key) as fh:
        fh.seek(0, 2)
        assert fh.tell() == len(data)
    assert _uploads(s3_server, adapter.bucket) == []


def test_failed_part_is_retried(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    failures = []

    def flaky(key, number, attempt):
        if number == 2 and attempt == 1:
            failures.append(number)
            raise OSError("connection reset by peer")

    adapter.fail_part = flaky
    data = os.urandom(adapter.part_size * 3)
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/media/x.bin", data)
        writer.commit()
    assert failures == [2]
    with adapter.open_package_file(package_id, "data/media/x.bin") as fh:
        assert fh.read() == data


def test_upload_interrupted_mid_part_leaves_nothing_visible(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)

    def broken(key, number, attempt):
        if number == 2:
            raise OSError("network is unreachable")

    adapter.fail_part = broken
    package_id = str(uuid.uuid4())
    with pytest.raises(LongwatchError) as info, adapter.begin_package(package_id) as writer:
        writer.write_bytes("bagit.txt", b"BagIt-Version: 1.0\n")
        with writer.open("data/media/x.bin") as out:
            out.write(os.urandom(adapter.part_size * 3 + 7))
    assert info.value.code == "S012"
    assert not adapter.has_package(package_id)
    assert list(adapter.package_ids()) == []
    assert _keys(s3_server, adapter.bucket) == []
    assert _uploads(s3_server, adapter.bucket) == []


def _marker(server, adapter, package_id):
    body = server.client().get_object(Bucket=adapter.bucket, Key=adapter.commit_key(package_id))["Body"].read()
    return json.loads(body)


def test_every_object_is_sent_with_its_sha256_and_the_store_checksum_is_recorded(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    big = os.urandom(adapter.part_size * 2 + 99)
    small = b"BagIt-Version: 1.0\n"
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/media/big.bin", big)
        writer.write_bytes("bagit.txt", small)
        writer.commit()
    checksums = _marker(s3_server, adapter, package_id)["checksums_sha256"]
    parts = [hashlib.sha256(big[i : i + adapter.part_size]).digest() for i in range(0, len(big), adapter.part_size)]
    assert checksums["data/media/big.bin"] == composite_sha256(parts) and checksums["data/media/big.bin"].endswith("-3")
    assert checksums["bagit.txt"] == base64.b64encode(hashlib.sha256(small).digest()).decode()
    # the store holds the same checksums, computed from what it stored (multipart) or as sent (one PUT)
    client = s3_server.client()
    key = adapter.key(f"packages/{package_id[:2]}/{package_id[2:4]}/{package_id}/data/media/big.bin")
    head = client.head_object(Bucket=adapter.bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"].partition("-")[0] == checksums["data/media/big.bin"].partition("-")[0]  # moto: no -N


def test_a_part_damaged_on_the_way_is_refused_and_nothing_is_published(s3_server, tmp_path):
    """The store's checksum of what it stored differs from what we hashed: S016, no object, no package.

    (AWS and MinIO refuse such a part at once with BadDigest, which ends in
    S012 after the retries; moto stores it and the composite checksum that it
    computes at completion from the stored parts shows the damage.)
    """
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)

    def flip_a_bit(request, **_):
        if "partNumber=2" in request.url:
            body = bytearray(request.body.read())
            body[12345] ^= 0x01
            request.body = bytes(body)

    adapter.client.meta.events.register("before-send.s3.UploadPart", flip_a_bit)
    package_id = str(uuid.uuid4())
    with pytest.raises(LongwatchError) as info, adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/media/x.bin", os.urandom(adapter.part_size * 3))
        writer.commit()
    assert info.value.code == "S016" and "data/media/x.bin" in info.value.render()
    assert not adapter.has_package(package_id)
    assert _keys(s3_server, adapter.bucket) == []
    assert _uploads(s3_server, adapter.bucket) == []


def test_commit_on_a_versioned_bucket_leaves_no_staging_version_or_delete_marker(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    client = s3_server.client()
    client.put_bucket_versioning(Bucket=adapter.bucket, VersioningConfiguration={"Status": "Enabled"})
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/x", b"1")
        writer.commit()
    left = client.list_object_versions(Bucket=adapter.bucket, Prefix="staging/")
    assert left.get("Versions", []) == [] and left.get("DeleteMarkers", []) == []
    assert adapter.has_package(package_id)


def test_killed_writer_is_invisible_and_swept_after_grace(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    package_id = str(uuid.uuid4())
    writer = adapter.begin_package(package_id)
    writer.write_bytes("bagit.txt", b"x")
    out = writer.open("data/media/x.bin")
    out.write(os.urandom(adapter.part_size + 1))  # one part uploaded, then the process "dies"
    assert not adapter.has_package(package_id) and list(adapter.package_files(package_id)) == []
    assert len(_uploads(s3_server, adapter.bucket)) == 1
    assert adapter.sweep() == []  # within the grace period a writer may still be alive
    removed = adapter.sweep(older_than=0)
    assert package_id in removed
    assert _keys(s3_server, adapter.bucket) == []
    assert _uploads(s3_server, adapter.bucket) == []


def test_legal_hold_is_enforced_by_the_store(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server, object_lock=True)
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/media/x.bin", b"evidence")
        writer.commit()
    adapter.set_legal_hold(package_id, True)
    assert set(adapter.lock_status(package_id).values()) == {"legal hold"}
    with pytest.raises(LongwatchError) as info:
        adapter.delete_package(package_id)
    assert info.value.code == "S013" and "legal hold" in info.value.render()
    assert adapter.has_package(package_id)
    # the store itself refuses, whatever longwatch does
    client = s3_server.client()
    key = next(k for k in _keys(s3_server, adapter.bucket) if k.endswith("x.bin"))
    version = client.head_object(Bucket=adapter.bucket, Key=key)["VersionId"]
    with pytest.raises(Exception, match="AccessDenied"):
        client.delete_object(Bucket=adapter.bucket, Key=key, VersionId=version)
    adapter.set_legal_hold(package_id, False)  # release first, then dispose
    adapter.delete_package(package_id)
    assert not adapter.has_package(package_id)
    assert _keys(s3_server, adapter.bucket) == []


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
def test_retention_date_refuses_disposal(s3_server, tmp_path, mode):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server, object_lock=True, object_lock_mode=mode)
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/media/x.bin", b"kept for a fixed time")
        writer.commit()
    adapter.set_retention(package_id, datetime.now(UTC) + timedelta(days=30))
    assert all(mode in lock for lock in adapter.lock_status(package_id).values())
    with pytest.raises(LongwatchError) as info:
        adapter.delete_package(package_id)
    assert info.value.code == "S013"
    assert adapter.has_package(package_id)


def test_object_lock_on_a_bucket_without_it_is_refused(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server)
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/x", b"1")
        writer.commit()
    with pytest.raises(LongwatchError) as info:
        adapter.set_legal_hold(package_id, True)
    assert info.value.code == "S014"


@pytest.mark.parametrize(("options", "code"), [
    ({}, "S010"),
    ({"bucket": "lw-x", "object_lock_mode": "FOREVER"}, "S010"),
])
def test_bad_configuration_is_a_coded_error(tmp_path, options, code):
    with pytest.raises(LongwatchError) as info:
        S3StorageAdapter("offsite", options, tmp_path)
    assert info.value.code == code


def test_missing_bucket_is_a_coded_error(s3_server, tmp_path):
    adapter = S3StorageAdapter("offsite", s3_server.options(bucket="lw-no-such-bucket"), tmp_path)
    with pytest.raises(LongwatchError) as info:
        adapter.begin_package(str(uuid.uuid4())).write_bytes("x", b"1")
    assert info.value.code == "S011"


def test_server_side_encryption_is_passed_through(s3_server, tmp_path):
    adapter = make_adapter("s3", "primary", tmp_path, s3_server, sse="AES256")
    package_id = str(uuid.uuid4())
    with adapter.begin_package(package_id) as writer:
        writer.write_bytes("data/x", b"secret")
        writer.commit()
    key = next(k for k in _keys(s3_server, adapter.bucket) if k.endswith("data/x"))
    assert s3_server.client().head_object(Bucket=adapter.bucket, Key=key)["ServerSideEncryption"] == "AES256"


def test_archive_on_s3_ingests_a_clip_and_verifies(archive, s3_server, clip, lw):
    path = archive.root / "longwatch.toml"
    text = path.read_text().replace('adapter = "local"\npath = "storage"',
                                    f'adapter = "s3"\nbucket = "{s3_server.create_bucket()}"\n'
                                    f'endpoint_url = "{s3_server.endpoint_url}"')
    path.write_text(text)
    reopened = Archive.open(archive.root)
    assert reopened.storage().NAME == "s3"
    result = lw("ingest", str(clip), "--camera", "cam-01", "--json")
    assert result.exit_code == 0, result.output
    package_id = json.loads(result.stdout)["packages"][0]["package_id"]
    assert package_id in set(reopened.storage().package_ids())
    verified = lw("verify", "--all", "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["ok"] and report["packages"][0]["files_checked"] >= 1
    shown = json.loads(lw("show", package_id, "--json").stdout)
    assert shown["copies"][0]["location"] == "primary" and shown["path"] is None
    assert storage_audit.audit(reopened).checked[0].ok
    reopened.close()
