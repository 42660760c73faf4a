"""Built-in web plugin: liveness, readiness and metrics for load balancers, orchestrators and Prometheus.

``/healthz`` answers from the process alone (no catalog, no storage, no
ledger): a proxy or systemd watchdog that restarts a process on a failed
liveness check must not restart every web process because the database is
down. ``/readyz`` asks what a request needs (the catalog, the primary storage
location and that it is not an empty mount point, the custody ledger's identity) and answers 503 with the coded
reason when one is missing, so a balancer sends no traffic to a process that
would fail it. Both are public and say nothing about the archive's content.

``/metrics`` is for this machine only (loopback) unless the environment
variable named by ``[web] metrics_token_env`` holds a token that the scraper
sends as a bearer token (docs/operations.md).
"""

from __future__ import annotations

import hmac
import itertools
import os
from typing import Any

from flask import Blueprint, Response, jsonify, request

from longwatch.core import custody
from longwatch.core.storage import mounted
from longwatch.errors import LongwatchError
from longwatch.web.security import client_address, current_archive, public

bp = Blueprint("health", __name__)
#: paths answered without opening the archive (no session, no catalog: see create_app's authenticate)
NO_ARCHIVE = frozenset({"/healthz"})
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


@bp.get("/healthz")
@public
def healthz() -> Any:
    return jsonify({"status": "alive"})


def _name(exc: BaseException) -> str:
    """What failed, without the exception's text (it may hold a host name, a URL or a path)."""
    return exc.code if isinstance(exc, LongwatchError) else type(exc).__name__


def readiness() -> LongwatchError | None:
    """The first reason this process cannot serve requests, or None."""
    archive = current_archive()
    try:
        with archive.catalog.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure of the catalog is the reason, named in the reply
        return LongwatchError("W051", detail=_name(exc))
    location = archive.settings.primary_location
    try:
        adapter = archive.storage(location)
        adapter.free_bytes()  # a filesystem location that is not mounted fails here
        list(itertools.islice(adapter.package_ids(), 1))  # an object store answers a listing
        mounted.check_not_emptied(archive, location)  # a mount point that a failed mount left empty answers too
    except LongwatchError as exc:
        return exc if exc.code == "W055" else LongwatchError("W052", location=location, detail=exc.code)
    except Exception as exc:  # as above
        return LongwatchError("W052", location=location, detail=_name(exc))
    try:
        custody.Ledger.for_archive(archive).check()
    except LongwatchError as exc:
        return LongwatchError("W053", detail=exc.code)
    return None


@bp.get("/readyz")
@public
def readyz() -> Any:
    reason = readiness()
    if reason is None:
        return jsonify({"status": "ready"})
    response = jsonify({"status": "not ready", "error": reason.to_dict()})
    response.status_code = 503
    response.headers["Retry-After"] = "10"
    return response


def _may_scrape() -> bool:
    env = current_archive().settings.metrics_token_env
    token = os.environ.get(env, "")
    sent = request.headers.get("Authorization", "")
    if token and sent.lower().startswith("bearer ") and hmac.compare_digest(sent[7:].strip(), token):
        return True
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
@public
def metrics() -> Any:
    if not _may_scrape():
        raise LongwatchError("W050", env=current_archive().settings.metrics_token_env, address=client_address())
    from longwatch.web import metrics as exposition  # prometheus_client loads for scrapes only

    return Response(exposition.exposition(current_archive()), mimetype=None,
                    content_type=exposition.CONTENT_TYPE)


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
