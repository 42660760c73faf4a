"""Command-line conventions: ERROR [CODE] on stderr, exit status per family, JSON, archive discovery."""

from __future__ import annotations

import json
import re

import pytest
from conftest import error_codes, ingest_one, run_longwatch

from longwatch.errors import CODES, EXIT_STATUS

ERROR_LINE = re.compile(r"^ERROR \[[A-Z]\d{3}\] \S.*$")


def test_every_code_family_has_an_exit_status():
    assert {code[0] for code in CODES} <= set(EXIT_STATUS)
    assert EXIT_STATUS["V"] == 1 and EXIT_STATUS["C"] == 2


def test_error_line_format_and_no_traceback(lw, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    result = lw("ingest", str(empty))
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), lines
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(lw, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    result = lw("--debug", "ingest", str(empty))
    assert result.exit_code == 4
    assert "Traceback" in result.stderr
    assert error_codes(result.stderr) == ["I001"]


def test_exit_status_per_family(lw, lw_bare, archive, tmp_path, fresh_clip, monkeypatch):
    # C: usage the parser cannot check
    result = lw("verify")
    assert (result.exit_code, error_codes(result.stderr)) == (2, ["C001"])
    # click's own usage errors are 2 as well
    assert lw("ingest").exit_code == 2
    assert lw("list", "--no-such-option").exit_code == 2
    # A: no archive
    monkeypatch.chdir(tmp_path)
    result = lw_bare("list")
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A001"])
    # I: input
    result = lw("show", "ffffffff")
    assert (result.exit_code, error_codes(result.stderr)) == (4, ["I008"])
    # A002: init over an archive
    result = lw_bare("init", str(archive.root))
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A002"])
    # T: a tool is missing (nothing is left behind)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = lw("ingest", str(fresh_clip))
    assert (result.exit_code, error_codes(result.stderr)) == (8, ["T001"])
    assert archive.catalog.all_ids() == [] and list(archive.storage().package_ids()) == []


def test_verify_exit_status_1_when_a_check_fails(lw, archive, fresh_clip):
    package_id = ingest_one(archive, fresh_clip)
    assert lw("verify", package_id).exit_code == 0
    (archive.storage().local_path(package_id) / "bag-info.txt").write_text("tampered: yes\n")
    result = lw("verify", package_id)
    assert result.exit_code == 1
    assert all(ERROR_LINE.match(line) for line in result.stderr.splitlines() if line.startswith("ERROR"))


def test_json_outputs_parse(lw, archive, fresh_clip):
    ingested = json.loads(lw("ingest", str(fresh_clip), "--camera", "cam-01", "--json").stdout)
    package_id = ingested["packages"][0]["package_id"]
    assert set(ingested["packages"][0]) == {"package_id", "path", "size", "sha256", "start", "end", "media_ok",
                                            "warnings"}
    listing = json.loads(lw("list", "--json").stdout)
    assert listing["packages"][0]["package_id"] == package_id
    assert listing["packages"][0]["clips"][0]["sha256"] == ingested["packages"][0]["sha256"]
    shown = json.loads(lw("show", package_id, "--json").stdout)
    assert shown["path"] and shown["events"]
    verified = json.loads(lw("verify", "--all", "--json").stdout)
    assert verified["ok"] is True
    assert set(verified["packages"][0]) >= {"target", "package_id", "ok", "problems", "signer_fingerprint",
                                            "trusted", "files_checked", "bytes_checked", "notes"}
    fast = json.loads(lw("verify", package_id, "--fast", "--json").stdout)
    assert fast["packages"][0]["fast"] is True and fast["ok"] is True
    plugins = json.loads(lw("plugins", "--json").stdout)
    assert "local" in plugins["storage_adapters"]


def test_human_outputs(lw, archive, fresh_clip):
    ingested = lw("ingest", str(fresh_clip), "--camera", "cam-01")
    assert ingested.exit_code == 0
    package_id = ingested.stdout.split()[0]
    assert package_id in archive.catalog.all_ids()
    assert package_id[:8] in lw("list").stdout
    assert "PREMIS events" in lw("show", package_id).stdout
    verified = lw("verify", package_id)
    assert verified.stdout.startswith(f"OK {package_id}")


def test_quiet_prints_nothing_on_success(lw, fresh_clip):
    result = lw("-q", "ingest", str(fresh_clip))
    assert result.exit_code == 0 and result.output == ""


# -- archive discovery -----------------------------------------------------------------
@pytest.fixture
def one_package(archive, fresh_clip):
    return ingest_one(archive, fresh_clip)


def listed(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [p["package_id"] for p in json.loads(result.stdout)["packages"]]


def test_discovery_by_option(lw_bare, archive, one_package, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert listed(lw_bare("-A", str(archive.root), "list", "--json")) == [one_package]
    assert listed(lw_bare("--archive", str(archive.root), "list", "--json")) == [one_package]


def test_discovery_by_environment(lw_bare, archive, one_package, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LONGWATCH_ARCHIVE", str(archive.root))
    assert listed(lw_bare("list", "--json")) == [one_package]


def test_option_wins_over_environment(lw_bare, archive, one_package, tmp_path, monkeypatch):
    monkeypatch.setenv("LONGWATCH_ARCHIVE", str(tmp_path / "nowhere"))
    assert listed(lw_bare("-A", str(archive.root), "list", "--json")) == [one_package]
    result = lw_bare("list")
    assert error_codes(result.stderr) == ["A001"]


def test_discovery_upward_from_cwd(lw_bare, archive, one_package, monkeypatch):
    deep = archive.storage().root / "packages"
    monkeypatch.chdir(deep)
    assert listed(lw_bare("list", "--json")) == [one_package]


def test_a_directory_that_is_not_an_archive(lw_bare, tmp_path):
    result = lw_bare("-A", str(tmp_path), "list")
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A001"])


def test_invalid_configuration(lw_bare, archive):
    (archive.root / "longwatch.toml").write_text("[archive\n")
    result = lw_bare("-A", str(archive.root), "list")
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A003"])


def test_real_command_in_a_subprocess(archive, fresh_clip, tmp_path):
    """The installed console script, as a user runs it: exit status, stderr, discovery from cwd."""
    done = run_longwatch("ingest", fresh_clip, "--json", cwd=archive.root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["packages"][0]["media_ok"] is True
    missing = run_longwatch("ingest", tmp_path / "nope.mp4", cwd=archive.root)
    assert missing.returncode == 4
    assert ERROR_LINE.match(missing.stderr.strip())
    assert "Traceback" not in missing.stderr
    version = run_longwatch("--version")
    assert version.returncode == 0 and "longwatch" in version.stdout


@pytest.mark.parametrize("remove,code", [("metadata/premis.xml", "V005"), ("", "V017")])
def test_show_when_storage_disagrees_with_catalog(lw, archive, one_package, remove, code):
    import shutil

    path = archive.storage().local_path(one_package)
    if remove:
        (path / remove).unlink()
    else:
        shutil.rmtree(path)
    result = lw("show", one_package)
    assert result.exit_code == 1
    assert error_codes(result.stderr) == [code]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("old,new", [
    ('timezone = "Asia/Seoul"', 'timezone = "Mars/Olympus_Mons"'),
    ('primary = "primary"', 'primary = "offsite"'),
    ('adapter = "local"', 'kind = "local"'),
    ("[archive]", "archive = 3"),
])
def test_configuration_mistakes_name_the_file(lw_bare, archive, old, new):
    config = archive.root / "longwatch.toml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    result = lw_bare("-A", str(archive.root), "list")
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A003"])
    assert "longwatch.toml" in result.stderr


def test_catalog_url_that_cannot_be_opened(lw_bare, archive, monkeypatch):
    monkeypatch.setenv("LONGWATCH_CATALOG_URL", "nosuchdb://nowhere")
    result = lw_bare("-A", str(archive.root), "list")
    assert (result.exit_code, error_codes(result.stderr)) == (3, ["A004"])
