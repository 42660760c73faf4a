"""The facet panel from the counts kept per hour (issue 22, revision 0040): the same answers as counting the clips.

The reference everywhere is ``facets(..., fast=False)``: the plain GROUP BY over every matching clip.
The data is random and then rewritten the ways the archive writes it (uploads confirmed later, a
clip's zone and start changed, events added, retyped and deleted, packages disposed and deleted,
bulk statements of many rows), on both back ends.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import old_catalog
import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update

from longwatch.core.catalog import Catalog, alembic_config, facet_hours, facets_fast
from longwatch.core.catalog.models import Clip, DetectedEvent, Package
from longwatch.core.catalog.reference import add_zone
from longwatch.core.catalog.search import Query, _day, _day_key, _filters, facets

T0 = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
ZONES = ["d1/a1/s1", "d1/a1/s2", "d1/a2/s3", "d2/b1/s4", "d2/b1"]
CAMERAS = {f"cam-{i}": ZONES[i % len(ZONES)] for i in range(7)}
TYPES = ["fall", "fire", "intrusion", "loiter"]
HOW = facets_fast.Counting(_filters, _day, _day_key)
OFFSETS = [timedelta(0), timedelta(hours=9), timedelta(hours=-5), timedelta(hours=14)]


def _package(pid: str, rng: random.Random) -> Package:
    """One package of 1-3 clips; some start on the hour, some have no length, some cross hour edges."""
    start = T0 + timedelta(minutes=rng.randrange(0, 60 * 60), seconds=rng.choice((0, 0, 17)))
    if rng.random() < 0.15:
        start = start.replace(minute=0, second=0)
    camera = rng.choice([*CAMERAS, ""])  # "": an upload not yet confirmed as a camera's
    clips = []
    for k in range(rng.randint(1, 3)):
        at = start + timedelta(minutes=50 * k)
        span = rng.choice((0, 1, 5, 45, 90))
        clips.append(Clip(relpath=f"data/media/{k}.mp4", sha256=f"{pid}{k}".ljust(64, "0"), sha512="",
                          start_utc=None if rng.random() < 0.03 else at, end_utc=at + timedelta(minutes=span),
                          camera=camera, zone=CAMERAS.get(camera, ""), span_s=span * 60))
    return Package(id=pid, created_at=start, title="t", start_utc=start, end_utc=start, camera=camera,
                   description="", notes="", location_name="", clips=clips)


def _event(pid: str | None, kind: str) -> dict[str, Any]:
    return {"package_id": pid, "camera": "", "type": kind, "start_utc": T0, "confidence": 0.9}


def _fill(catalog: Catalog, seed: int) -> random.Random:
    rng = random.Random(seed)
    for z in ZONES:
        add_zone(catalog, z)
    for i in range(90):
        catalog.add_package(_package(f"p-{i:03d}", rng))
    with catalog.engine.begin() as conn:  # one statement of many events: several of a type in one package
        conn.execute(insert(DetectedEvent), [_event(f"p-{rng.randrange(90):03d}", rng.choice(TYPES))
                                             for _ in range(80)] + [_event(None, "fire")])
    return rng


def _rewrite(catalog: Catalog, rng: random.Random) -> None:
    """Every write path the archive has, ORM and bulk."""
    with catalog.session() as s:  # uploads confirmed as a camera's recording
        for clip in s.scalars(select(Clip).where(Clip.camera == "")).all()[:6]:
            clip.camera = "cam-1"
            clip.zone = CAMERAS["cam-1"]
        for clip in s.scalars(select(Clip).order_by(Clip.id)).all()[::11]:  # re-timed, moved zone
            shift = timedelta(minutes=rng.choice((-61, 7, 130)))  # a clock corrected: start and end move together
            clip.start_utc = clip.start_utc and clip.start_utc + shift
            clip.end_utc = clip.end_utc and clip.end_utc + shift
            clip.zone = rng.choice(ZONES)
        for event in s.scalars(select(DetectedEvent).order_by(DetectedEvent.id)).all()[::7]:
            event.type = rng.choice(TYPES)
        s.add(DetectedEvent(**_event("p-005", "loiter")))
        s.add(DetectedEvent(**_event("p-006", "fall")))
        s.get(Package, "p-007").status = "disposed"  # type: ignore[union-attr]  # clips kept, still counted
        s.delete(s.get(Package, "p-008"))
    with catalog.engine.begin() as conn:
        conn.execute(delete(DetectedEvent).where(DetectedEvent.type == "intrusion",
                                                 DetectedEvent.package_id < "p-030"))
        conn.execute(update(DetectedEvent).where(DetectedEvent.package_id.between("p-040", "p-050"))
                     .values(package_id="p-051"))
        conn.execute(update(Clip).where(Clip.package_id.between("p-060", "p-065")).values(package_id="p-066"))
        with_events = conn.execute(select(DetectedEvent.package_id).where(DetectedEvent.package_id.is_not(None))
                                   .order_by(DetectedEvent.package_id.desc()).limit(3)).scalars().all()
        conn.execute(delete(Package).where(Package.id.in_(["p-070", "p-071", *with_events])))  # by the cascades
        conn.execute(delete(Clip).where(Clip.package_id == "p-072"))


def _queries(rng: random.Random) -> list[Query]:
    out = [Query(), Query(zone="d1"), Query(zone="d1/a1"), Query(zone="d2/b1/s4"), Query(cameras=["cam-2"]),
           Query(cameras=["cam-1", "cam-3"], zone="d1"), Query(event_type="fire"), Query(event_type="nothing"),
           Query(event_type="fall", zone="d1"), Query(event_type="loiter", cameras=["cam-0", "cam-4"])]
    for _ in range(24):
        start = T0 + timedelta(minutes=rng.randrange(-120, 60 * 62))
        if rng.random() < 0.4:
            start = start.replace(minute=0)
        end = start + timedelta(minutes=rng.choice((1, 30, 60, 61, 180, 1500)))
        base = rng.choice(out[:10])
        out.append(Query(**{**vars(base), "start": start, "end": end}))
        out.append(Query(**{**vars(base), "start": start}))
        out.append(Query(**{**vars(base), "end": end}))
    return out


def _same(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    assert fast["total"] == slow["total"] and fast["total_exact"] is True
    for name in ("camera", "zone", "day", "event_type"):
        assert {d["key"]: d["count"] for d in fast[name]} == {d["key"]: d["count"] for d in slow[name]}, name


def _table_rows(catalog: Catalog) -> dict[str, set[tuple[Any, ...]]]:
    with catalog.engine.connect() as conn:
        return {t: set(conn.execute(text(f"SELECT * FROM {t} WHERE clips <> 0")).all())
                for t in (facet_hours.HOURS, facet_hours.TYPES)} | {
            facet_hours.MIXED: set(conn.execute(text(f"SELECT * FROM {facet_hours.MIXED}")).all())}


def assert_counts_in_step(catalog: Catalog) -> None:
    """The counts equal a rebuild from the clips (nonzero rows), and the panel answers as the clips do."""
    kept = _table_rows(catalog)
    assert kept[facet_hours.HOURS], "no counts at all"
    with catalog.engine.begin() as conn:
        facet_hours.refill(conn)
    assert _table_rows(catalog) == kept
    for q in (Query(), Query(start=datetime(2026, 3, 3, 5, 30, tzinfo=UTC))):
        with catalog.session() as s:
            fast = facets_fast.answer(s, q, timedelta(hours=9), 1000, HOW)
        assert fast is not None
        _same(fast, facets(catalog, q, timedelta(hours=9), top=1000, fast=False))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_counts_per_hour_answer_as_the_clips_do(fresh_catalog: Catalog, seed: int) -> None:
    """Every filter mix the fast path takes, every offset, after every kind of write: equal to the GROUP BY."""
    catalog = fresh_catalog
    rng = _fill(catalog, seed)
    _rewrite(catalog, rng)
    kept = _table_rows(catalog)
    with catalog.engine.begin() as conn:
        facet_hours.refill(conn)
    assert _table_rows(catalog) == kept  # the triggers kept exactly what a rebuild computes
    for q in _queries(rng):
        for offset in OFFSETS:
            with catalog.session() as s:
                fast = facets_fast.answer(s, q, offset, 1000, HOW)
            if fast is None:  # only a range without a whole UTC hour inside is left to the clips
                assert q.start is not None and q.end is not None and q.end - q.start < timedelta(hours=2), q
                first_whole = q.start.replace(minute=0) + (timedelta(hours=1) if q.start.minute else timedelta(0))
                assert first_whole + timedelta(hours=1) > q.end, q
                continue
            _same(fast, facets(catalog, q, offset, top=1000, fast=False))


def test_the_panel_takes_the_fast_path_and_counts_every_match(fresh_catalog: Catalog) -> None:
    """With the cap of the panel (here 5), the answer is still exact: every match, ``total_exact``."""
    _fill(fresh_catalog, 3)
    slow = facets(fresh_catalog, Query(zone="d1"), timedelta(hours=9), fast=False)
    panel = facets(fresh_catalog, Query(zone="d1"), timedelta(hours=9), cap=5)
    assert slow["total"] > 5 and panel["total_exact"] is True
    _same(panel, slow)


@pytest.mark.parametrize("query", [
    Query(text="t"), Query(bbox=(37, 126, 38, 127)), Query(near=(37.5, 127.0), radius_m=500),
    Query(min_confidence=0.5, event_type="fire"), Query(purpose="traffic"), Query(packages=["p-001"]),
    Query(tags=["x"]), Query(case="C-1")])
def test_other_filters_and_offsets_count_from_the_clips(query: Query) -> None:
    assert not facets_fast.eligible(query, timedelta(0))
    assert not facets_fast.eligible(Query(), timedelta(hours=5, minutes=45))
    assert facets_fast.eligible(Query(zone="a", cameras=["c"], event_type="x", start=T0), timedelta(hours=-5))


def test_an_offset_of_part_hours_falls_back_and_still_answers(fresh_catalog: Catalog) -> None:
    _fill(fresh_catalog, 4)
    offset = timedelta(hours=5, minutes=45)
    with fresh_catalog.session() as s:
        assert facets_fast.answer(s, Query(), offset, 50, HOW) is None
    assert facets(fresh_catalog, Query(), offset) == facets(fresh_catalog, Query(), offset, fast=False)


def test_migration_0040_fills_the_counts_of_existing_clips(catalog_backend: str, tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}" if catalog_backend == "sqlite" else catalog_backend)
    catalog.upgrade("0039")
    rng = random.Random(5)
    for i in range(30):
        old_catalog.add_package(catalog, _package(f"p-{i:03d}", rng))
    with catalog.engine.begin() as conn:
        conn.execute(insert(DetectedEvent), [_event(f"p-{i:03d}", TYPES[i % 3]) for i in range(0, 30, 2)])
    catalog.upgrade()
    with catalog.engine.connect() as conn:
        n = conn.execute(text(f"SELECT sum(clips) FROM {facet_hours.HOURS}")).scalar()
        assert n == conn.execute(text("SELECT count(*) FROM clips WHERE start_utc IS NOT NULL")).scalar()
    for q in (Query(), Query(event_type="fall"), Query(start=T0 + timedelta(minutes=90))):
        with catalog.session() as s:
            fast = facets_fast.answer(s, q, timedelta(hours=9), 1000, HOW)
        assert fast is not None
        _same(fast, facets(catalog, q, timedelta(hours=9), top=1000, fast=False))
    with catalog.engine.begin() as connection:
        cfg = alembic_config(catalog.engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0039")
    with catalog.engine.connect() as conn:
        assert not facet_hours.exists(conn)
    old_catalog.add_package(catalog, _package("p-100", rng))  # no trigger left behind
    with catalog.engine.begin() as conn:
        conn.execute(insert(DetectedEvent), [_event("p-100", "fire")])
    catalog.dispose()


def test_the_panel_reads_the_counts_from_their_indexes(fresh_catalog: Catalog) -> None:
    """A zone's hours are a range of the key, a camera's and every hour a covering index, with or without an
    event type: the panel reads its few hundred counts, never the table's rows one by one."""
    from sqlalchemy import event

    catalog = fresh_catalog
    _fill(catalog, 6)
    sent: list[tuple[str, Any]] = []

    def listener(_c: Any, _cur: Any, st: str, p: Any, _ctx: Any, _m: Any) -> None:
        if "FROM clip_hour" in st:
            sent.append((st, p))

    window = {"start": T0 + timedelta(hours=2), "end": T0 + timedelta(hours=30)}
    event.listen(catalog.engine, "before_cursor_execute", listener)
    try:
        for q in (Query(zone="d1", **window), Query(cameras=["cam-1"], **window), Query(**window),
                  Query(event_type="fire", zone="d1", **window), Query(event_type="fire", cameras=["cam-2"], **window)):
            facets(catalog, q, cap=10_000)
    finally:
        event.remove(catalog.engine, "before_cursor_execute", listener)
    assert len(sent) == 8  # the places and the types of three, the places of two with an event type
    sqlite = catalog.engine.dialect.name == "sqlite"
    with catalog.engine.connect() as conn:
        if not sqlite:  # tiny tables: PostgreSQL would scan them; the question is whether an index can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
        plans = ["\n".join(str(r[3] if sqlite else r[0]) for r in conn.exec_driver_sql(
            ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + st, p)) for st, p in sent]
    if sqlite:
        wanted = ["USING PRIMARY KEY (zone=? AND hour>? AND hour<?)", "ix_clip_hour_types_zone_any (zone=? AND hour>?",
                  "COVERING INDEX ix_clip_hours_camera (camera=? AND hour>? AND hour<?)",
                  "COVERING INDEX ix_clip_hour_types_camera_any (camera=? AND hour>?",
                  "COVERING INDEX ix_clip_hours_hour (hour>? AND hour<?)",
                  "COVERING INDEX ix_clip_hour_types_hour_any (hour>? AND hour<?)",
                  "USING PRIMARY KEY (type=? AND zone=? AND hour>? AND hour<?)",
                  "COVERING INDEX ix_clip_hour_types_camera (type=? AND camera=? AND hour>? AND hour<?)"]
    else:
        # tiny tables: which index PostgreSQL picks is its guess; the question is only whether one can serve
        wanted = ["Index"] * len(plans)
        assert not any("Seq Scan" in plan for plan in plans), plans
    for plan, want in zip(plans, wanted, strict=True):
        assert want in plan, (want, plan)
