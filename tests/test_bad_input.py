"""Bad input gets a clear, coded error, and nothing is lost or half-made."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import bagit
import pytest
from conftest import codes_of, create_archive, error_codes, ingest_one, unique_copy, verify_json

from longwatch.core.aip import metadata, package, signing
from longwatch.core.aip.fixity import digest_bytes
from longwatch.errors import LongwatchError


def nothing_stored(archive) -> None:
    storage = archive.storage()
    assert list(storage.package_ids()) == []
    staging = storage.root / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert archive.catalog.all_ids() == []


def premis_of(archive, package_id: str):
    path = archive.storage().local_path(package_id)
    return metadata.parse_untrusted((path / package.PREMIS_PATH).read_bytes())


def original_names(tree) -> list[str]:
    p = f"{{{metadata.PREMIS_NS}}}"
    return [el.text for el in tree.getroot().iter(p + "originalName")]


# -- files -------------------------------------------------------------------------
def test_zero_byte_file_refused(lw, archive, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    result = lw("ingest", str(empty))
    assert result.exit_code == 4
    assert error_codes(result.stderr) == ["I001"]
    assert "0 bytes" in result.stderr
    nothing_stored(archive)


def test_nonexistent_path(lw, archive, tmp_path):
    result = lw("ingest", str(tmp_path / "no-such.mp4"))
    assert result.exit_code == 4
    assert error_codes(result.stderr) == ["I002"]
    nothing_stored(archive)


def test_directory_with_bad_and_good_files_reports_each(lw, archive, tmp_path, small_clip):
    folder = tmp_path / "mixed"
    unique_copy(small_clip, folder / "good.mp4")
    (folder / "empty.mp4").touch()
    result = lw("ingest", str(folder), "--json")
    assert result.exit_code == 4
    out = json.loads(result.stdout)
    assert len(out["packages"]) == 1
    assert [f["code"] for f in out["failures"]] == ["I001"]


def truncated_mp4(small_clip: Path, tmp_path: Path) -> Path:
    """A recording cut off before its index (moov) was written, as when a camera loses power."""
    whole = tmp_path / "whole.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(small_clip), "-c", "copy",
                    "-movflags", "-faststart", str(whole)], check=True)
    data = whole.read_bytes()
    assert data.rfind(b"moov") > len(data) // 2
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def random_mp4(small_clip: Path, tmp_path: Path) -> Path:
    path = tmp_path / "random.mp4"
    path.write_bytes(os.urandom(50_000))
    return path


@pytest.mark.parametrize("make", [truncated_mp4, random_mp4], ids=["truncated", "random-bytes"])
def test_unreadable_media_is_preserved_with_failed_validation(lw, archive, small_clip, tmp_path, make):
    src = make(small_clip, tmp_path)
    result = lw("ingest", str(src), "--json")
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr and "preserved bit for bit" in result.stderr
    out = json.loads(result.stdout)["packages"][0]
    assert out["media_ok"] is False and out["warnings"]
    package_id = out["package_id"]
    path = archive.storage().local_path(package_id)
    assert (path / "data/media" / src.name).read_bytes() == src.read_bytes()
    events = {e["type"]: e for e in metadata.premis_events(premis_of(archive, package_id))}
    assert events["validation"]["outcome"] == "failure"
    assert events["validation"]["note"]
    assert events["ingestion"]["outcome"] == "success"
    bagit.Bag(str(path)).validate()
    verified = lw("verify", package_id)
    assert verified.exit_code == 0, verified.output
    assert archive.catalog.get(package_id).media_ok is False


# -- names ------------------------------------------------------------------------
UNSAFE_NAMES = {
    "control-characters": b"cam\x01 01\nnight\x1b[31m.mp4",
    "not-utf8-cp949": "카메라-01.mp4".encode("cp949"),
    "very-long": ("가" * 80).encode() + b"-" + b"x" * 10 + b".mp4",  # 255 bytes, the file-system limit
    "backslash-traversal": b"..\\..\\..\\etc\\evil.mp4",
    "dot-dot-prefix": b"..mp4",
    "tilde": b"~root.mp4",
    "percent": b"100%0A.mp4",
    # exiftool runs -stay_open and reads one argument per line: these must stay a file name
    "exiftool-arguments": b"cam\n-w!\n%d%f.txt\n-ver\nx.mp4",
    "leading-dash": b"-ver.mp4",
}


@pytest.mark.parametrize("raw", UNSAFE_NAMES.values(), ids=UNSAFE_NAMES.keys())
def test_unsafe_names_stay_in_data_media_and_original_is_kept(archive, small_clip, tmp_path, raw):
    assert len(raw) <= 255
    folder = tmp_path / "in"
    folder.mkdir()
    src = Path(os.fsdecode(os.path.join(os.fsencode(folder), raw)))
    src.write_bytes(small_clip.read_bytes() + raw)
    package_id = ingest_one(archive, src)
    path = archive.storage().local_path(package_id)
    media = list((path / "data/media").iterdir())
    assert len(media) == 1
    stored = media[0].name
    assert "/" not in stored and "\\" not in stored and stored not in (".", "..")
    assert not any(ord(c) < 32 for c in stored)
    stored.encode("utf-8")  # a name every tool can print
    assert len(stored.encode()) <= package.MAX_NAME_BYTES
    assert media[0].read_bytes() == src.read_bytes()
    # the exact original name, byte for byte, from PREMIS originalName
    (name,) = original_names(premis_of(archive, package_id))
    assert package.original_name_bytes(name) == raw
    bagit.Bag(str(path)).validate()
    for tool, manifest in (("sha256sum", "manifest-sha256.txt"), ("sha512sum", "manifest-sha512.txt")):
        checked = subprocess.run([tool, "-c", "--strict", manifest], cwd=path, capture_output=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    storage_root = archive.storage().root
    assert {p.name for p in storage_root.iterdir()} <= {"packages", ".staging", "custody-ledger"}
    assert [p.name for p in folder.iterdir()] == [src.name]  # nothing written beside the source
    technical = json.loads((path / "metadata/technical.json").read_text())
    (probed,) = technical["files"].values()
    assert probed["exiftool"].get("File:MIMEType") == "video/mp4"  # exiftool read the file itself
    status, report, _ = verify_json(__import__("click.testing", fromlist=["CliRunner"]).CliRunner(), path)
    assert status == 0, report


def test_traversal_names_from_sidecar_never_escape(archive, small_clip, tmp_path):
    """A vendor export whose file and sidecar names look like paths out of the package."""
    folder = tmp_path / "export"
    folder.mkdir()
    media = folder / "..\\..\\escape.mp4"
    unique_copy(small_clip, media)
    sidecar = folder / "..\\..\\escape.mp4.json"
    sidecar.write_text(json.dumps({"camera": "cam-09", "title": "../../../etc/passwd"}))
    package_id = ingest_one(archive, media)
    path = archive.storage().local_path(package_id)
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert "data/media/escape.mp4" in files
    assert "data/sidecar/escape.mp4.json" in files
    assert all(f.startswith(("data/", "metadata/", "signature/")) or "/" not in f for f in files)
    assert sorted(original_names(premis_of(archive, package_id))) == sorted([media.name, sidecar.name])
    assert not (tmp_path / "escape.mp4").exists()


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd", "passwd"),
    ("/abs/path.mp4", "path.mp4"),
    ("..", "media.bin"),
    ("", "media.bin"),
    ("C:\\Windows\\..\\x.mp4", "x.mp4"),
    ("a\x00b.mp4", "a_b.mp4"),
])
def test_safe_name(name, expected):
    assert package.safe_name(name) == expected


def test_sidecar_camera_that_is_a_path_is_refused(archive, fresh_clip):
    fresh_clip.with_name(fresh_clip.name + ".json").write_text('{"camera": "../../etc"}')
    with pytest.raises(LongwatchError) as info:
        ingest_one(archive, fresh_clip)
    assert info.value.code == "I009"
    nothing_stored(archive)


# -- duplicates ----------------------------------------------------------------------
def test_duplicate_refused_unless_allowed(lw, archive, fresh_clip):
    first = lw("ingest", str(fresh_clip), "--json")
    assert first.exit_code == 0
    package_id = json.loads(first.stdout)["packages"][0]["package_id"]
    again = lw("ingest", str(fresh_clip))
    assert again.exit_code == 4
    assert error_codes(again.stderr) == ["I006"]
    assert package_id in again.stderr and "--allow-duplicate" in again.stderr
    assert archive.catalog.all_ids() == [package_id]
    assert list(archive.storage().package_ids()) == [package_id]
    allowed = lw("ingest", str(fresh_clip), "--allow-duplicate", "--json")
    assert allowed.exit_code == 0
    assert len(archive.catalog.all_ids()) == 2


# -- options and sidecars --------------------------------------------------------------
@pytest.mark.parametrize("args,code", [
    (["--start", "2026-03-03T14:00:00"], "I003"),  # no zone: never guessed
    (["--start", "yesterday"], "I003"),
    (["--start", "2026-13-45T00:00:00Z"], "I003"),
    (["--start", "0001-01-01T00:00:00+01:00"], "I003"),  # before year 1 in UTC
    (["--location", "37.5"], "I004"),
    (["--location", "91,10"], "I004"),
    (["--location", "10,181"], "I004"),
    (["--location", "nan,nan"], "I004"),
    (["--location", "north,east"], "I004"),
    (["--camera", "cam 01"], "I009"),
    (["--camera", "../cam"], "I009"),
    (["--camera", "x" * 65], "I009"),
])
def test_invalid_options(lw, archive, fresh_clip, args, code):
    result = lw("ingest", str(fresh_clip), *args)
    assert result.exit_code == 4, result.output
    assert error_codes(result.stderr) == [code]
    nothing_stored(archive)


@pytest.mark.parametrize("text,code", [
    ("{not json", "I005"),
    ("[1, 2, 3]", "I005"),
    ('{"title": {"nested": true}}', "I005"),
    ("[" * 100_000 + "]" * 100_000, "I005"),
    ('{"camera": ' + "1" * 5000 + "}", "I005"),  # beyond Python's integer-string limit
    ('{"start": "03/03/2026"}', "I003"),
    ('{"location": "somewhere"}', "I004"),
    ('{"camera": "bad camera"}', "I009"),
])
def test_invalid_sidecar(lw, archive, fresh_clip, text, code):
    fresh_clip.with_name(fresh_clip.name + ".json").write_text(text)
    result = lw("ingest", str(fresh_clip))
    assert result.exit_code == 4, result.output
    assert error_codes(result.stderr) == [code]
    nothing_stored(archive)


def test_sidecar_not_utf8(lw, archive, fresh_clip):
    fresh_clip.with_suffix(".json").write_bytes(b'{"title": "\xff\xfe"}')
    result = lw("ingest", str(fresh_clip))
    assert error_codes(result.stderr) == ["I005"]


def test_control_characters_in_sidecar_text_do_not_break_metadata(archive, fresh_clip):
    fresh_clip.with_suffix(".json").write_text(json.dumps({"title": "a\x01b\udc80", "zone": "z\x0bz"}))
    package_id = ingest_one(archive, fresh_clip)
    path = archive.storage().local_path(package_id)
    bagit.Bag(str(path)).validate()
    fields = metadata.dc_fields(metadata.parse_untrusted((path / package.DC_PATH).read_bytes()))
    assert fields["title"] == ["a\ufffdb\ufffd"]


# -- malicious XML in a package under verify ------------------------------------------
def reseal_tag_file(bag: Path, relpath: str, data: bytes) -> None:
    (bag / relpath).write_bytes(data)
    for algorithm in ("sha256", "sha512"):
        manifest = bag / f"tagmanifest-{algorithm}.txt"
        entries = package.parse_manifest(manifest.read_bytes())
        entries[relpath] = digest_bytes(data, [algorithm])[algorithm]
        manifest.write_bytes(package.manifest_text(entries))


def test_xxe_in_premis_refused(runner, bag, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    xml = (f'<?xml version="1.0"?>\n<!DOCTYPE premis [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           f'<premis xmlns="http://www.loc.gov/premis/v3" version="3.0"><object>&x;</object></premis>\n')
    reseal_tag_file(bag, package.PREMIS_PATH, xml.encode())
    status, report, result = verify_json(runner, bag)
    assert status == 1
    assert "V011" in codes_of(report)
    assert "TOP-SECRET-MARKER" not in result.output


def test_xxe_in_utf16_premis_refused(runner, bag, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    xml = (f'<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE premis [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           f'<premis xmlns="http://www.loc.gov/premis/v3" version="3.0"><object>&x;</object></premis>\n')
    reseal_tag_file(bag, package.PREMIS_PATH, xml.encode("utf-16"))
    status, report, result = verify_json(runner, bag)
    assert status == 1
    assert "V011" in codes_of(report)
    assert "TOP-SECRET-MARKER" not in result.output


def test_billion_laughs_in_premis_refused(runner, bag):
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    xml = ('<?xml version="1.0"?>\n<!DOCTYPE premis [' + "".join(entities) + ']>\n'
           '<premis xmlns="http://www.loc.gov/premis/v3" version="3.0">&lol9;</premis>\n')
    reseal_tag_file(bag, package.PREMIS_PATH, xml.encode())
    status, report, _ = verify_json(runner, bag)  # 10^9 "lol"s if expanded: this would not return
    assert status == 1
    assert "V011" in codes_of(report)


# -- keys --------------------------------------------------------------------------
def test_wrong_or_missing_passphrase(tmp_path, fresh_clip, runner, monkeypatch):
    from longwatch.cli import cli

    monkeypatch.setenv("LONGWATCH_KEY_PASSPHRASE", "correct horse")
    a = create_archive(tmp_path / "locked")
    assert b"ENCRYPTED" in a.settings.key_path.read_bytes()
    a.close()
    monkeypatch.delenv("LONGWATCH_KEY_PASSPHRASE")
    args = ["-A", str(tmp_path / "locked"), "ingest", str(fresh_clip)]
    missing = runner.invoke(cli, args)
    assert missing.exit_code == 5
    assert error_codes(missing.stderr) == ["K004"]
    wrong = runner.invoke(cli, args, env={"LONGWATCH_KEY_PASSPHRASE": "wrong"})
    assert wrong.exit_code == 5
    assert error_codes(wrong.stderr) == ["K005"]
    assert "Traceback" not in wrong.output
    a = create_archive.__wrapped__ if hasattr(create_archive, "__wrapped__") else None
    from longwatch.core.archive import Archive

    opened = Archive.open(tmp_path / "locked")
    assert opened.catalog.all_ids() == []
    assert list(opened.storage().package_ids()) == []
    opened.close()
    right = runner.invoke(cli, args, env={"LONGWATCH_KEY_PASSPHRASE": "correct horse"})
    assert right.exit_code == 0, right.output


def test_init_with_mismatched_key_and_cert(tmp_path, lw_bare):
    one, other = signing.generate("A", "one"), signing.generate("B", "other")
    signing.save(one, tmp_path / "one.key", tmp_path / "one.pem")
    signing.save(other, tmp_path / "other.key", tmp_path / "other.pem")
    target = tmp_path / "new-archive"
    result = lw_bare("init", str(target), "--key", str(tmp_path / "one.key"), "--cert", str(tmp_path / "other.pem"))
    assert result.exit_code == 5
    assert error_codes(result.stderr) == ["K002"]
    assert not target.exists()  # all or nothing
    good = lw_bare("init", str(target), "--key", str(tmp_path / "one.key"), "--cert", str(tmp_path / "one.pem"))
    assert good.exit_code == 0, good.output
    assert one.fingerprint in good.stdout
    assert (target / "keys/signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_key_file_mode_0600(archive):
    assert archive.settings.key_path.stat().st_mode & 0o777 == 0o600
    assert archive.settings.cert_path.is_file()


# -- full disk --------------------------------------------------------------------
@pytest.fixture
def tiny_storage(archive):
    """The archive's storage location on a 2 MiB tmpfs (root may mount; skip only if not permitted)."""
    root = archive.storage().root
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def test_full_disk_refused_before_copying(lw, archive, tiny_storage, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(3 << 20))
    result = lw("ingest", str(big))
    assert result.exit_code == 6
    assert error_codes(result.stderr) == ["S001"]
    assert archive.catalog.all_ids() == []
    assert list(archive.storage().package_ids()) == []


def test_disk_full_during_copy(lw, archive, tiny_storage, tmp_path, monkeypatch):
    """The file system fills up in the middle of the copy (the free-space check passed)."""
    from longwatch.core.preservation import ingest

    monkeypatch.setattr(ingest, "HEADROOM", 0)
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(1536 << 10))
    # leave less room than the file needs once the copy has started
    (tiny_storage / "filler").write_bytes(b"\0" * (700 << 10))
    monkeypatch.setattr(type(archive.storage()), "free_bytes", lambda self: None)
    result = lw("ingest", str(big))
    assert result.exit_code == 6, result.output
    assert error_codes(result.stderr) == ["S001"]
    assert "Traceback" not in result.output
    assert archive.catalog.all_ids() == []
    assert list(archive.storage().package_ids()) == []
    staging = tiny_storage / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
