"""Saved searches: a search's filters kept under a name by one account, to run again (issue 22).

Each account sees and deletes only its own. The filters are kept as the search form had them (the web
page and the API read them back into a query the same way), at most :data:`MAX_PER_ACCOUNT` per account
so a script cannot fill the catalog. Saving under a name the account already uses replaces that search:
"save" after changing a filter is what people expect.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from longwatch import clock
from longwatch.core.catalog.models import SavedSearch
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.catalog import Catalog

MAX_NAME = 100
MAX_PER_ACCOUNT = 200
#: the filters a saved search may keep (the search form's fields; a value is a string, cameras a list)
KEYS = ("start", "end", "camera", "zone", "purpose", "near", "radius", "bbox", "event", "min_confidence",
        "case", "tag", "q")
MAX_VALUE = 400


def _clean(criteria: dict[str, Any]) -> dict[str, Any]:
    """Only known filters with a value, strings bounded; cameras and tags as lists of strings."""
    out: dict[str, Any] = {}
    for key in KEYS:
        value = criteria.get(key)
        if isinstance(value, list):
            items = [str(v).strip()[:64] for v in value if str(v).strip()][:500]
            if items:
                out[key] = items
        elif value is not None and str(value).strip():
            out[key] = str(value).strip()[:MAX_VALUE]
    return out


def as_dict(row: SavedSearch) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "owner": row.owner, "criteria": json.loads(row.criteria or "{}"),
            "created_at": clock.iso_z(row.created_at)}


def save(catalog: Catalog, owner: str, name: str, criteria: dict[str, Any]) -> dict[str, Any]:
    """Keep ``criteria`` as ``owner``'s search ``name`` (replacing one of the same name); W093, W094."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise LongwatchError("W093", limit=MAX_NAME)
    kept = json.dumps(_clean(criteria), ensure_ascii=False, sort_keys=True)
    with catalog.session() as s:
        row = s.scalars(select(SavedSearch).where(SavedSearch.owner == owner, SavedSearch.name == name)).first()
        if row is None:
            count = int(s.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.owner == owner))
                        or 0)
            if count >= MAX_PER_ACCOUNT:
                raise LongwatchError("W094", count=count)
            row = SavedSearch(id=str(uuid.uuid4()), owner=owner, name=name, created_at=clock.now())
            s.add(row)
        row.criteria = kept
        s.flush()
        return as_dict(row)


def listing(catalog: Catalog, owner: str) -> list[dict[str, Any]]:
    """The account's saved searches, by name."""
    with catalog.session() as s:
        return [as_dict(r) for r in s.scalars(select(SavedSearch).where(SavedSearch.owner == owner)
                                              .order_by(SavedSearch.name))]


def get(catalog: Catalog, owner: str, search_id: str) -> dict[str, Any]:
    """One of the account's saved searches; W095 for another's or none (the same answer: no hint which)."""
    with catalog.session() as s:
        row = s.get(SavedSearch, search_id[:36])
        if row is None or row.owner != owner:
            raise LongwatchError("W095", search_id=search_id[:36])
        return as_dict(row)


def delete(catalog: Catalog, owner: str, search_id: str) -> None:
    with catalog.session() as s:
        row = s.get(SavedSearch, search_id[:36])
        if row is None or row.owner != owner:
            raise LongwatchError("W095", search_id=search_id[:36])
        s.delete(row)
