"""``--help`` in the reader's language: the command's help, its options' help and click's own words.

Why copies: the help texts are English msgids written once in the commands (docstrings and ``help=``);
a Korean reader asking for help gets a copy of the command whose texts went through gettext, and the
command objects themselves stay English for the next reader, in this process or a test. Only a help
request gets a copy (``LongwatchGroup.resolve_command``); running a command never does.

``scripts/extract_help.py`` puts every help text into the catalog template, as pybabel cannot read
docstrings, and ``tests/test_cli_help.py`` checks that each has its Korean.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click

from longwatch import i18n
from longwatch.i18n import N_

#: click's own words, as click writes them in English (click translates them through the "messages" domain)
CLICK_WORDS = (N_("Usage:"), N_("Options"), N_("Commands"), N_("Arguments"), N_("Show this message and exit."),
               N_("Show the version and exit."))
HELP_OPTIONS = ("-h", "--help")


def help_msgid(text: str | None) -> str | None:
    """The msgid of a help text: as click shows it (dedented, up to a form feed)."""
    if not text:
        return None
    return inspect.cleandoc(text).partition("\f")[0].strip() or None


def _translate(text: str | None) -> str | None:
    msgid = help_msgid(text)
    return i18n.gettext(msgid) if msgid else text


class HelpFormatter(click.HelpFormatter):
    """Headings, the usage prefix and the help option's line in the reader's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else i18n.gettext("Usage:") + " ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(i18n.gettext(heading))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, i18n.gettext(text) if text in CLICK_WORDS else text) for term, text in rows],
                         col_max, col_spacing)


class HelpContext(click.Context):
    formatter_class = HelpFormatter


def translated(command: click.Command, lang: str | None = None) -> click.Command:
    """A copy of ``command`` (and of its subcommands) with its help in ``lang``, else the current language.

    ``lang`` is the group's ``--lang``: click picks the subcommand before the group's callback sets it.
    """
    if lang:
        token = i18n.set_language(lang)
        try:
            return translated(command)
        finally:
            i18n.reset_language(token)
    if i18n.current_language() == "en":
        return command
    new = copy.copy(command)
    new.context_class = HelpContext
    new.help = _translate(command.help)
    new.short_help = _translate(command.short_help)
    new.params = [_translated_param(p) for p in command.params]
    if isinstance(command, click.Group) and isinstance(new, click.Group):
        new.commands = {name: translated(sub) for name, sub in command.commands.items()}
    return new


def _translated_param(param: click.Parameter) -> click.Parameter:
    if not getattr(param, "help", None):
        return param
    new = copy.copy(param)
    new.help = _translate(new.help)
    return new


def asks_for_help(args: Sequence[str]) -> bool:
    return any(a in HELP_OPTIONS for a in args)


def language_option(args: Sequence[str]) -> str | None:
    """``--lang ko`` or ``--lang=ko`` among the arguments: ``--help`` is eager and is shown before the
    group's options are read, so the language has to be picked from the raw arguments."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def help_texts(command: click.Command, ctx: click.Context) -> Iterator[str]:
    """Every help text of ``command`` and its subcommands (for the catalog and its test).

    Only longwatch's own commands: a third-party plugin's commands bring their own translations.
    """
    module = getattr(command.callback, "__module__", "") or ""
    if not module.startswith("longwatch."):
        return
    for text in (command.help, command.short_help, *(getattr(p, "help", None) for p in command.params)):
        msgid = help_msgid(text)
        if msgid:
            yield msgid
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from help_texts(sub, ctx)


def all_help_texts(root: Any) -> list[str]:
    with click.Context(root) as ctx:
        return sorted(set(help_texts(root, ctx)))
