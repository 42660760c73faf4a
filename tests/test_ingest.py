"""Round trip: ingest -> the AIP of DESIGN.md, valid for every standard tool that reads it."""

from __future__ import annotations

import filecmp
import json
import subprocess

import bagit
import bagit_profile
import pytest
from conftest import StoredPackage, ingest_one

from longwatch.core.aip import metadata, package
from longwatch.core.aip.fixity import digest_file

EXPECTED_FILES = {
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
    "data/media/cam-01_20260303T050000Z.mp4",
    "metadata/premis.xml",
    "metadata/dc.xml",
    "metadata/technical.json",
    "signature/tagmanifest-sha256.txt.p7s",
}


def files_of(path):
    return {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}


def test_layout_is_exactly_the_aip(stored_package: StoredPackage):
    assert files_of(stored_package.path) == EXPECTED_FILES
    assert stored_package.path.name == stored_package.package_id
    # sharded under packages/ab/cd/<id>: no directory grows without bound
    compact = stored_package.package_id.replace("-", "")
    assert stored_package.path.parent.name == compact[2:4]
    assert stored_package.path.parent.parent.name == compact[:2]


def test_payload_is_the_original_bytes(stored_package: StoredPackage):
    stored = stored_package.path / "data/media" / stored_package.source.name
    assert filecmp.cmp(stored, stored_package.source, shallow=False)


def test_bag_info_fields(stored_package: StoredPackage):
    info = dict(package.parse_bag_info((stored_package.path / "bag-info.txt").read_bytes()))
    size = stored_package.source.stat().st_size
    assert info["BagIt-Profile-Identifier"] == package.PROFILE_ID
    assert info["External-Identifier"] == stored_package.package_id
    assert info["Source-Organization"] == "Test City CCTV Centre"
    assert info["Payload-Oxum"] == f"{size}.1"
    assert info["Longwatch-Camera"] == "cam-01"
    assert info["Longwatch-Zone"] == "Jung-gu/Market"
    assert info["Longwatch-Start"] == "2026-03-03T05:00:00Z"  # from the container's creation_time
    assert info["Longwatch-Time-Source"] == "container"
    assert info["Longwatch-Location"] == "37.5665,126.978"
    assert info["Bagging-Date"]


def test_valid_for_bagit_python(stored_package: StoredPackage):
    bag = bagit.Bag(str(stored_package.path))
    bag.validate()  # raises BagValidationError with every detail when invalid
    assert set(bag.algorithms) == {"sha256", "sha512"}


def test_valid_for_bagit_profile_validator(stored_package: StoredPackage):
    spec = json.loads(package.PROFILE_PATH.read_text())
    profile = bagit_profile.Profile(package.PROFILE_ID, profile=spec)
    bag = bagit.Bag(str(stored_package.path))
    assert profile.validate(bag), profile.report
    assert profile.validate_serialization(str(stored_package.path))


def test_profile_validator_rejects_a_bag_without_signature(bag):
    (bag / package.SIGNATURE_PATH).unlink()
    spec = json.loads(package.PROFILE_PATH.read_text())
    profile = bagit_profile.Profile(package.PROFILE_ID, profile=spec)
    assert not profile.validate(bagit.Bag(str(bag)))


def test_premis_and_dc_valid_against_official_schemas(stored_package: StoredPackage):
    for name in ("premis", "dc"):
        data = (stored_package.path / f"metadata/{name}.xml").read_bytes()
        assert metadata.schema_errors(metadata.parse_untrusted(data), name) == []


def test_premis_content(stored_package: StoredPackage):
    tree = metadata.parse_untrusted((stored_package.path / package.PREMIS_PATH).read_bytes())
    media = "data/media/" + stored_package.source.name
    digests = digest_file(stored_package.source)
    assert metadata.premis_fixities(tree)[media] == digests.hexdigests
    p = f"{{{metadata.PREMIS_NS}}}"
    ident = f"{p}objectIdentifier/{p}objectIdentifierValue"
    files = [o for o in tree.getroot().iter(p + "object") if o.findtext(ident) == media]
    (obj,) = files
    assert obj.findtext(f"{p}objectCharacteristics/{p}size") == str(stored_package.source.stat().st_size)
    assert obj.findtext(f"{p}originalName") == stored_package.source.name
    assert obj.findtext(f"{p}objectCharacteristics/{p}format/{p}formatDesignation/{p}formatName")
    assert obj.findtext(f"{p}objectCharacteristics/{p}format/{p}formatDesignation/{p}formatVersion") == "h264"
    assert obj.findtext(f"{p}objectCharacteristics/{p}creatingApplication/{p}creatingApplicationName")
    events = {e["type"]: e for e in metadata.premis_events(tree)}
    for kind in ("ingestion", "message digest calculation", "validation", "digital signature generation"):
        assert events[kind]["outcome"] == "success", kind
    agents = {a.findtext(f"{p}agentType") for a in tree.getroot().iter(p + "agent")}
    assert agents == {"software", "person", "organization"}
    versions = [a.findtext(f"{p}agentVersion") for a in tree.getroot().iter(p + "agent")
                if a.findtext(f"{p}agentName") == "longwatch"]
    assert versions and versions[0]


def test_dc_content(stored_package: StoredPackage):
    tree = metadata.parse_untrusted((stored_package.path / package.DC_PATH).read_bytes())
    fields = metadata.dc_fields(tree)
    assert fields["identifier"] == [f"urn:uuid:{stored_package.package_id}"]
    assert fields["title"] == ["Market entrance"]
    assert fields["type"] == ["MovingImage"]
    assert fields["format"] == ["video/mp4"]
    assert fields["source"] == ["camera:cam-01"]
    assert fields["temporal"] == ["start=2026-03-03T05:00:00Z; end=2026-03-03T05:00:02Z; scheme=W3C-DTF"]
    assert fields["spatial"] == ["east=126.978; north=37.5665; name=City Hall"]


def test_technical_json_keeps_probe_output(stored_package: StoredPackage):
    technical = json.loads((stored_package.path / package.TECHNICAL_PATH).read_text())
    entry = technical["files"]["data/media/" + stored_package.source.name]
    assert entry["probe_ok"] is True
    assert entry["ffprobe"]["streams"][0]["codec_name"] == "h264"
    assert entry["exiftool"]["File:MIMEType"] == "video/mp4"
    assert technical["tools"]["ffprobe"] != "not installed"


def test_openssl_cms_verify_accepts_signature(stored_package: StoredPackage):
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", package.SIGNATURE_PATH,
         "-content", package.SIGNED_FILE, "-CAfile", str(stored_package.cert), "-purpose", "any",
         "-out", "/dev/null"],
        cwd=stored_package.path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


@pytest.mark.parametrize("tool,manifest", [("sha256sum", "manifest-sha256.txt"),
                                           ("sha512sum", "manifest-sha512.txt"),
                                           ("sha256sum", "tagmanifest-sha256.txt")])
def test_coreutils_check_manifests(stored_package: StoredPackage, tool, manifest):
    result = subprocess.run([tool, "-c", "--strict", manifest], cwd=stored_package.path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": OK" in result.stdout


def test_catalog_row_matches_package(archive, fresh_clip):
    package_id = ingest_one(archive, fresh_clip, camera="cam-02")
    row = archive.catalog.get(package_id)
    assert row is not None and row.camera == "cam-02" and row.status == "stored" and row.media_ok
    (clip_row,) = row.clips
    assert clip_row.sha256 == digest_file(fresh_clip)["sha256"]
    assert clip_row.codec == "h264" and clip_row.width == 160 and clip_row.height == 120
    assert archive.storage().has_package(package_id)


def test_sidecar_fills_metadata(archive, fresh_clip):
    sidecar = fresh_clip.with_name(fresh_clip.name + ".json")
    sidecar.write_text(json.dumps({"camera": "cam-07", "zone": "Harbour", "title": "Pier 3",
                                   "start": "2026-03-03T14:00:00+09:00", "location": {"lat": 35.1, "lon": 129.04},
                                   "address": "Pier 3, Busan"}))
    package_id = ingest_one(archive, fresh_clip, zone="Override zone")
    row = archive.catalog.get(package_id)
    assert (row.camera, row.zone, row.title) == ("cam-07", "Override zone", "Pier 3")
    assert row.start_utc.isoformat().startswith("2026-03-03T05:00:00")
    assert (row.latitude, row.longitude, row.location_name) == (35.1, 129.04, "Pier 3, Busan")
    path = archive.storage().local_path(package_id)
    assert (path / "data/sidecar" / sidecar.name).read_bytes() == sidecar.read_bytes()
    bagit.Bag(str(path)).validate()


def test_directory_ingests_every_file_except_sidecars(lw, tmp_path, small_clip):
    from conftest import unique_copy

    folder = tmp_path / "export"
    for name in ("a.mp4", "b.mp4", "sub/c.mp4"):
        unique_copy(small_clip, folder / name)
    (folder / "a.mp4.json").write_text('{"camera": "cam-a"}')
    result = lw("ingest", str(folder), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert sorted(p["path"].rsplit("/", 1)[1] for p in out["packages"]) == ["a.mp4", "b.mp4", "c.mp4"]
    assert out["failures"] == []


def test_cli_round_trip_list_show_verify(lw, fresh_clip):
    result = lw("ingest", str(fresh_clip), "--camera", "cam-01", "--start", "2026-03-03T14:00:00+09:00", "--json")
    assert result.exit_code == 0, result.output
    package_id = json.loads(result.stdout)["packages"][0]["package_id"]
    listing = json.loads(lw("list", "--json").stdout)
    assert [p["package_id"] for p in listing["packages"]] == [package_id]
    shown = json.loads(lw("show", package_id[:8], "--json").stdout)
    assert shown["start"].startswith("2026-03-03 05:00:00")
    assert {e["type"] for e in shown["events"]} >= {"ingestion", "message digest calculation", "validation"}
    human = lw("show", package_id[:8])
    assert "2026-03-03T14:00:00+09:00" in human.stdout  # shown in the archive's zone with its offset
    verified = lw("verify", package_id, "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["ok"] is True and report["packages"][0]["trusted"] is True
