"""Built-in command plugin: the accounts of the web UI and of the command line, and API tokens.

``longwatch users add/list/passwd/role/map-os-user``, ``longwatch token
create`` and ``longwatch login/logout/whoami``. The command line and the web
share one set of accounts and roles (core/accounts.py); each command here needs
the same permission as its page (``users:write`` to change accounts).
Passwords are read from a prompt (hidden, asked twice) or from standard input
with ``--password-stdin``, never from the command line, where other users of
the machine could read them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from longwatch.console import Context, emit_json, local_time, pass_obj, record_os_user_mapping, stdout
from longwatch.core import accounts
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.i18n import _

ROLE = click.Choice(list(accounts.ROLES))


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt(_("Password"), hide_input=True, confirmation_prompt=confirm)
    return value


def _catalog(obj: Context) -> Any:
    archive = obj.archive()
    return archive.catalog  # upgraded when behind (Catalog.ensure_current)


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
    """Create an account (the first account of an archive: an administrator, mapped to this OS user)."""
    catalog = _catalog(obj)
    first = not accounts.users(catalog)
    by = username
    if not first:
        by = obj.account("users:write").username
    elif role != "administrator":
        raise LongwatchError("W009", role=role, permission="users:write")
    accounts.add_user(catalog, username, _password(password_stdin), role, language, by=by)
    if first and accounts.os_user():
        accounts.map_os_user(catalog, accounts.os_user(), username, username)
        record_os_user_mapping(obj.archive(), accounts.os_user(), username, username)
    if not obj.quiet:
        click.echo(_("Added user {username} ({role}).").format(username=username, role=role))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def list_users(obj: Context, as_json: bool) -> None:
    """List accounts (keys: username, role, language, active, created)."""
    obj.account("users:read")
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
    """Set a new password (signs the user out everywhere); your own, or anyone's as an administrator."""
    me = obj.account("self")
    if me.username != username:
        obj.account("users:write")
    accounts.set_password(_catalog(obj), username, _password(password_stdin), by=me.username)
    if not obj.quiet:
        click.echo(_("Password changed for {username}.").format(username=username))


@users.command("role")
@click.argument("username")
@click.argument("role", type=ROLE)
@pass_obj
def role(obj: Context, username: str, role: str) -> None:
    """Give a user another role (signs the user out everywhere)."""
    admin = obj.account("users:write")
    accounts.set_role(_catalog(obj), username, role, by=admin.username)
    if not obj.quiet:
        click.echo(_("{username} is now {role}.").format(username=username, role=role))


@users.command("map-os-user")
@click.argument("os_user")
@click.argument("username", required=False)
@click.option("--remove", is_flag=True, help="Remove the mapping of OS_USER instead.")
@pass_obj
def map_os_user(obj: Context, os_user: str, username: str | None, remove: bool) -> None:
    """Let commands run by OS_USER (a service: worker, connector, cron) act as account USERNAME.

    Recorded in the catalog and in the custody ledger. Without USERNAME, lists the mappings.
    """
    if username is None and not remove:
        obj.account("users:read")
        for os_name, account, by, at in accounts.os_user_mappings(_catalog(obj)):
            click.echo(f"{os_name}\t{account}\t{by}\t{local_time(at, obj.archive())}")
        return
    admin = obj.account("users:write")
    catalog = _catalog(obj)
    if remove:
        current = dict((m[0], m[1]) for m in accounts.os_user_mappings(catalog)).get(os_user)
        if current is None:
            raise LongwatchError("W007", username=os_user)
        accounts.unmap_os_user(catalog, os_user)
        record_os_user_mapping(obj.archive(), os_user, current, admin.username, removed=True)
        if not obj.quiet:
            click.echo(_("OS user {os_user} no longer acts as {username}.").format(os_user=os_user,
                                                                                username=current))
        return
    assert username is not None
    accounts.map_os_user(catalog, os_user, username, admin.username)
    record_os_user_mapping(obj.archive(), os_user, username, admin.username)
    if not obj.quiet:
        click.echo(_("OS user {os_user} now acts as {username}.").format(os_user=os_user, username=username))


@click.command()
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_obj
def login(obj: Context, username: str, password_stdin: bool) -> None:
    """Sign in to this archive as USERNAME; later commands of this OS user act for that account.

    A token valid for 30 days is kept in a file only this OS user can read (mode 0600).
    """
    archive = obj.archive()
    catalog = _catalog(obj)
    path = accounts.token_file(archive.root)
    account = accounts.cli_login(catalog, username, _password(password_stdin, confirm=False), path)
    if not obj.quiet:
        click.echo(_("Signed in as {username} ({role}).").format(username=account.username,
                                                                 role=_(accounts.ROLES[account.role])))


@click.command()
@pass_obj
def logout(obj: Context) -> None:
    """Sign out of this archive: the stored token is revoked and its file removed."""
    archive = obj.archive()
    signed_in = accounts.cli_logout(_catalog(obj), accounts.token_file(archive.root))
    if not obj.quiet:
        click.echo(_("Signed out.") if signed_in else _("Not signed in."))


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def whoami(obj: Context, as_json: bool) -> None:
    """The account this OS user's commands act for, and how it was found (keys: username, role, os_user, by)."""
    account = obj.account()
    archive = obj.archive()
    if os.environ.get("LONGWATCH_TOKEN"):
        by = "token"
    elif accounts.read_token(accounts.token_file(archive.root)):
        by = "login"
    else:
        by = "os-user"
    if as_json:
        emit_json({"username": account.username, "role": account.role, "os_user": accounts.os_user(), "by": by})
        return
    click.echo(_("{username} ({role}), for OS user {os_user} ({by})").format(
        username=account.username, role=_(accounts.ROLES[account.role]), os_user=accounts.os_user(), by=by))


@click.group()
def token() -> None:
    """API tokens for machines (Authorization: Bearer ...)."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=accounts.TOKEN_DAYS, show_default=True,
              help="Expire after this many days.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(list(accounts.SCOPES)),
              help="What the token may do (repeat for several; default all): it never does more than "
                   "USERNAME's role allows.")
@pass_obj
def create_token(obj: Context, username: str, name: str, days: int, scopes: tuple[str, ...]) -> None:
    """Create a token acting as USERNAME; it is printed once and never stored."""
    me = obj.account("self")
    if me.username != username:
        obj.account("users:write")
    click.echo(accounts.create_token(_catalog(obj), username, name, days, scopes or accounts.DEFAULT_SCOPES,
                                     by=me.username))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(users)
    cli.add_command(token)
    cli.add_command(login)
    cli.add_command(logout)
    cli.add_command(whoami)
