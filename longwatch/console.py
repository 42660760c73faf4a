"""What every command shares: the invocation context, JSON and table output, sizes, local times, progress.

Out of ``cli.py`` so that the command modules (``longwatch.commands``) and the
web pages can use them without importing the ``longwatch`` group itself (a
cycle: the group loads the command modules).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from longwatch import i18n, startup
from longwatch.errors import LongwatchError
from longwatch.i18n import _

if TYPE_CHECKING:
    from rich.console import Console

    from longwatch.core import accounts
    from longwatch.core.archive import Archive

    stdout: Console
    stderr: Console

# The archive (SQLAlchemy, cryptography) is imported when a command first opens it, and rich's consoles are
# made when a command first prints a table or a bar (issue 23): `--help` and a check of a package directory
# need neither.


def __getattr__(name: str) -> Any:
    """``stdout`` and ``stderr``: rich consoles, made on first use (PEP 562)."""
    if name not in ("stdout", "stderr"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    if name not in globals():
        from rich.console import Console

        globals()[name] = Console(stderr=name == "stderr", highlight=False, soft_wrap=True)
    console: Console = globals()[name]
    return console


@dataclass
class Context:
    archive_dir: str | None
    quiet: bool
    debug: bool
    lang: str | None = None
    _archive: Archive | None = None
    _account: accounts.Account | None = None

    def archive(self) -> Archive:
        try:
            return self._open()
        finally:
            startup.resume()  # the start-up is over: the garbage collector runs again (longwatch/startup.py)

    def _open(self) -> Archive:
        if self._archive is None:
            from longwatch.core.archive import Archive

            self._archive = Archive.open(self.archive_dir)
            self._archive.passphrase_prompt = passphrase_prompt()
            if not self.lang:
                i18n.set_language(i18n.language_from_environment(self._archive.settings.language))
        return self._archive

    def account(self, permission: str | None = None) -> accounts.Account:
        """The account this command acts for, holding ``permission`` (the web's roles and permissions).

        The one place the command line learns who acts (issue 21): a token in
        ``LONGWATCH_TOKEN`` (for a service that holds one), else the token
        ``longwatch login`` stored for this OS user, else an administrator's
        mapping of this OS user to an account. W030 when none names an
        account, W009 when its role lacks ``permission``. From here on the
        archive records this account in the ledger, its jobs and its exports.
        """
        from longwatch.core import accounts

        try:
            archive = self._open()
            if self._account is None:  # the first query: SQLAlchemy configures the mapped classes now
                found = accounts.cli_account(archive.catalog, archive.root, os.environ.get("LONGWATCH_TOKEN", ""))
                if found is None:
                    raise LongwatchError("W030", os_user=accounts.os_user() or "?")
                self._account = found
                archive.act_as(found.username)
        finally:
            startup.resume()
        if permission is not None and not accounts.has_permission(self._account.role, permission):
            raise LongwatchError("W009", role=self._account.role, permission=permission)
        if permission is not None and not self._account.scope_allows(permission):  # a token with fewer scopes
            raise LongwatchError("W090", scopes=" ".join(self._account.scopes or ()), permission=permission,
                                 scope=accounts.scope_for(permission))
        return self._account


def passphrase_prompt(confirm: bool = False) -> Callable[[], bytes | None] | None:
    """Ask for the signing key's passphrase on a terminal; None when no one is there to ask (a service)."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None

    def ask() -> bytes | None:
        value = click.prompt(_("Passphrase of the signing key"), hide_input=True, err=True,
                             confirmation_prompt=confirm, default="", show_default=False)
        return str(value).encode() or None

    return ask


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


#: What a person reads for a package's status: footage of a disposed package is gone (a tombstone remains).
STATUS_LABELS = {"stored": i18n.N_("stored"), "disposing": i18n.N_("being destroyed"),
                 "disposed": i18n.N_("destroyed, tombstone kept")}


def package_status(status: str) -> str:
    """A package's status in the reader's language (tables of `list` and `search`)."""
    return i18n.gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def _may_be_terminal(stream: Any) -> bool:
    """Whether rich could take ``stream`` for a terminal: a tty, or an environment that says it is one
    (rich's TTY_COMPATIBLE and FORCE_COLOR). When not, a command's progress needs no rich console."""
    if os.environ.get("TTY_COMPATIBLE", "") == "1" or os.environ.get("FORCE_COLOR") is not None:
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def progress_for(obj: Context, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich bar on a terminal, a few plain lines elsewhere, nothing with --quiet."""
    if obj.quiet:
        yield lambda n: None
        return
    # not a terminal (a service, cron, a pipe): rich is not imported at all (issue 23: 30 ms of CPU)
    stderr = _console("stderr") if _may_be_terminal(sys.stderr) else None
    if stderr is not None and stderr.is_terminal:
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


def record_os_user_mapping(archive: Archive, os_user: str, username: str, by: str, removed: bool = False) -> None:
    """Who may act as whom is on the record: one custody-ledger event per mapping made or removed.

    With the account's role, so that ``longwatch reindex`` can bring the mapping
    (and the account, without a password) back after the catalog is lost.
    """
    from longwatch.core import accounts, custody

    action = "removed" if removed else "mapped"
    found = accounts.account_named(archive.catalog, username)
    custody.Ledger.for_archive(archive).append([custody.CustodyEvent(
        type="policy assignment", agents=[custody.software_agent(), custody.person_agent(by, "authorizer")],
        detail=f"OS user {os_user} {action} {'from' if removed else 'to'} account {username} on {custody.host()}",
        extra={"action": f"os user {action}", "os_user": os_user, "account": username,
               "role": found.role if found else "", "host": custody.host()})])


def announce_first_administrator(archive: Archive, quiet: bool) -> None:
    """``longwatch init``: record the first administrator's mapping in the ledger and say how to go on.

    ``Archive.create`` made the account and acts for it (``archive.acting``) when the OS user's name can be
    an account name; otherwise nobody exists yet and the first ``users add`` makes the administrator.
    """
    from longwatch.core import accounts

    os_user = accounts.os_user()
    if archive.acting:
        record_os_user_mapping(archive, os_user, archive.acting, archive.acting)
        if not quiet:
            click.echo(_("First administrator: account {username}, used by the OS user {os_user}; give it a "
                         "password for the web with `longwatch users passwd {username}`.").format(
                username=archive.acting, os_user=os_user))
    elif not quiet:
        click.echo(_("No account was created: create the first administrator with `longwatch users add NAME "
                     "--role administrator`."))
