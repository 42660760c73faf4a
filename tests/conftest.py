"""Shared fixtures: real ffmpeg clips, fresh archives, the CLI runner, ready-made packages.

Validation must never touch the network: XML_CATALOG_FILES points at the
vendored catalog for every test (as a3m does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ports import closed_port

from longwatch.core.aip.metadata import XML_CATALOG
from longwatch.core.archive import Archive
from longwatch.core.media.probe import make_test_clip

# Fixture modules that start real servers (PostgreSQL, S3, ...) register here.
pytest_plugins: list[str] = ["rtsp"]
pytest_plugins.append("detect_footage")  # footage for detectors, windows and redaction
pytest_plugins.append("tsa_server")  # a real RFC 3161 TSA on loopback (custody ledger)
pytest_plugins.append("web_fixtures")  # users, app and a live server for the web UI
pytest_plugins.append("s3")  # moto's S3 server on loopback
pytest_plugins.append("pg")  # a throwaway PostgreSQL on loopback

os.environ["XML_CATALOG_FILES"] = str(XML_CATALOG)
os.environ["LONGWATCH_LANG"] = "en"
os.environ.pop("LONGWATCH_ARCHIVE", None)
os.environ.pop("LONGWATCH_TOKEN", None)
# Keys are encrypted by default (issue 21): every test archive's key has this passphrase, as a service's would.
TEST_PASSPHRASE = "test archive passphrase"
os.environ["LONGWATCH_KEY_PASSPHRASE"] = TEST_PASSPHRASE

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
_SCRIPT = Path(sys.executable).parent / "longwatch"
LONGWATCH = [str(_SCRIPT)] if _SCRIPT.exists() else [shutil.which("longwatch") or "longwatch"]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip(clip_dir: Path) -> Path:
    """A 2-second H.264 clip with a burned-in clock, made once per session."""
    return make_test_clip(clip_dir / "cam-01_20260303T050000Z.mp4", seconds=2, label="cam-01", start=START)


@pytest.fixture(scope="session")
def small_clip(clip_dir: Path) -> Path:
    """A tiny clip (160x120, 1 s) used as raw material for bytes of other tests."""
    return make_test_clip(clip_dir / "small.mp4", seconds=1, size="160x120", rate=10)


@pytest.fixture
def fresh_clip(tmp_path: Path, small_clip: Path) -> Path:
    """A readable clip with bytes of its own, for tests that must not collide on SHA-256.

    The small clip with a unique trailing comment: ffprobe still reads it, and
    no ffmpeg run per test is needed.
    """
    return unique_copy(small_clip, tmp_path / "fresh.mp4")


def unique_copy(src: Path, dst: Path) -> Path:
    """A copy of ``src`` with 16 unique bytes appended (mp4 readers ignore trailing bytes)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes() + uuid.uuid4().bytes)
    return dst


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


def create_archive(root: Path, **kwargs) -> Archive:
    """A test archive: fsync off (throwaway), English."""
    kwargs.setdefault("organization", "Test City CCTV Centre")
    kwargs.setdefault("language", "en")
    a = Archive.create(root, **kwargs)
    config = root / "longwatch.toml"
    config.write_text(config.read_text().replace('path = "storage"', 'path = "storage"\ndurable = false'))
    a.close()
    return Archive.open(root)


@pytest.fixture
def archive(archive_dir: Path) -> Iterator[Archive]:
    a = create_archive(archive_dir)
    yield a
    a.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test (tests/ports.py says why it is held)."""
    with closed_port() as port:
        yield port


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``longwatch login`` keeps tokens under the user's config folder: a throwaway one per test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


def sign_in(archive: Archive, username: str, role: str) -> dict[str, str]:
    """A real account (made once per archive) and the environment that makes a command act for it.

    Archives start with one administrator, named after the OS user running the
    tests and mapped to it (as ``longwatch init`` does); commands run without
    this environment act for that administrator.
    """
    from longwatch.core import accounts

    if accounts.account_named(archive.catalog, username) is None:
        accounts.add_user(archive.catalog, username, "correct horse battery", role)
    return {"LONGWATCH_TOKEN": accounts.create_token(archive.catalog, username, "test")}


@pytest.fixture
def signed_in(archive: Archive):
    """``signed_in("bob", "records-manager")``: the environment of a command run by account bob."""

    def make(username: str, role: str = "records-manager") -> dict[str, str]:
        return sign_in(archive, username, role)

    return make


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch):
    """Stops longwatch's one clock (``longwatch.clock.now``) at a time, until the test ends.

    ``frozen_clock("2026-03-01T00:00:00Z")`` returns the time as a datetime. A
    command run in a subprocess takes its time from ``tests/frozen_longwatch.py``.
    """
    from longwatch import clock

    def freeze(when: str | datetime) -> datetime:
        fixed = clock.parse_time(when) if isinstance(when, str) else when.astimezone(UTC)
        monkeypatch.setattr(clock, "_source", lambda: fixed)
        return fixed

    return freeze


def frozen_longwatch(when: str, *args: str | os.PathLike[str], env: dict[str, str] | None = None,
                     timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """:func:`run_longwatch` with the clock stopped at ``when`` in the subprocess."""
    return run_longwatch(*args, env=env, timeout=timeout,
                         command=[sys.executable, str(Path(__file__).with_name("frozen_longwatch.py")), when])


@pytest.fixture
def lw(runner: CliRunner, archive: Archive):
    """Run ``longwatch -A <archive> ARGS...`` in-process; returns the click Result."""
    from longwatch.cli import cli

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, ["-A", str(archive.root), *args], input=input, env=env,
                             catch_exceptions=False)

    return run


@pytest.fixture
def lw_bare(runner: CliRunner):
    """Run ``longwatch ARGS...`` in-process without naming an archive."""
    from longwatch.cli import cli

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


def run_longwatch(*args: str | os.PathLike[str], env: dict[str, str] | None = None,
                  cwd: Path | None = None, timeout: float = 120,
                  command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess (exit status, stderr and language as a user sees them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*(command or LONGWATCH), *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout, check=False)


def error_codes(stderr: str) -> list[str]:
    """Codes of every ``ERROR [CODE] ...`` line, in order."""
    return [line.split("]")[0].split("[")[1] for line in stderr.splitlines() if line.startswith("ERROR [")]


@dataclass
class StoredPackage:
    archive_root: Path
    package_id: str
    path: Path
    cert: Path
    source: Path


def configure_storage(archive: Archive, body: str) -> Archive:
    """Rewrite the archive's [storage] section with ``body`` and reopen it (locations, replication policies)."""
    path = archive.root / "longwatch.toml"
    head, _, rest = path.read_text().partition("[storage]")
    _, _, tail = rest.partition("[signing]")
    path.write_text(head + body + "\n[signing]" + tail)
    archive.close()
    return Archive.open(archive.root)


def local_locations(offsite: Path, default: str, classes: str = "", offsite_options: str = "") -> str:
    """A [storage] body: ``primary`` in the archive and ``offsite`` at ``offsite``, with the policies given."""
    return ('[storage]\nprimary = "primary"\n\n[storage.replication]\n' f"default = {default}\n\n"
            + (f"[storage.replication.classes]\n{classes}\n\n" if classes else "")
            + '[storage.locations.primary]\nadapter = "local"\npath = "storage"\n\n'
            + f'[storage.locations.offsite]\nadapter = "local"\npath = "{offsite}"\n{offsite_options}\n')


def ingest_one(archive: Archive, path: Path, **fields) -> str:
    from longwatch.core.preservation.ingest import IngestRequest, ingest

    return ingest(archive, IngestRequest(path=path, **fields)).package_id


@pytest.fixture(scope="session")
def stored_package(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> StoredPackage:
    """One archive with one ingested clip, made once per session; never modify it (copy it)."""
    root = tmp_path_factory.mktemp("pristine") / "archive"
    a = create_archive(root)
    package_id = ingest_one(a, clip, camera="cam-01", zone="Jung-gu/Market", latitude=37.5665,
                            longitude=126.978, location_name="City Hall", title="Market entrance")
    path = a.storage().local_path(package_id)
    assert path is not None
    result = StoredPackage(root, package_id, path, a.settings.cert_path, clip)
    a.close()
    return result


@pytest.fixture
def bag(stored_package: StoredPackage, tmp_path: Path) -> Path:
    """A private copy of the stored package's directory, free to tamper with."""
    dst = tmp_path / "bags" / stored_package.package_id
    shutil.copytree(stored_package.path, dst)
    return dst


def verify_json(runner: CliRunner, target: Path | str, *extra: str) -> tuple[int, dict, Result]:
    """``longwatch verify TARGET --json``: exit status, parsed report, the click Result."""
    from longwatch.cli import cli

    result = runner.invoke(cli, ["verify", str(target), "--json", *extra], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout), result


def codes_of(report: dict) -> set[str]:
    return {p["code"] for pkg in report["packages"] for p in pkg["problems"]}


def stored_file(archive: Archive, key: str) -> Path:
    """The file of an object of the archive's own (an export, a destruction certificate) on a local primary
    location, where such objects are plain files under the storage folder."""
    return Path(archive.storage().root) / key  # type: ignore[attr-defined]
