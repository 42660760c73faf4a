"""Built-in command plugins.

Each module here adds its commands through a ``register_commands`` function,
exactly as a third-party plugin's hook would; ``cli.py`` keeps only the core verbs.

The ``longwatch`` group imports a module only when one of its commands runs
(issue 23: importing them all cost every command, ``--help`` included, most of
the core): ``index.COMMANDS`` names each command's module and help, so that
``--help`` lists them without an import. This package also answers the
``register_commands`` hook for all of them, for a caller that builds a whole
command tree from the plugin manager.
"""

from __future__ import annotations

import importlib
from typing import Any

from longwatch.hookspecs import hookimpl

#: the modules of this package that register commands
MODULES = ("access_requests", "analytics", "connectors", "custody", "dataset", "detect", "events", "export", "jobs",
           "keys", "retention", "search", "storage", "uploads", "users", "witness")


@hookimpl
def register_commands(cli: Any) -> None:
    """Every built-in command: this hook imports the command modules, the plugin manager does not."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}").register_commands(cli=cli)
