"""The replication policy: how many copies a package needs, and on which locations.

Preservation practice (LOCKSS, OCFL) keeps several independent copies, checks
each on a cycle and repairs a bad one from a copy that verifies. This module
only reads the ``[storage]`` section of longwatch.toml: ``[storage.replication]``
gives a default policy and one per retention class. Making the copies is
:mod:`longwatch.core.storage.replicate`; checking and repairing them,
:mod:`~longwatch.core.storage.audit`; what the catalog records of each copy,
:mod:`~longwatch.core.storage.copies`; tiers, :mod:`~longwatch.core.storage.tiers`;
size caps, :mod:`~longwatch.core.storage.caps`; the stores' object lock,
:mod:`~longwatch.core.storage.locks`.

A package's retention class is records knowledge: storage asks for it through
the ``package_record_class`` hook (answered by the built-in
``longwatch.core.records.locks``), never by importing the records feature.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from longwatch import config
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError


@dataclass(frozen=True)
class Policy:
    """How many copies, and on which locations (first the ones a copy should go to)."""

    copies: int
    locations: tuple[str, ...]


def _storage_section(archive: Archive) -> dict[str, Any]:
    path = archive.root / config.CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LongwatchError("A003", path=path, detail=str(exc)) from exc
    storage = data.get("storage", {})
    return storage if isinstance(storage, dict) else {}


def _parse_policy(name: str, spec: Any, archive: Archive) -> Policy:
    if isinstance(spec, list):
        spec = {"locations": spec}
    if not isinstance(spec, dict):
        raise LongwatchError("R005", policy=name, detail="expected a list of locations or a table")
    locations = tuple(str(x) for x in spec.get("locations", [archive.settings.primary_location]))
    copies = int(spec.get("copies", len(locations)))
    for location in locations:
        if location not in archive.settings.locations:
            raise LongwatchError("R003", location=location)
    if copies < 1 or copies > len(locations):
        raise LongwatchError("R005", policy=name, detail=f"copies={copies} but {len(locations)} locations")
    return Policy(copies=copies, locations=locations)


def policy_for(archive: Archive, retention_class: str | None = None) -> Policy:
    """The policy of a retention class, else the default (one copy on the primary when none is set)."""
    section = _storage_section(archive).get("replication", {})
    if not isinstance(section, dict):
        section = {}
    classes = _class_policies(archive)
    if retention_class and retention_class in classes:
        return _parse_policy(retention_class, classes[retention_class], archive)
    if "default" in section:
        return _parse_policy("default", section["default"], archive)
    return Policy(copies=1, locations=(archive.settings.primary_location,))


def policy_of(archive: Archive, package_id: str, retention_class: str | None = None) -> Policy:
    """The policy for one package: that of its retention class when none is given.

    Evidence may ask for more copies than the default, so every path that
    makes or counts copies (ingest, jobs, ``longwatch replicate``, a drop folder
    releasing its source) must use the package's own class. The class is
    looked up only when the archive configures per-class policies.
    """
    if retention_class is None and _class_policies(archive):
        retention_class = _record_class(archive, package_id)
    return policy_for(archive, retention_class)


def _record_class(archive: Archive, package_id: str) -> str:
    """The package's retention class, from whichever plugin answers ``package_record_class`` first.

    No answer is P003, not the default policy: a class that asks for more
    copies must never be replaced by a guess (a drop folder would release
    its source too early).
    """
    answer = archive.pm.hook.package_record_class(archive=archive, package_id=package_id)
    if not isinstance(answer, str):
        raise LongwatchError("P003", detail=f"package_record_class answered {answer!r}, not a class id"
                             if answer is not None else "no plugin answers package_record_class "
                             "(the built-in longwatch.core.records.locks is not registered)")
    return answer


def _class_policies(archive: Archive) -> dict[str, Any]:
    section = _storage_section(archive).get("replication", {})
    classes = section.get("classes", {}) if isinstance(section, dict) else {}
    return classes if isinstance(classes, dict) else {}


def location_options(archive: Archive, location: str) -> dict[str, Any]:
    spec = archive.settings.locations.get(location)
    if spec is None:
        raise LongwatchError("R003", location=location)
    return spec.options
