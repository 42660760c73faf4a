"""Where `longwatch ingest`'s fixed cost goes, phase by phase, in a fresh interpreter (issue 23).

    python benchmarks/ingest_phases.py ARCHIVE FILE

Does what the ingest command does, in its order, and prints one JSON object:
each phase's CPU seconds (this process, all threads) and wall seconds. The
copy-and-digest pass starts first, in a process of its own as the program
runs it (so its CPU is not in these figures); the imports are split by
library (each phase imports what the earlier ones have not; SQLAlchemy's
Core apart from its ORM, which an ingest without mapped classes would not
load), then come the plugin manager, the archive and its
catalog, configuring the mappers (which the first ORM query does), the
account, the signing key, the recovery check and the ingest of FILE
itself (its streaming pass, probes, signing, catalog rows and custody-ledger
append). ``benchmarks/cli_startup.py`` runs it and reports medians. A child
process's CPU (ffprobe, exiftool) is not in these figures.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PHASES: list[tuple[str, float, float]] = []
_last = [time.process_time(), time.perf_counter()]


def mark(name: str) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    PHASES.append((name, cpu - _last[0], wall - _last[1]))
    _last[:] = [cpu, wall]


def main(archive_dir: str, path: str) -> None:
    import click  # noqa: F401

    import longwatch.cli
    from longwatch import startup

    startup.pause()  # as the `longwatch` program does: no cyclic collector until the account is known
    mark("click and longwatch.cli")
    from longwatch.core.preservation import early

    # as the program does: the pass runs in a process of its own while the rest loads (its CPU is not counted here)
    started = early.start(archive_dir, Path(path), own_process=True)
    mark("start the copy-and-digest pass (settings, staging, its process)")
    import sqlalchemy
    mark("import SQLAlchemy's engine and SQL layer (Core)")
    import sqlalchemy.orm
    mark("import SQLAlchemy's ORM")
    import longwatch.core.catalog.models
    mark("import the catalog models")
    import longwatch.core.aip.signing
    mark("import cryptography, asn1crypto (signing)")
    import longwatch.core.archive
    import longwatch.core.custody
    mark("import the archive, custody ledger")
    from longwatch.core.preservation import ingest, publish
    mark("import the ingest pipeline (lxml, media, storage)")
    from longwatch import registry
    pm = registry.get_plugin_manager()
    mark("plugin manager (built-in plugins, entry points; connectors and jobs lazily)")
    from longwatch.core.archive import Archive
    archive = Archive.open(archive_dir, pm)
    assert archive.catalog is not None
    mark("open the archive and its catalog")
    from longwatch.core import accounts

    sqlalchemy.orm.configure_mappers()  # what the first ORM query does, measured apart
    mark(f"configure the {len(longwatch.core.catalog.models.Base.registry.mappers)} mappers (the first ORM query)")
    account = accounts.cli_account(archive.catalog, archive.root, "")
    assert account is not None
    archive.act_as(account.username)
    startup.resume()
    mark("the acting account (its queries)")
    assert archive.signer is not None
    mark("load the signing key")
    publish.recover(archive)
    mark("recovery check (staging, pending publications)")
    request = ingest.IngestRequest(path=Path(path), camera="", zone="", latitude=None, longitude=None,
                                   location_name="", start=None, title="", allow_duplicate=True,
                                   follow_symlinks=False)
    ingest.ingest(archive, request, early=started)
    mark("ingest() of the file (taking the pass over)")
    print(json.dumps({name: [cpu, wall] for name, cpu, wall in PHASES}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
