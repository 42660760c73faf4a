"""Built-in command plugin: local accounts for the web UI and API tokens for machines.

``longwatch users add/list/passwd/role`` and ``longwatch token create``.
Passwords are read from a prompt (hidden, asked twice) or from standard input
with ``--password-stdin``, never from the command line, where other users of
the machine could read them.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from longwatch.console import Context, emit_json, local_time, pass_obj, stdout
from longwatch.core import accounts
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _

ROLE = click.Choice(list(accounts.ROLES))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    return value


def _catalog(obj: Context) -> Any:
    archive = obj.archive()
    archive.catalog.upgrade()
    return archive.catalog


@click.group()
def users() -> None:
    """Local accounts of the web UI and their roles."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=ROLE, required=True)
@click.option("--language", type=click.Choice(["", "en", "ko"]), default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_obj
def add(obj: Context, username: str, role: str, language: str, password_stdin: bool) -> None:
    """Create an account."""
    accounts.add_user(_catalog(obj), username, _password(password_stdin), role, language)
    if not obj.quiet:
        click.echo(_("Added user {username} ({role}).").format(username=username, role=role))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_users(obj: Context, as_json: bool) -> None:
    """List accounts (keys: username, role, language, active, created)."""
    rows = accounts.users(_catalog(obj))
    if as_json:
        emit_json({"users": [{"username": u.username, "role": u.role, "language": u.language,
                              "active": u.active, "created": u.created_at} for u in rows]})
        return
    from rich.table import Table

    table = Table(_("user"), _("role"), _("active"), _("created"), box=None)
    for u in rows:
        table.add_row(u.username, _(accounts.ROLES.get(u.role, u.role)), _("yes") if u.active else _("no"),
                      local_time(u.created_at, obj.archive()))
    stdout.print(table)


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_obj
def passwd(obj: Context, username: str, password_stdin: bool) -> None:
    """Set a new password (signs the user out everywhere)."""
    accounts.set_password(_catalog(obj), username, _password(password_stdin))
    if not obj.quiet:
        click.echo(_("Password changed for {username}.").format(username=username))


@users.command("role")
@click.argument("username")
@click.argument("role", type=ROLE)
@pass_obj
def role(obj: Context, username: str, role: str) -> None:
    """Give a user another role (signs the user out everywhere)."""
    accounts.set_role(_catalog(obj), username, role)
    if not obj.quiet:
        click.echo(_("{username} is now {role}.").format(username=username, role=role))


@click.group()
def token() -> None:
    """API tokens for machines (Authorization: Bearer ...)."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expire after this many days.")
@pass_obj
def create_token(obj: Context, username: str, name: str, days: int | None) -> None:
    """Create a token acting as USERNAME; it is printed once and never stored."""
    click.echo(accounts.create_token(_catalog(obj), username, name, days))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(users)
    cli.add_command(token)
