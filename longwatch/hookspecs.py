"""Every hook a plugin can implement. Each is documented in docs/plugins.md.

Plugins may accept fewer arguments than a spec names, so specs can grow
without breaking them (pluggy passes only what the implementation asks for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from datetime import datetime

    from longwatch.core.archive import Archive
    from longwatch.core.catalog import Catalog
    from longwatch.core.custody.ledger import Ledger
    from longwatch.core.jobs.queue import Task
    from longwatch.core.storage.locks import Protection
    from longwatch.plugins.detectors.base import Detector

hookspec = pluggy.HookspecMarker("longwatch")
hookimpl = pluggy.HookimplMarker("longwatch")


@hookspec
def register_storage_adapters() -> list[type[Any]]:  # type: ignore[empty-body]
    """Return StorageAdapter subclasses; each one's NAME is the key used in longwatch.toml."""


@hookspec
def register_detectors() -> list[type[Detector]]:  # type: ignore[empty-body]
    """Return Detector subclasses; each one's NAME is what ``longwatch detect --detector`` takes."""


@hookspec
def register_camera_connectors() -> list[type[Any]]:  # type: ignore[empty-body]
    """Return CameraConnector subclasses; each one's NAME is the key of ``longwatch watch NAME``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``longwatch`` command group ``cli``."""


@hookspec
def register_blueprints(app: Any) -> list[Any]:  # type: ignore[empty-body]
    """Return Flask blueprints to mount on the web application ``app``."""


@hookspec
def prepare_metadata(package_id: str, metadata: dict[str, Any], technical: dict[str, Any]) -> None:
    """Change or add descriptive fields in ``metadata`` before PREMIS and Dublin Core are written."""


@hookspec
def package_stored(package_id: str, location: str, summary: dict[str, Any]) -> None:
    """Called after a package is published on storage and catalogued."""


@hookspec
def fixity_checked(package_id: str | None, path: str, ok: bool, problems: list[dict[str, Any]]) -> None:
    """Called after a package has been verified, with the outcome and every problem found."""


@hookspec
def prepare_catalog(catalog: Catalog) -> None:
    """Called when a catalog opens (an archive's, or ``Catalog(url)``), before any of its sessions is used.

    Attach what every session of this catalog needs, e.g. SQLAlchemy listeners on
    ``catalog.session_factory`` (that catalog's sessions only, never the global ``Session``
    class) or on ``catalog.engine``. The built-in ``longwatch.plugins.analytics`` keeps the
    analytics rollups in step with the events table this way.
    """


@hookspec
def register_tasks() -> list[Task]:  # type: ignore[empty-body]
    """Return job Tasks (``longwatch.core.jobs.queue.Task``); each one's name is what ``enqueue`` takes."""


@hookspec
def prepare_worker(archive: Archive) -> None:
    """Called when a job worker starts, before it takes a job: put right what a killed worker left."""


@hookspec(firstresult=True)
def package_record_class(archive: Archive, package_id: str) -> str | None:
    """Return the retention class id of a stored package (storage asks it for a per-class replication policy).

    The first answer that is not None wins; the built-in ``longwatch.core.records.locks`` answers from the
    catalog's assignment, else the active schedule.
    """


@hookspec(firstresult=True)
def package_protection(archive: Archive, package_id: str, now: datetime | None) -> Protection | None:
    """Return what protects a stored package (active holds, retain-until date) for the stores' object lock.

    The first answer that is not None wins; the built-in ``longwatch.core.records.locks`` answers from the
    catalog's legal holds and retention assignment.
    """


@hookspec
def replay_ledger(archive: Archive, ledger: Ledger) -> None:
    """Called by ``longwatch reindex`` once the packages are read: rebuild from the custody ledger what this
    plugin keeps in the catalog.

    ``ledger.entries(mentioning=b'"my_key"')`` yields the entries in ledger order, straight from the
    segments; apply them in that order, so that later facts win, and idempotently (reindex runs on a
    catalog that may still hold the rows). The built-in ``longwatch.core.records.rebuild`` restores the
    legal holds. The return value is ignored.
    """
