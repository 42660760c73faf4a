"""Catalog reads for the web: filters available now, and what each role may see.

The search branch brings full-text and facet filters; :class:`PackageFilter`
is the one object the list page and the API build, so those filters plug in
here. Scoped roles (investigators) see only the packages they uploaded and
those of the cases shared with them (``longwatch cases share``), and only those
cases: every page and API view that takes a case or a package asks here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from longwatch.clock import parse_time
from longwatch.core.accounts import Account
from longwatch.core.archive import Archive
from longwatch.core.catalog import reference
from longwatch.core.catalog.models import Case, CaseMember, CasePackage, Clip, Package, Upload
from longwatch.errors import LongwatchError
from longwatch.web import numbers

MAX_LIMIT = 500
#: Counting stops here: an exact count of a million rows costs a full scan on every page view.
COUNT_CAP = 10_000
CAMERA_CACHE_SECONDS = 60.0
_camera_cache: dict[str, tuple[float, list[str]]] = {}


@dataclass
class PackageFilter:
    camera: str = ""
    start: datetime | None = None  # recordings that end after this
    end: datetime | None = None  # recordings that start before this
    limit: int = 50
    offset: int = 0

    @classmethod
    def from_args(cls, args: Any, default_limit: int = 50) -> PackageFilter:
        """Parse query arguments; bad values are W012 errors naming the parameter."""
        f = cls(camera=(args.get("camera") or "").strip()[:64])
        for name in ("start", "end"):
            text = (args.get(name) or "").strip()
            if text:
                try:
                    setattr(f, name, parse_time(text))
                except LongwatchError as exc:
                    raise LongwatchError("W012", name=name, detail=exc.render()) from exc
        for name, default, top in (("limit", default_limit, MAX_LIMIT), ("offset", 0, None)):
            text = args.get(name)
            if text in (None, ""):
                setattr(f, name, default)
                continue
            if not numbers.is_whole(str(text)):  # '１２３', '²' or 40 digits: not a number the catalog holds
                raise LongwatchError("W012", name=name, detail="not a whole number")
            value = int(text)
            if value < (1 if name == "limit" else 0) or (top is not None and value > top):
                raise LongwatchError("W012", name=name, detail=f"out of range (limit 1..{MAX_LIMIT}, offset >= 0)")
            setattr(f, name, value)
        return f

    def as_args(self) -> dict[str, str]:
        out = {"camera": self.camera, "start": self.start.isoformat() if self.start else "",
               "end": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in out.items() if v}


#: Package statuses of footage that is gone: the package is a tombstone (digests, metadata, certificate).
DESTROYED = frozenset({"disposing", "disposed"})


def is_destroyed(pkg: Package) -> bool:
    return pkg.status in DESTROYED


def _shared_cases(user: Account) -> Any:
    return select(CaseMember.case_id).where(CaseMember.username == user.username)


def _scope(query: Any, user: Account) -> Any:
    if user.is_scoped:
        mine = select(Upload.package_id).where(Upload.user_id == user.id, Upload.package_id != "")
        shared = select(CasePackage.package_id).where(CasePackage.case_id.in_(_shared_cases(user)))
        query = query.where(Package.id.in_(mine.union(shared)))
    return query


def may_see_case(archive: Archive, user: Account, number: str) -> bool:
    """True when the case exists and the user may see it (scoped roles: only the cases shared with them)."""
    with archive.catalog.session() as s:
        query = select(Case.id).where(Case.number == number)
        if user.is_scoped:
            query = query.where(Case.id.in_(_shared_cases(user)))
        return s.scalars(query).first() is not None


def visible_package_ids(archive: Archive, user: Account, package_ids: list[str]) -> list[str]:
    """The subset of ``package_ids`` the user may see, in the same order."""
    if not user.is_scoped or not package_ids:
        return package_ids
    with archive.catalog.session() as s:
        seen = set(s.scalars(_scope(select(Package.id).where(Package.id.in_(package_ids)), user)))
    return [pid for pid in package_ids if pid in seen]


def _filtered(query: Select[Any], f: PackageFilter) -> Select[Any]:
    if f.camera:
        query = query.where(Package.camera == f.camera)
    if f.start is not None:
        query = query.where(Package.end_utc >= f.start)
    if f.end is not None:
        query = query.where(Package.start_utc <= f.end)
    return query


def list_packages(archive: Archive, user: Account, f: PackageFilter) -> tuple[list[Package], int, bool]:
    """One page of packages the user may see, newest recording first, the total and whether it is exact.

    The total is exact up to :data:`COUNT_CAP`; beyond it the caller shows "more than".
    """
    base = _filtered(_scope(select(Package), user), f)
    with archive.catalog.session() as s:
        # walk the start-time index from the newest end, as the page does, so the cap stops the walk early
        capped = (base.with_only_columns(Package.id).order_by(Package.start_utc.desc())
                  .limit(COUNT_CAP + 1).subquery())
        total = int(s.scalar(select(func.count()).select_from(capped)) or 0)
        rows = s.scalars(base.options(selectinload(Package.clips))
                         .order_by(Package.start_utc.desc(), Package.id).limit(f.limit).offset(f.offset))
        return list(rows), min(total, COUNT_CAP), total <= COUNT_CAP


def cameras(archive: Archive, user: Account) -> list[str]:
    """Camera ids for the filter; cached a minute for unscoped users (a distinct over every package)."""
    import time

    key = str(archive.root)
    if not user.is_scoped:
        cached = _camera_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CAMERA_CACHE_SECONDS:
            return cached[1]
    with archive.catalog.session() as s:
        q = _scope(select(Package.camera).where(Package.camera != "").distinct(), user)
        found = sorted(s.scalars(q))
    if not user.is_scoped:
        _camera_cache[key] = (time.monotonic(), found)
    return found


def visible_package(archive: Archive, user: Account, package_id: str) -> Package:
    """The package when it exists and the user may see it; W011 otherwise (no hint which)."""
    with archive.catalog.session() as s:
        q = _scope(select(Package).options(selectinload(Package.clips)).where(Package.id == package_id), user)
        row = s.scalars(q).first()
    if row is None:
        raise LongwatchError("W011", what=f"package {package_id}")
    return row


def visible_clip(archive: Archive, user: Account, clip_id: int) -> tuple[Package, Clip]:
    with archive.catalog.session() as s:
        clip = s.get(Clip, clip_id)
        package_id = clip.package_id if clip is not None else ""
    if clip is None:
        raise LongwatchError("W011", what=f"clip {clip_id}")
    return visible_package(archive, user, package_id), clip


def totals(archive: Archive, user: Account) -> dict[str, int]:
    with archive.catalog.session() as s:
        packages = _scope(select(Package.id, Package.size_bytes), user).subquery()
        n_packages, size = s.execute(select(func.count(), func.coalesce(func.sum(packages.c.size_bytes), 0))).one()
        clips = s.scalar(select(func.count()).select_from(Clip).where(Clip.package_id.in_(select(packages.c.id))))
    return {"packages": int(n_packages), "bytes": int(size), "clips": int(clips or 0)}


def visible_scope(archive: Archive, user: Account) -> list[str] | None:
    """Every package id a scoped user may see (their uploads, their shared cases' packages); None: all of them.

    Handed to the search engine (``Query.packages``) so that a scoped reader's page and facet counts are
    both counted within what they may see, never counted over the archive and filtered afterwards.
    """
    if not user.is_scoped:
        return None
    with archive.catalog.session() as s:
        return sorted(s.scalars(_scope(select(Package.id), user)))


def visible_cases(archive: Archive, user: Account) -> list[dict[str, Any]]:
    """The cases the user may see (scoped roles: exactly those shared with them), as ``reference.list_cases``."""
    rows = reference.list_cases(archive.catalog)
    if user.is_scoped:
        rows = [c for c in rows if user.username in c["members"]]
    return rows


def package_statuses(archive: Archive, package_ids: list[str]) -> dict[str, str]:
    """Status of each package (``stored``, ``disposing``, ``disposed``): listings show a tombstone as destroyed."""
    if not package_ids:
        return {}
    with archive.catalog.session() as s:
        return dict(s.execute(select(Package.id, Package.status).where(Package.id.in_(package_ids))).tuples().all())
