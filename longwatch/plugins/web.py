"""The built-in web UI's pages, registered as one plugin.

Each page module (``longwatch.web.auth``, ``.packages``, ...) holds one
blueprint. They are imported when a web app is made, not when the plugin
registers (which is why this module lives outside ``longwatch.web``):
Flask and the page modules cost a third of a second that a command such as
``longwatch ingest`` should not pay. A third-party plugin
adds pages the same way, through ``register_blueprints``.
"""

from __future__ import annotations

import importlib
from typing import Any

from longwatch.hookspecs import hookimpl

#: Page modules, in the order their blueprints are registered.
PAGES = (
    "health",
    "inquiry",
    "analytics",
    "notice",
    "anchors",
    "operation_register",
    "access_requests",
    "shares",
    "search",
    "saved_searches",
    "cases",
    "exports",
    "events_api",
    "events_review",
    "cameras",
    "admin",
    "holds",
    "disposition",
    "schedules",
    "upload",
    "api",
    "api_records",
    "api_cases",
    "api_custody",
    "package_view",
    "packages",
    "auth",
)


@hookimpl
def register_blueprints(app: Any) -> list[Any]:
    found: list[Any] = []
    for name in PAGES:
        found += importlib.import_module(f"longwatch.web.{name}").blueprints(app)
    return found
