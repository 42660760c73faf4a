"""Zone and event-type filters: every page the same on both back ends whichever plan answers it.

With many event candidates PostgreSQL checks each clip met in time order against the candidates hashed
once (``(package_id IN (...)) IS TRUE``), where a plain IN became a semi join probing the events' index
once per clip (issue 22: 28 ms alone in three processes at a million clips). The pages, their order and
their cursors are checked against the catalog's rows filtered here in Python, with few candidates (they
drive, a top-N sort) and with many (the time index drives), in both orders, in pages of 1 to 7.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from longwatch.core.catalog import Catalog, reference
from longwatch.core.catalog import search as search_mod
from longwatch.core.catalog.models import Clip, DetectedEvent, Package
from longwatch.core.catalog.search import Query, encode_cursor, explain, search

T0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
ZONES = ["Jung-gu/Market", "Jung-gu/Market/Gate-1", "Jung-gu/Market/Gate-2", "Jung-gu/Namsan",
         "Mapo-gu/Hapjeong"]
TYPES = ["fall", "fire", "intrusion"]


@pytest.fixture
def catalog(fresh_catalog: Catalog) -> Catalog:
    """240 clips on 6 cameras in 5 zones (an area, its two sites, a sibling, another district), ties on
    start across cameras, and events of three types on about half the packages (some twice)."""
    c = fresh_catalog
    rng = random.Random(22)
    cams = [(f"cam-{i:02d}", ZONES[i % len(ZONES)]) for i in range(6)]
    with c.session() as s:
        for cam_id, zone in cams:
            reference.upsert_camera(s, {"id": cam_id, "zone": zone, "latitude": 37.56, "longitude": 126.97})
    events = []
    with c.session() as s:
        for n in range(240):
            cam_id, zone = cams[n % len(cams)]
            begin = T0 + timedelta(minutes=10 * (n // 3))  # three cameras start together: ties on start
            end = begin + timedelta(minutes=10)
            pid = f"{cam_id}-{n:04d}"
            s.add(Package(id=pid, created_at=begin, camera=cam_id, zone=zone, title=f"clip {n}",
                          location_name="", latitude=37.56, longitude=126.97, start_utc=begin, end_utc=end,
                          time_source="operator", size_bytes=1000, file_count=1, status="stored",
                          storage_location="primary", tagmanifest_sha256="", signer_fingerprint="",
                          media_ok=True, description="", notes="",
                          clips=[Clip(relpath="data/media/x.mp4", original_name="x.mp4", size_bytes=1000,
                                      sha256=pid, sha512="", start_utc=begin, end_utc=end, duration=600.0,
                                      camera=cam_id, zone=zone, latitude=37.56, longitude=126.97, span_s=600)]))
            events += [DetectedEvent(package_id=pid, camera=cam_id, type=rng.choice(TYPES), start_utc=begin,
                                     confidence=rng.choice([0.3, 0.6, 0.9]), source="ai-x")
                       for _ in range(rng.choice([0, 0, 1, 1, 2]))]
    with c.session() as s:
        s.add_all(events)
    if c.engine.dialect.name != "sqlite":
        with c.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return c


def _expected(catalog: Catalog, q: Query) -> list[tuple[datetime, int]]:
    """The matching clips, filtered here from every row, in the query's order."""
    with catalog.session() as s:
        clips = [(c.start_utc.replace(tzinfo=UTC) if c.start_utc.tzinfo is None else c.start_utc,
                  c.end_utc.replace(tzinfo=UTC) if c.end_utc.tzinfo is None else c.end_utc, c.id, c.zone,
                  c.package_id) for c in s.scalars(select(Clip))]
        events = [(e.package_id, e.type, e.confidence) for e in s.scalars(select(DetectedEvent))]
    keep = []
    for start, end, ident, zone, pid in clips:
        if q.zone and not (zone == q.zone or zone.startswith(q.zone + "/")):
            continue
        if (q.event_type or q.min_confidence is not None) and not any(
                p == pid and (not q.event_type or t == q.event_type)
                and (q.min_confidence is None or conf >= q.min_confidence) for p, t, conf in events):
            continue
        if q.start is not None and not end > q.start:
            continue
        if q.end is not None and not start < q.end:
            continue
        keep.append((start, ident))
    return sorted(keep, reverse=q.order == "desc")


def _walk(catalog: Catalog, q: Query) -> tuple[list[tuple[datetime, int]], list[str | None]]:
    """Every page of the query, following its cursors: the clips and the cursors met."""
    seen: list[tuple[datetime, int]] = []
    cursors: list[str | None] = []
    while True:
        page = search(catalog, q)
        seen += [(i["start"], i["clip_id"]) for i in page.items]
        cursors.append(page.next_cursor)
        if not page.next_cursor:
            return seen, cursors
        q.after = page.next_cursor


WINDOW = (T0 + timedelta(hours=2, minutes=5), T0 + timedelta(hours=9))
CASES = [dict(zone="Jung-gu/Market"), dict(zone="Jung-gu"), dict(event_type="fall"),
         dict(event_type="fire", min_confidence=0.6), dict(min_confidence=0.9),
         dict(zone="Jung-gu/Market", event_type="intrusion")]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("window", [False, True])
def test_zone_and_event_pages_equal_the_rows_filtered_by_hand(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                              order: str, window: bool) -> None:
    for limit in (1, 3, 7):
        for args in CASES:
            def make(args: dict = args, limit: int = limit) -> Query:
                start, end = WINDOW if window else (None, None)
                return Query(**args, start=start, end=end, order=order, limit=limit)
            expected = _expected(catalog, make())
            assert expected, args
            cursors = [encode_cursor(*expected[i - 1]) for i in range(limit, len(expected), limit)] + [None]
            for cap in (search_mod.NARROW_CAP, 0):  # few candidates drive, or many: the time index drives
                monkeypatch.setattr(search_mod, "NARROW_CAP", cap)
                seen, met = _walk(catalog, make())
                assert seen == expected, (args, limit, cap)
                assert met == cursors, (args, limit, cap)
            monkeypatch.setattr(search_mod, "NARROW_CAP", 5000)


def test_event_candidates_planned_by_their_number_on_postgresql(catalog: Catalog, catalog_backend: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Many candidates: the clips walked in time order, each checked against the candidates hashed once
    (no join probing the events per clip); few: the candidates drive, as an array the planner cannot hash
    (hashed, PostgreSQL read every clip for an event type's capped facets at a million clips)."""
    few = " / ".join(explain(catalog, Query(event_type="fall", limit=5)))
    monkeypatch.setattr(search_mod, "NARROW_CAP", 0)
    many = " / ".join(explain(catalog, Query(event_type="fall", min_confidence=0.5, limit=5)))
    if catalog_backend == "sqlite":
        assert "ix_clips_start_end" in many and "LIST SUBQUERY" in many, many
        return
    assert "hashed SubPlan" in many and "Join" not in many, many
    assert "ix_clips_start_end" in many, many
    assert "hashed SubPlan" not in few, few
    # few: the candidates as an array (an InitPlan), not hashed against a scan of every clip
    assert "InitPlan" in few and "= ANY" in few and "Hash" not in few, few
