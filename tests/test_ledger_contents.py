"""The record says which bytes: every package event in the custody ledger carries the package's tag-manifest
SHA-256, and its ingest carries the payload digests, so the chain of custody binds content, not only an id."""

from __future__ import annotations

from conftest import ingest_one

from longwatch.core import custody
from longwatch.core.aip import package
from longwatch.core.catalog.models import Package


def test_every_package_event_names_the_bytes(archive, small_clip):
    pid = ingest_one(archive, small_clip, camera="cam-01")
    custody.record_fixity(archive, [(pid, True, "checked by hand", [])])
    with archive.catalog.session() as s:
        row = s.get(Package, pid)
        assert row is not None
        digest = row.tagmanifest_sha256
    with archive.storage().open_package_file(pid, "manifest-sha256.txt") as fh:
        manifest = package.parse_manifest(fh.read())
    entries = [e for e in custody.Ledger.for_archive(archive).entries() if pid in e["packages"]]
    assert len(entries) >= 3
    assert all(e["extra"]["tagmanifests"] == {pid: digest} for e in entries)
    first = entries[0]["extra"]["payload_sha256"]
    assert first == manifest
    assert all("payload_sha256" not in e["extra"] for e in entries[1:])
