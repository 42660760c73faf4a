"""``longwatch db copy``: grow from SQLite to PostgreSQL by copying the catalog and proving the copy.

The work is :mod:`longwatch.core.catalog.transfer` (rows, sequences, full
text, counts and probe searches); here the command adds what only the whole
archive can check, a full verification of the custody ledger against the
copy's index, and switches the archive's configuration only after all of it
passed. Until then the archive keeps using its old catalog, untouched.
"""

from __future__ import annotations

import dataclasses

import click

from longwatch import config
from longwatch.console import Context, emit_json, progress_for
from longwatch.core import custody
from longwatch.core.aip import signing
from longwatch.core.archive import Archive
from longwatch.core.catalog import Catalog, transfer
from longwatch.core.custody import decisions
from longwatch.errors import LongwatchError
from longwatch.i18n import gettext as _


def copy_catalog(obj: Context, url: str, switch: bool, as_json: bool) -> None:
    archive = obj.archive()
    decisions.drain(archive)  # decisions still waiting for the ledger are in it before the copy is checked
    target = Catalog(url, archive.pm)
    shown = target.engine.url.render_as_string(hide_password=True)
    try:
        rows = sum(transfer.count_rows(archive.catalog).values())
        with progress_for(obj, _("copying the catalog"), rows) as advance:
            report = transfer.copy(archive.catalog, target, progress=advance)
        differs = [f"{name}: {a} -> {b}" for name, (a, b) in report.tables.items() if a != b]
        differs += [f"search {name!r}" for name, same in report.searches if not same]
        moved = Archive(dataclasses.replace(archive.settings, catalog_url=url), archive.pm)
        ledger = custody.Ledger.for_archive(moved)
        tsa_cert = signing.load_certificate(ledger.settings.tsa_cert) if ledger.settings.tsa_cert else None
        verified = custody.verify_ledger(ledger, list(archive.trusted), [], tsa_cert=tsa_cert)
        differs += [f"[{p.code}] {p}" for p in verified.problems[:3]]
        if differs:
            raise LongwatchError("A011", url=shown, detail="; ".join(differs[:5]))
        if switch:
            config.set_catalog_url(archive.root, url)
    finally:
        target.engine.dispose()
    if as_json:
        emit_json({"url": shown, "tables": {k: v[1] for k, v in report.tables.items()},
                   "searches": [name for name, _same in report.searches], "ledger_entries": verified.entries,
                   "switched": switch})
        return
    click.echo(_("Copied the catalog to {url}: {rows} rows in {tables} tables, {searches} searches answered "
                 "alike, the custody ledger verified ({entries} entries).").format(
        url=shown, rows=sum(b for _a, b in report.tables.values()), tables=len(report.tables),
        searches=len(report.searches), entries=verified.entries))
    click.echo(_("The archive now uses {url} (longwatch.toml, [catalog] url). Keep the old catalog file until you "
                 "have checked the new one.").format(url=shown) if switch else
               _("To switch, set [catalog] url in longwatch.toml (or LONGWATCH_CATALOG_URL) to the new URL, or run "
                 "the command again with --switch on an empty database."))
