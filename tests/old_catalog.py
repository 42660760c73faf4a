"""Rows written into a catalog at an older revision, as that revision's code wrote them.

A migration test upgrades to an old revision, adds rows, then upgrades. The ORM
models are the newest revision's: inserting through them names columns an old
schema lacks (0039 added the upload provenance of packages). This inserts only
the columns the database has, with the models' Python defaults.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, column, insert, table
from sqlalchemy import inspect as inspect_db

from longwatch.core.catalog import Catalog
from longwatch.core.catalog.models import SEARCHED, Clip, Package, terms


def _values(model: Table, obj: Any, present: set[str]) -> dict[str, Any]:
    out = {}
    for col in model.columns:
        if col.name not in present:
            continue
        value = getattr(obj, col.key, None)
        if value is None and col.default is not None and col.default.is_scalar:
            value = col.default.arg
        if value is None and col.primary_key and col.autoincrement:
            continue
        out[col.name] = value
    return out


def add_package(catalog: Catalog, package: Package) -> None:
    """``catalog.add_package`` for a catalog at an older revision: the package and its clips."""
    package.search_terms = terms.document(*(getattr(package, f) for f in SEARCHED))
    names = inspect_db(catalog.engine)
    packages = {c["name"] for c in names.get_columns("packages")}
    clips = {c["name"] for c in names.get_columns("clips")}
    with catalog.engine.begin() as conn:  # lightweight tables: the models' tables would add the new columns' defaults
        values = _values(Package.__table__, package, packages)
        conn.execute(insert(table("packages", *map(column, values))).values(**values))
        for clip in package.clips:
            clip.package_id = package.id
            values = _values(Clip.__table__, clip, clips)
            conn.execute(insert(table("clips", *map(column, values))).values(**values))
