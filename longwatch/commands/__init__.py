"""Built-in command plugins.

Each module here adds its commands through the ``register_commands`` hook,
exactly as a third-party plugin would; ``cli.py`` keeps only the core verbs.
This package is the one built-in plugin in ``registry.DEFAULT_PLUGINS`` that
answers the hook for all of them, so building the plugin manager (which every
command does) imports none of them.

A command line that imports only the running command's module was measured
(docs/performance.md, "Start-up") but is not in this release.
"""

from __future__ import annotations

import importlib
from typing import Any

from longwatch.hookspecs import hookimpl

#: the modules of this package that register commands
MODULES = ("access_requests", "analytics", "connectors", "custody", "dataset", "detect", "events", "export", "jobs",
           "keys", "retention", "search", "storage", "users", "witness")


@hookimpl
def register_commands(cli: Any) -> None:
    """Every built-in command: this hook imports the command modules, the plugin manager does not."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}").register_commands(cli=cli)
