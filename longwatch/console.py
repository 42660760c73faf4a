"""What every command shares: the invocation context, JSON and table output, sizes, local times, progress.

Out of ``cli.py`` so that the command modules (``longwatch.commands``) and the
web pages can use them without importing the ``longwatch`` group itself (a
cycle: the group loads the command modules).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from longwatch import i18n
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from rich.console import Console

    from longwatch.core.archive import Archive

    stdout: Console
    stderr: Console


@functools.cache
def _console(stream: str) -> Console:
    # rich is imported here: it is a fifth of `longwatch --help`, and only tables and progress bars need it
    from rich.console import Console

    return Console(stderr=stream == "stderr", highlight=False, soft_wrap=True)


def __getattr__(name: str) -> Any:
    """``stdout`` and ``stderr``: the rich consoles, made when a command first prints a table or a bar."""
    if name in ("stdout", "stderr"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Context:
    archive_dir: str | None
    quiet: bool
    debug: bool
    lang: str | None = None
    _archive: Archive | None = None

    def archive(self) -> Archive:
        if self._archive is None:
            # Here, not at the top: the archive brings the catalog (SQLAlchemy) and the signer (cryptography),
            # which `--help` and a command that needs no archive never pay for.
            from longwatch.core.archive import Archive

            self._archive = Archive.open(self.archive_dir)
            if not self.lang:
                i18n.set_language(i18n.language_from_environment(self._archive.settings.language))
        return self._archive


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def local_time(value: datetime | None, archive: Archive) -> str:
    """Shown in the archive's zone, with its offset (stored and exported in UTC)."""
    if value is None:
        return "-"
    return value.astimezone(archive.settings.tz).isoformat(timespec="seconds")


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


@contextmanager
def progress_for(obj: Context, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich bar on a terminal, a few plain lines elsewhere, nothing with --quiet."""
    if obj.quiet:
        yield lambda n: None
        return
    stderr = _console("stderr")
    if stderr.is_terminal:
        # imported here: rich's progress module costs every command a tenth of a second
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = 0
    step = max(total // 4, 256 << 20)
    mark = step

    def advance(n: int) -> None:
        nonlocal done, mark
        done += n
        if done >= mark and done < total:
            click.echo(f"{label}: {human_size(done)} / {human_size(total)}", err=True)
            mark += step

    yield advance


pass_obj = click.make_pass_decorator(Context)


def resolve_package(archive: Archive, prefix: str) -> str:
    """A package id from a unique prefix (I008 when none or several match)."""
    matches = archive.catalog.resolve(prefix)
    if len(matches) != 1:
        raise LongwatchError("I008", package_id=prefix)
    return matches[0]
