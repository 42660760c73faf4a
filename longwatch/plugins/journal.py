"""The built-in journal plugin: decisions committed to the catalog reach the custody ledger at once.

The catalog writes each change to a decision table into its journal in the
same transaction (``longwatch.core.catalog.journal``); it sits below the
ledger and cannot append to it. When a catalog opens (hook
``prepare_catalog``), this plugin listens for the commits of its sessions
and, after a commit that journaled something, has
:func:`longwatch.core.custody.decisions.drain` append the rows to the
archive's ledger. A bare ``Catalog(url)`` (no archive), or an archive that
``longwatch init`` is still making, leaves them for the next drain. Light
at import, as ``longwatch.plugins.analytics`` is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from longwatch.hookspecs import hookimpl

if TYPE_CHECKING:
    from longwatch.core.catalog import Catalog


@hookimpl
def prepare_catalog(catalog: Catalog) -> None:
    def after_commit(session: Any) -> None:
        from longwatch.core.catalog import journal

        archive = catalog.archive
        if archive is None or not journal.journaled(session):
            return
        if not (archive.root / "longwatch.toml").exists():
            return  # `longwatch init` before the archive exists: init drains once it does
        session.info.pop("journal_rows", None)
        from longwatch.core.custody import decisions

        decisions.drain(archive)

    event.listen(catalog.session_factory, "after_commit", after_commit)
