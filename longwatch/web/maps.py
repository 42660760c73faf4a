"""The maps of the search, cameras and inquiry pages: what the browser's map script (static/maps.js) is given.

The map library (Leaflet with leaflet.markercluster, static/vendor/, see its
SOURCES.md) is served by the archive itself; a page hands it one JSON block
(:func:`config`) and the script draws it. Nothing is fetched from elsewhere
unless the operator names their own tile server (``[web] tile_url``): without
one the map is the camera points on a plain ground, over the operator's
``basemap/`` image when there is one (docs/web.md). A tile server on another
host is allowed by the page's Content-Security-Policy for images only
(:func:`csp`), so no other outside request can be added by mistake.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from flask import url_for
from sqlalchemy import select

from longwatch.config import Settings
from longwatch.core.catalog.models import Camera
from longwatch.errors import LongwatchError

#: With more cameras than this the points are grouped into clusters that split as one zooms in: 5,000 single
#: markers make the page crawl, and a handful drawn one by one are easier to pick.
CLUSTER_FROM = 200


#: How long a process keeps the placed cameras for the search map (the search page is the busiest page; the
#: registry changes seldom, and a camera added shows on the map within this many seconds).
CAMERA_CACHE_SECONDS = 60.0
_placed: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def placed_cameras(archive: Any) -> list[dict[str, Any]]:
    """Every camera with coordinates as a map point, cached a minute per process (5,000 rows per search
    page view would otherwise be read and turned into objects on every request)."""
    key = str(archive.root)
    cached = _placed.get(key)
    if cached is not None and time.monotonic() - cached[0] < CAMERA_CACHE_SECONDS:
        return cached[1]
    with archive.catalog.session() as s:
        rows = s.execute(select(Camera.id, Camera.name, Camera.zone, Camera.latitude, Camera.longitude)
                         .where(Camera.latitude.is_not(None), Camera.longitude.is_not(None)).order_by(Camera.id))
        found = [{"id": r.id, "name": r.name or r.id, "zone": r.zone or "", "lat": r.latitude, "lon": r.longitude}
                 for r in rows]
    _placed[key] = (time.monotonic(), found)
    return found


def tile_origin(settings: Settings) -> str:
    """The origin of the operator's tile server when it is on another host ('' for none or this server)."""
    if not settings.tile_url.startswith(("https://", "http://")):
        return ""
    parts = urlsplit(settings.tile_url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(base: str, settings: Settings) -> str:
    """The Content-Security-Policy ``base`` with the tile server's origin added to ``img-src`` (and nothing else)."""
    origin = tile_origin(settings)
    if not origin:
        return base
    return base.replace("img-src 'self'", f"img-src 'self' {origin}", 1)


def basemap(root: Any) -> dict[str, Any] | None:
    """The operator's basemap image and its south, west, north and east (``basemap/basemap.json``), or None."""
    path = root / "basemap" / "basemap.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"image": str(data["image"]), **{k: float(data[k]) for k in ("south", "west", "north", "east")}}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LongwatchError("W012", name="basemap.json", detail=str(exc)) from exc


def point(camera: Any, **extra: Any) -> dict[str, Any] | None:
    """One camera as a map point (None when it has no coordinates); ``camera`` is a row or a dict."""
    get = camera.get if isinstance(camera, dict) else (lambda k: getattr(camera, k, None))
    lat, lon = get("latitude"), get("longitude")
    if lat is None or lon is None:
        return None
    return {"id": get("id"), "name": get("name") or get("id"), "zone": get("zone") or "", "lat": lat, "lon": lon,
            **extra}


def config(settings: Settings, root: Any, points: list[dict[str, Any]], **extra: Any) -> str:
    """The JSON block a page gives static/maps.js: tiles, basemap, points and the page's own settings."""
    base = basemap(root)
    if base is not None:
        base = {"url": url_for("inquiry.basemap"),
                "bounds": [[base["south"], base["west"]], [base["north"], base["east"]]]}
    data = {"tiles": settings.tile_url, "basemap": base, "points": points,
            "cluster": len(points) > CLUSTER_FROM, **extra}
    # inside <script type="application/json">: no "</" may end the block early
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
