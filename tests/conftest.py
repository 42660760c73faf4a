"""Shared fixtures: real ffmpeg clips, fresh archives, the CLI runner.

Validation must never touch the network: XML_CATALOG_FILES points at the
vendored catalog for every test (as a3m does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from longwatch.core.archive import Archive
from longwatch.core.media import make_test_clip
from longwatch.core.metadata import XML_CATALOG

# Fixture modules that start real servers (PostgreSQL, S3, ...) register here.
pytest_plugins: list[str] = ["pg"]

os.environ["XML_CATALOG_FILES"] = str(XML_CATALOG)
os.environ["LONGWATCH_LANG"] = "en"
os.environ.pop("LONGWATCH_ARCHIVE", None)

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip(clip_dir: Path) -> Path:
    """A 2-second H.264 clip with a burned-in clock, made once per session."""
    return make_test_clip(clip_dir / "cam-01_20260303T050000Z.mp4", seconds=2, label="cam-01", start=START)


@pytest.fixture
def fresh_clip(tmp_path: Path) -> Path:
    """A clip with bytes of its own (a unique label burned in), for tests that must not collide on SHA-256."""
    import uuid

    return make_test_clip(tmp_path / "fresh.mp4", seconds=1, label=uuid.uuid4().hex[:8], start=START)


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def archive(archive_dir: Path) -> Iterator[Archive]:
    a = Archive.create(archive_dir, organization="Test City CCTV Centre", language="en")
    yield a
    a.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def lw(runner: CliRunner, archive: Archive):
    """Run ``longwatch -A <archive> ARGS...`` in-process; returns the click Result."""
    from longwatch.cli import cli

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["-A", str(archive.root), *args], input=input, catch_exceptions=False)

    return run
