"""Whether a storage location's folder is the one the catalog knows: an empty mount point is not (issue 23).

Why: a mount that failed (a network share, a disk that did not come up)
leaves its mount point behind, an empty folder on another file system.
Free space and a listing answer from it as from any folder, so a check that
asks only "does the location answer?" passes, and a process would then
serve every package as missing and write new ones where nobody looks. The
catalog knows better: which packages have a copy on the location, and
whether the custody ledger was mirrored there. A location that holds
neither a package nor the ledger's mirror, where the catalog records one or
the other, is refused with W055 by ``/readyz`` and by a worker on start.
"""

from __future__ import annotations

import itertools

from sqlalchemy import select

from longwatch.core.archive import Archive
from longwatch.core.catalog.models import Copy
from longwatch.core.custody import mirror
from longwatch.errors import LongwatchError


def holds_anything(archive: Archive, location: str) -> bool:
    """The location holds at least one package or one object of the ledger's mirror (two short listings)."""
    adapter = archive.storage(location)
    return (next(itertools.islice(adapter.package_ids(), 1), None) is not None
            or next(itertools.islice(adapter.list(mirror.PREFIX), 1), None) is not None)


def expected_contents(archive: Archive, location: str) -> bool:
    """The catalog records a package copy on the location, or the ledger's mirror was written there."""
    with archive.catalog.engine.connect() as conn:
        copy = conn.execute(select(Copy.package_id).where(Copy.location == location).limit(1)).first()
        return copy is not None or mirror.written_before(conn, location)


def check_not_emptied(archive: Archive, location: str | None = None) -> None:
    """W055 when ``location`` (the primary by default) is empty where the catalog says something is stored.

    Reads only, and cheaply: one package and one mirror object are enough to
    pass, and the catalog is asked only when the location holds neither (its
    copies are found through the index on their location).
    """
    name = location or archive.settings.primary_location
    try:
        archive.storage(name).free_bytes()
    except OSError:
        return  # no folder at all is not an empty one: what reads it says so (W052 in /readyz, L024 for the ledger)
    if holds_anything(archive, name) or not expected_contents(archive, name):
        return
    raise LongwatchError("W055", location=name)
