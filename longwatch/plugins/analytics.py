"""The built-in analytics plugin: every catalog keeps its analytics rollups in step with its events table.

When a catalog opens (hook ``prepare_catalog``), this plugin attaches
:func:`longwatch.core.public.analytics_rollups.keep_rollups` to that catalog's own
session factory, so every session of it (CLI, web, workers, a bare
``Catalog(url)``) folds the events it adds or deletes into the rollups, in
the same transaction. The catalog, the lowest layer, thus never imports
analytics. Registered by import path like any plugin and so imported by every
command, this module stays light (as ``longwatch.plugins.web`` does):
``core/public/analytics_rollups.py`` is imported when a catalog opens, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from longwatch.hookspecs import hookimpl

if TYPE_CHECKING:
    from longwatch.core.catalog import Catalog


@hookimpl
def prepare_catalog(catalog: Catalog) -> None:
    # Imported here, not at the top: every command imports the built-in plugins, and only those
    # that open a catalog need analytics (and the catalog models it loads).
    from longwatch.core.public import analytics_rollups

    analytics_rollups.keep_rollups(catalog)
