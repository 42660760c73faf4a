"""Search over a synthetic catalog, on SQLite and on PostgreSQL (the same tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from longwatch.core.catalog import Catalog, reference
from longwatch.core.catalog.models import Clip, DetectedEvent, Package
from longwatch.core.catalog.search import Query, decode_cursor, facets, search
from longwatch.errors import LongwatchError

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 14:00 in Seoul
CAMERAS = [
    # id, zone, lat, lon, purpose, tags
    ("cam-01", "Jung-gu/Market/Gate-1", 37.5665, 126.9780, "traffic", "entrance;outdoor"),
    ("cam-02", "Jung-gu/Market/Gate-2", 37.5668, 126.9790, "crime-prevention", "outdoor"),  # ~100 m away
    ("cam-03", "Jung-gu/Namsan", 37.5512, 126.9882, "parks", ""),  # ~2 km away
    ("cam-04", "Mapo-gu/Hapjeong", 37.5499, 126.9137, "traffic", ""),
]


def _add(catalog: Catalog, cam: tuple, n: int, start: datetime, minutes: int, title: str) -> list[str]:
    cam_id, zone, lat, lon, *_ = cam
    ids = []
    with catalog.session() as s:
        for i in range(n):
            begin = start + timedelta(minutes=minutes * i)
            end = begin + timedelta(minutes=minutes)
            pid = f"{cam_id}-{begin:%Y%m%dT%H%M}"
            ids.append(pid)
            s.add(Package(id=pid, created_at=begin, camera=cam_id, zone=zone, title=f"{title} {i}",
                          location_name="", latitude=lat, longitude=lon, start_utc=begin, end_utc=end,
                          time_source="operator", size_bytes=1000, file_count=1, status="stored",
                          storage_location="primary", tagmanifest_sha256="", signer_fingerprint="",
                          media_ok=True, description="", notes="",
                          clips=[Clip(relpath="data/media/x.mp4", original_name="x.mp4", size_bytes=1000,
                                      sha256=pid, sha512="", start_utc=begin, end_utc=end, duration=minutes * 60.0,
                                      camera=cam_id, zone=zone, latitude=lat, longitude=lon,
                                      span_s=minutes * 60)]))
    return ids


@pytest.fixture
def catalog(fresh_catalog: Catalog) -> Catalog:
    c = fresh_catalog
    with c.session() as s:
        for cam_id, zone, lat, lon, purpose, tags in CAMERAS:
            reference.upsert_camera(s, {"id": cam_id, "zone": zone, "latitude": lat, "longitude": lon,
                                        "purpose": purpose, "tags": tags})
    _add(c, CAMERAS[0], 12, T0 - timedelta(hours=1), 10, "Market gate 시장 입구")  # 13:00-15:00 local
    _add(c, CAMERAS[1], 6, T0, 30, "Market east")
    _add(c, CAMERAS[2], 4, T0 + timedelta(days=1), 60, "Namsan trail 남산")
    fall = _add(c, CAMERAS[3], 3, T0, 20, "Hapjeong crossing")
    with c.session() as s:
        s.add(DetectedEvent(package_id=fall[0], camera="cam-04", type="fall", start_utc=T0, confidence=0.9,
                            source="ai-x"))
        s.add(DetectedEvent(package_id=fall[1], camera="cam-04", type="fall", start_utc=T0, confidence=0.4,
                            source="ai-x"))
    return c


def _ids(page) -> list[str]:
    return [i["package_id"] for i in page.items]


def test_time_overlap_and_cameras(catalog: Catalog) -> None:
    page = search(catalog, Query(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=25),
                                 cameras=["cam-01"], limit=100))
    # clips 05:00-05:10, 05:10-05:20, 05:20-05:30 overlap [05:05, 05:25)
    assert _ids(page) == ["cam-01-20260303T0520", "cam-01-20260303T0510", "cam-01-20260303T0500"]
    asc = search(catalog, Query(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=25),
                                cameras=["cam-01"], order="asc"))
    assert _ids(asc) == list(reversed(_ids(page)))


def test_zone_subtree_purpose_and_tags(catalog: Catalog) -> None:
    market = search(catalog, Query(zone="Jung-gu/Market", limit=100))
    assert {i["camera"] for i in market.items} == {"cam-01", "cam-02"}
    district = search(catalog, Query(zone="Jung-gu", limit=100))
    assert {i["camera"] for i in district.items} == {"cam-01", "cam-02", "cam-03"}
    assert {i["camera"] for i in search(catalog, Query(purpose="traffic", limit=100)).items} == {"cam-01", "cam-04"}
    assert {i["camera"] for i in search(catalog, Query(tags=["outdoor"], limit=100)).items} == {"cam-01", "cam-02"}
    assert {i["camera"] for i in search(catalog, Query(tags=["entrance"], limit=100)).items} == {"cam-01"}


def test_place_radius_and_bbox(catalog: Catalog) -> None:
    near = search(catalog, Query(near=(37.5665, 126.9780), radius_m=300, start=T0,
                                 end=T0 + timedelta(minutes=90), limit=100))
    assert {i["camera"] for i in near.items} == {"cam-01", "cam-02"}
    tight = search(catalog, Query(near=(37.5665, 126.9780), radius_m=50, limit=100))
    assert {i["camera"] for i in tight.items} == {"cam-01"}
    box = search(catalog, Query(bbox=(37.54, 126.98, 37.56, 127.0), limit=100))
    assert {i["camera"] for i in box.items} == {"cam-03"}


def test_event_type_and_confidence(catalog: Catalog) -> None:
    assert _ids(search(catalog, Query(event_type="fall", min_confidence=0.8))) == ["cam-04-20260303T0500"]
    assert len(search(catalog, Query(event_type="fall")).items) == 2
    assert search(catalog, Query(event_type="fire")).items == []


def test_case_filter(catalog: Catalog) -> None:
    reference.add_case(catalog, "2026-0412", title="Collision at the market gate", requester="Jung-gu police")
    n = reference.attach_range(catalog, "2026-0412", T0, T0 + timedelta(minutes=30), camera="cam-01")
    assert n == 3
    page = search(catalog, Query(case="2026-0412"))
    assert _ids(page) == ["cam-01-20260303T0520", "cam-01-20260303T0510", "cam-01-20260303T0500"]
    with pytest.raises(LongwatchError) as err:
        search(catalog, Query(case="nope"))
    assert err.value.code == "Q010"


def test_full_text_korean_prefix_and_english(catalog: Catalog) -> None:
    assert {i["camera"] for i in search(catalog, Query(text="시장", limit=100)).items} == {"cam-01"}
    assert {i["camera"] for i in search(catalog, Query(text="남산", limit=100)).items} == {"cam-03"}
    assert {i["camera"] for i in search(catalog, Query(text="market", limit=100)).items} == {"cam-01", "cam-02"}
    assert {i["camera"] for i in search(catalog, Query(text="Market EAST", limit=100)).items} == {"cam-02"}
    assert {i["camera"] for i in search(catalog, Query(text="cross", limit=100)).items} == {"cam-04"}


def test_keyset_pagination_visits_each_clip_once(catalog: Catalog) -> None:
    seen, cursor = [], ""
    while True:
        page = search(catalog, Query(limit=4, after=cursor))
        seen += _ids(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 25
    starts = [decode_cursor(search(catalog, Query(limit=1, after=c)).next_cursor or "") for c in ("",)]
    assert starts


def test_facets(catalog: Catalog) -> None:
    found = facets(catalog, Query(zone="Jung-gu"), utc_offset=timedelta(hours=9))
    assert found["total"] == 22
    assert {f["key"]: f["count"] for f in found["camera"]} == {"cam-01": 12, "cam-02": 6, "cam-03": 4}
    assert {f["key"]: f["count"] for f in found["day"]} == {"2026-03-03": 18, "2026-03-04": 4}
    assert found["zone"][0] == {"key": "Jung-gu/Market/Gate-1", "count": 12}


def test_event_type_facet_and_a_readers_packages(catalog: Catalog) -> None:
    """Event types are counted like cameras; ``packages`` keeps a scoped reader's page and counts to what they
    may see (the web's investigators)."""
    found = facets(catalog, Query(), utc_offset=timedelta(hours=9))
    assert found["event_type"] == [{"key": "fall", "count": 2}]
    assert facets(catalog, Query(min_confidence=0.5))["event_type"] == [{"key": "fall", "count": 1}]
    mine = ["cam-04-20260303T0500", "cam-02-20260303T0500"]
    assert sorted(_ids(search(catalog, Query(packages=mine)))) == sorted(mine)
    within = facets(catalog, Query(packages=mine))
    assert within["total"] == 2 and {f["key"] for f in within["camera"]} == {"cam-02", "cam-04"}
    assert within["event_type"] == [{"key": "fall", "count": 1}]
    assert search(catalog, Query(packages=[])).items == [] and facets(catalog, Query(packages=[]))["total"] == 0


def test_event_type_facet_counts_each_clip_once_per_type(catalog: Catalog) -> None:
    """A package with two clips and three events (two of one type) counts two clips under each type, once."""
    pid = "cam-04-20260303T0500"
    with catalog.session() as s:
        s.add(Clip(package_id=pid, relpath="data/media/y.mp4", original_name="y.mp4", size_bytes=1000, sha256="y",
                   sha512="", start_utc=T0 + timedelta(minutes=10), end_utc=T0 + timedelta(minutes=20),
                   duration=600.0, camera="cam-04", zone="Mapo-gu/Hapjeong", latitude=37.5499, longitude=126.9137,
                   span_s=600))
        for kind in ("fall", "fire"):
            s.add(DetectedEvent(package_id=pid, camera="cam-04", type=kind, start_utc=T0, confidence=0.95,
                                source="ai-y"))
    found = facets(catalog, Query(cameras=["cam-04"]))
    assert found["total"] == 4
    assert found["event_type"] == [{"key": "fall", "count": 3}, {"key": "fire", "count": 2}]
    assert facets(catalog, Query(min_confidence=0.9))["event_type"] == [
        {"key": "fall", "count": 2}, {"key": "fire", "count": 2}]


def test_facets_let_many_candidates_drive_the_counts(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many event, case or text candidates: a page walks the time index (SQLite's ``+column``), but the
    facets count every match and must start from the candidates (at a million clips the ``+`` made an
    event type's facets scan every clip: 118 s against 2.7 s)."""
    if catalog.engine.dialect.name != "sqlite":
        pytest.skip("the unary + is SQLite's")
    from sqlalchemy import event

    from longwatch.core.catalog import search as search_module

    expected = facets(catalog, Query(event_type="fall", text="crossing"))
    monkeypatch.setattr(search_module, "NARROW_CAP", 0)  # every candidate set counts as "many"
    sent: list[str] = []
    listener = lambda _c, _cur, statement, _p, _ctx, _m: sent.append(statement)  # noqa: E731
    event.listen(catalog.engine, "before_cursor_execute", listener)
    try:
        found = facets(catalog, Query(event_type="fall", text="crossing"))
        page = search(catalog, Query(event_type="fall", text="crossing"))
    finally:
        event.remove(catalog.engine, "before_cursor_execute", listener)
    assert found == expected and found["total"] == 2
    counts = [st for st in sent if "count(" in st]
    assert counts and not any("+clips." in st for st in counts)
    assert len(page.items) == 2 and any("+clips." in st and "ORDER BY" in st for st in sent)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (Query(start=T0, end=T0 - timedelta(hours=1)), "Q001"),
        (Query(start=T0, end=T0), "Q001"),
        (Query(near=(91.0, 0.0), radius_m=100), "Q002"),
        (Query(near=(37.0, 181.0), radius_m=100), "Q002"),
        (Query(near=(37.0, 127.0), radius_m=0), "Q007"),
        (Query(near=(37.0, 127.0), radius_m=10_000_000), "Q007"),
        (Query(bbox=(38.0, 126.0, 37.0, 127.0)), "Q008"),
        (Query(zone="Nowhere/At-all"), "Q003"),
        (Query(text="x" * 201), "Q004"),
        (Query(text='"*" () -- ^'), "Q005"),
        (Query(text="%_%"), "Q005"),
        (Query(after="not-a-cursor"), "Q006"),
        (Query(min_confidence=1.5), "Q013"),
        (Query(limit=0), "Q014"),
        (Query(limit=100_000), "Q014"),
    ],
)
def test_bad_input_is_coded(catalog: Catalog, query: Query, code: str) -> None:
    with pytest.raises(LongwatchError) as err:
        search(catalog, query)
    assert err.value.code == code


@pytest.mark.parametrize("text", [
    "'; DROP TABLE clips; --", '" OR 1=1 --', "market NEAR(a b)", "title:market", "market*", "^market",
    "market OR namsan", "NOT market", "'market':* | x", "a\x00b",
])
def test_injection_attempts_are_just_words(catalog: Catalog, text: str) -> None:
    search(catalog, Query(text=text, limit=10))
    assert len(search(catalog, Query(limit=100)).items) == 25  # nothing was dropped


def test_zone_and_tag_injection(catalog: Catalog) -> None:
    with pytest.raises(LongwatchError) as err:
        search(catalog, Query(zone="Jung-gu' OR '1'='1"))
    assert err.value.code == "Q003"
    with pytest.raises(LongwatchError) as err:
        search(catalog, Query(tags=["%"]))
    assert err.value.code == "Q015"


def test_dense_filters_keep_their_subqueries(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from longwatch.core.catalog import search as search_mod

    monkeypatch.setattr(search_mod, "NARROW_CAP", 0)  # every event/case/text filter stays a subquery
    reference.add_case(catalog, "c-1")
    reference.attach_range(catalog, "c-1", T0, T0 + timedelta(minutes=30), camera="cam-01")
    assert len(search(catalog, Query(case="c-1")).items) == 3
    assert _ids(search(catalog, Query(event_type="fall", min_confidence=0.8))) == ["cam-04-20260303T0500"]
    assert {i["camera"] for i in search(catalog, Query(text="시장", limit=100)).items} == {"cam-01"}


def _pages(catalog: Catalog, q: Query) -> list[str]:
    seen, cursor = [], ""
    while True:
        q.after = cursor
        page = search(catalog, q)
        seen += [f"{i['start'].isoformat()} {i['clip_id']}" for i in page.items]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_selective_and_dense_plans_give_the_same_pages(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                        order: str) -> None:
    """A filter with few candidates drives the search (top-N sort); with many, the time index does."""
    from longwatch.core.catalog import search as search_mod

    with catalog.session() as s:  # cam-01 and cam-02 both have a clip starting at T0: a tie on start
        packages = s.query(Package).filter(Package.camera.in_(["cam-01", "cam-02"])).all()
        for n, p in enumerate(sorted(packages, key=lambda p: p.id)):
            s.add(DetectedEvent(package_id=p.id, camera=p.camera, type="loitering", start_utc=p.start_utc,
                                confidence=0.5 + (n % 10) / 20, source="ai-x"))
            if n % 3 == 0:  # a second qualifying event on the same package must not repeat its clip
                s.add(DetectedEvent(package_id=p.id, camera=p.camera, type="loitering", start_utc=p.start_utc,
                                    confidence=0.99, source="ai-y"))
        expected = sorted(((c.start_utc, c.id) for p in packages for c in p.clips), reverse=order == "desc")
    queries = [lambda: Query(event_type="loitering", order=order, limit=4),
               lambda: Query(event_type="loitering", min_confidence=0.7, order=order, limit=3),
               lambda: Query(text="market", order=order, limit=4),
               lambda: Query(text="market", event_type="loitering", start=T0, order=order, limit=2)]
    driven = [_pages(catalog, make()) for make in queries]
    monkeypatch.setattr(search_mod, "NARROW_CAP", 0)
    walked = [_pages(catalog, make()) for make in queries]
    assert driven == walked
    assert driven[0] == driven[2] == [f"{t.isoformat()} {i}" for t, i in expected]
    assert len(driven[0]) == 18 and len(set(driven[1])) == len(driven[1]) > 0
    for narrower in (driven[1], driven[3]):  # subsets, in the same (start, clip id) order
        assert narrower and narrower == [i for i in driven[0] if i in set(narrower)]


def test_explain_shows_which_side_drives(catalog: Catalog, catalog_backend: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from longwatch.core.catalog import search as search_mod
    from longwatch.core.catalog.search import explain

    events = explain(catalog, Query(event_type="fall", min_confidence=0.8))
    words = explain(catalog, Query(text="market"))
    if catalog_backend == "sqlite":
        assert any("COVERING INDEX ix_events_type_confidence_package" in line for line in events), events
        assert any("COVERING INDEX ix_clips_package_cover" in line for line in events), events
        assert any("INTEGER PRIMARY KEY" in line for line in words), words
        assert not any("ix_clips_start_end" in line for line in events + words)
    else:  # tiny tables: PostgreSQL scans them, but the few matches are sorted under LIMIT
        assert events[0].startswith("Limit") and any("Sort" in line for line in events), events
    monkeypatch.setattr(search_mod, "NARROW_CAP", 0)  # many candidates: a word's rows beside the time drive
    assert any("ct" in line.split() for line in explain(catalog, Query(text="market")))
    monkeypatch.setattr(search_mod, "_walk_plan", lambda _s, _q: None)  # without them: the time index drives
    dense = explain(catalog, Query(text="market"))
    if catalog_backend == "sqlite":
        assert any("ix_clips_start_end" in line for line in dense), dense
    assert dense


FACET_QUERIES = [Query(), Query(zone="Jung-gu"), Query(cameras=["cam-04"]), Query(event_type="fall"),
                 Query(min_confidence=0.5), Query(text="market"), Query(near=(37.5665, 126.9780), radius_m=300),
                 Query(bbox=(37.54, 126.90, 37.555, 126.92)), Query(start=T0, end=T0 + timedelta(minutes=45)),
                 Query(packages=["cam-04-20260303T0500", "cam-02-20260303T0500"]), Query(purpose="traffic")]


@pytest.mark.parametrize("q", FACET_QUERIES, ids=range(len(FACET_QUERIES)))
def test_capped_facets_are_exact_below_the_cap(catalog: Catalog, q: Query) -> None:
    """The web's facets count at most ``cap`` matches; below it they are the uncapped answer, key for key
    and in the same order (days on Seoul's clock)."""
    seoul = timedelta(hours=9)
    assert facets(catalog, q, utc_offset=seoul, cap=1000) == facets(catalog, q, utc_offset=seoul)


def test_capped_facets_count_the_newest_matches_and_say_there_are_more(catalog: Catalog) -> None:
    """Over the cap (counting from the clips: ``fast=False``, as for a filter the counts per hour cannot answer):
    ``total`` is the cap, ``total_exact`` false, and each count is that of the newest ``cap`` matches (the
    first page of that size), never of more rows."""
    from sqlalchemy import event

    newest = search(catalog, Query(zone="Jung-gu", limit=5)).items
    sent: list[str] = []
    listener = lambda _c, _cur, statement, _p, _ctx, _m: sent.append(statement)  # noqa: E731
    event.listen(catalog.engine, "before_cursor_execute", listener)
    try:
        found = facets(catalog, Query(zone="Jung-gu"), utc_offset=timedelta(hours=9), cap=5, fast=False)
    finally:
        event.remove(catalog.engine, "before_cursor_execute", listener)
    assert found["total"] == 5 and found["total_exact"] is False
    cameras: dict[str, int] = {}
    for it in newest:
        cameras[it["camera"]] = cameras.get(it["camera"], 0) + 1
    assert {f["key"]: f["count"] for f in found["camera"]} == cameras
    assert sum(f["count"] for f in found["day"]) == 5
    # every aggregate over clips is over a LIMIT: never over every match
    aggregates = [st for st in sent if "GROUP BY" in st]
    assert aggregates and all("LIMIT" in st for st in aggregates)
    exact = facets(catalog, Query(zone="Jung-gu"), cap=22, fast=False)
    assert exact["total"] == 22 and exact["total_exact"] is True


@pytest.mark.parametrize("q", [Query(), Query(min_confidence=0.1), Query(zone="Jung-gu")], ids=range(3))
def test_capped_facets_are_those_of_the_newest_cap_matches(catalog: Catalog, q: Query) -> None:
    """For every cap, the capped counts are exactly the uncapped counts of the newest ``cap`` matches (the
    one beyond, read to know there are more, is never counted: not its camera, day or event type)."""
    seoul = timedelta(hours=9)
    everything = search(catalog, Query(**{**vars(q), "limit": 1000})).items
    for cap in range(1, len(everything) + 1):
        newest = [it["package_id"] for it in everything[:cap]]
        expected = facets(catalog, Query(**{**vars(q), "packages": newest}), utc_offset=seoul)
        found = facets(catalog, q, utc_offset=seoul, cap=cap, fast=False)
        assert found["total_exact"] is (cap == len(everything)), cap
        assert {**found, "total_exact": True} == expected, cap


@pytest.mark.parametrize("offset", [timedelta(hours=-5), timedelta(hours=5, minutes=45), timedelta(hours=14)],
                         ids=["-05:00", "+05:45", "+14:00"])
def test_capped_facets_count_days_in_any_offset(catalog: Catalog, offset: timedelta) -> None:
    """The capped facets compute each clip's day after the LIMIT (for the newest cap + 1, not for every
    candidate): in any fixed offset, for every cap, the days (and the rest) are those of the uncapped counts
    of the newest ``cap`` matches, the one beyond never counted."""
    everything = search(catalog, Query(limit=1000)).items
    days = {it["start"].astimezone(UTC).__add__(offset).date() for it in everything}
    assert len(days) >= 2  # the catalog's clips fall on more than one day in each offset
    for cap in range(1, len(everything) + 1):
        newest = [it["package_id"] for it in everything[:cap]]
        expected = facets(catalog, Query(packages=newest), utc_offset=offset)
        found = facets(catalog, Query(), utc_offset=offset, cap=cap, fast=False)
        assert {**found, "total_exact": True} == expected, cap


def test_capped_facets_of_a_zone_and_an_event_type_read_covering_indexes(catalog: Catalog) -> None:
    """The newest matches of a zone come with their camera and package from ``ix_clips_zone_cover`` and
    their packages' event types from ``ix_events_package_type`` (revision 0038), no row fetched: at a
    million clips each panel fetched 10,000-20,000 rows, which under 50 clients queued for seconds."""
    from sqlalchemy import event

    sent: list[tuple[str, Any]] = []
    listener = lambda _c, _cur, st, p, _ctx, _m: sent.append((st, p)) if st.startswith("WITH newest") else None  # noqa: E731
    event.listen(catalog.engine, "before_cursor_execute", listener)
    try:
        for q in (Query(zone="Jung-gu/Market"), Query(event_type="fall")):
            assert facets(catalog, q, cap=1000, fast=False) == facets(catalog, q, fast=False)
    finally:
        event.remove(catalog.engine, "before_cursor_execute", listener)
    (zone, zone_args), (kind, kind_args) = sent
    with catalog.engine.connect() as conn:
        if catalog.engine.dialect.name == "sqlite":
            def plan(statement: str, args: Any) -> str:
                return "\n".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, args))
        else:  # tiny tables: PostgreSQL would scan them; the question is only whether the index can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")

            def plan(statement: str, args: Any) -> str:
                return "\n".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, args))
        zone_plan, kind_plan = plan(zone, zone_args), plan(kind, kind_args)
    if catalog.engine.dialect.name == "sqlite":
        assert "COVERING INDEX ix_clips_zone_cover" in zone_plan, zone_plan
        assert "COVERING INDEX ix_events_package_type" in zone_plan, zone_plan
        assert "COVERING INDEX ix_events_package_type" in kind_plan, kind_plan
        assert "COVERING INDEX ix_clips_package_cover" in kind_plan, kind_plan
    else:
        assert "ix_clips_zone_cover" in zone_plan, zone_plan
        assert "ix_events_package_type" in zone_plan and "ix_events_package_type" in kind_plan, kind_plan
        assert "ix_clips_package_cover" in kind_plan, kind_plan
