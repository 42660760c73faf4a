"""Records answers to ``longwatch reindex``: what the records feature keeps in the catalog, rebuilt from the ledger.

Reindex (:mod:`longwatch.core.preservation.reindex`) reads the packages and
then replays the custody ledger, but it sits below the records feature and
never imports it. It calls the ``replay_ledger`` hook instead, answered here:
the legal holds come back from their "hold placed" and "hold released"
entries (:func:`longwatch.core.records.holds.replay`), so losing the catalog
forgets no hold. Registered by import path in ``registry.DEFAULT_PLUGINS``.
"""

from __future__ import annotations

from longwatch.core import accounts
from longwatch.core.archive import Archive
from longwatch.core.custody import Ledger
from longwatch.core.records import assignment, holds
from longwatch.hookspecs import hookimpl


@hookimpl
def replay_ledger(archive: Archive, ledger: Ledger) -> None:
    """Every retention assignment, the active schedule and every legal hold as the ledger last recorded them,
    and the OS users mapped to accounts, so an archive whose catalog was lost still has someone who may act."""
    assignment.replay(archive, ledger.entries(mentioning=b'"retention'))
    holds.replay(archive, ledger.entries(mentioning=b'"legal_hold"'))
    accounts.replay_os_user_mappings(archive.catalog, ledger.entries(mentioning=b'"os user '))
