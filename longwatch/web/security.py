"""Who is asking, and may they: sessions, API tokens, CSRF, permissions, access records.

Every view names its permission with :func:`requires` (or says :func:`public`);
a test walks ``app.url_map`` and fails for any endpoint that names neither, so
a new endpoint cannot forget its rule. Footage access goes through
:func:`record_access`, which writes views and downloads to the custody ledger.
"""

from __future__ import annotations

import fcntl
import functools
import hmac
import json
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import current_app, g, request, session

from longwatch import clock
from longwatch.core import accounts, custody
from longwatch.core.archive import Archive
from longwatch.errors import LongwatchError

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "sid"
CSRF_KEY = "csrf"
#: When the session last made a request (seconds since the epoch, in the signed cookie): the idle timeout
#: ([web] session_idle_minutes) needs no write to the catalog per request. Refreshed at most once a minute.
SEEN_KEY = "seen"
SEEN_EVERY = 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("longwatch.access")
#: record_access actions that are custody events of the package (an export download has its own)
LEDGER_ACTIONS = frozenset({"view", "download"})
#: Later requests of one person for the same file from the same address within this long of a record are
#: the same viewing (a player asks for many ranges); a request from byte 0 always starts a new record.
VIEWING = timedelta(minutes=10)
_viewings: dict[tuple[str, ...], datetime] = {}
_viewings_lock = threading.Lock()


def requires(permission: str, scoped: bool = True) -> Callable[[F], F]:
    """Mark a view as needing ``permission`` (see core.accounts.PERMISSIONS); checked before it runs.

    ``scoped=False`` refuses the scoped roles too (W040), whatever their permissions: for views whose effect
    reaches footage beyond what the user may see (an event keeps a year of a camera's footage), which no
    per-case filter could narrow.
    """
    if permission not in accounts.PERMISSIONS:
        raise KeyError(permission)

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                raise LongwatchError("W008")
            if not accounts.has_permission(user.role, permission):
                raise LongwatchError("W009", role=user.role, permission=permission)
            if not user.scope_allows(permission):  # the role may, the token was not given the scope
                raise LongwatchError("W090", scopes=" ".join(user.scopes or ()), permission=permission,
                                     scope=accounts.scope_for(permission))
            if permission == "self" and g.get("via_token") and request.method in UNSAFE_METHODS \
                    and not user.scope_allows_everything():  # a read token must not mint an "all" one
                raise LongwatchError("W090", scopes=" ".join(user.scopes or ()), permission=permission, scope="all")
            if not scoped and user.is_scoped:
                raise LongwatchError("W040", role=user.role, permission=permission)
            return view(*args, **kwargs)

        checked.lw_permission = permission  # type: ignore[attr-defined]
        checked.lw_scoped = scoped  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return wrap


def may_use(role: str, view: Callable[..., Any]) -> bool:
    """Whether ``role`` passes the view's :func:`requires` (True for public views): the navigation and the
    role x page test ask this, so the links shown are exactly the pages that answer."""
    if not hasattr(view, "lw_permission"):
        return False
    permission = view.lw_permission
    if permission is None:
        return True
    if not accounts.has_permission(role, permission):
        return False
    return getattr(view, "lw_scoped", True) or role not in accounts.SCOPED_ROLES


def public(view: F) -> F:
    """Mark a view as open to everyone (login page, health, the OpenAPI document)."""
    view.lw_permission = None  # type: ignore[attr-defined]
    return view


def current_user() -> accounts.Account | None:
    return g.get("user")


def load_user() -> None:
    """Before each request: a bearer token (machines) or the session cookie (people)."""
    g.user = None
    g.via_token = False
    catalog = current_archive().catalog
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        g.user = accounts.token_account(catalog, auth[7:].strip())
        g.via_token = g.user is not None
        return
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        now = clock.now().timestamp()
        seen = session.get(SEEN_KEY)
        idle = current_archive().settings.session_idle_minutes * 60
        if idle and isinstance(seen, int | float) and now - seen > idle:
            accounts.close_session(catalog, secret)  # idle too long: the session ends here, on every process
            session.pop(SESSION_KEY, None)
            session.pop(SEEN_KEY, None)
            return
        g.user = accounts.session_account(catalog, secret)
        if g.user is not None and (not isinstance(seen, int | float) or now - seen >= SEEN_EVERY):
            session[SEEN_KEY] = int(now)


def csrf_token() -> str:
    """The token every form and script sends back; bound to the (signed) session cookie."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf() -> None:
    """Unsafe methods from a browser must carry the session's token; bearer-token calls carry no cookie."""
    if request.method not in UNSAFE_METHODS or g.get("via_token"):
        return
    expected = session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise LongwatchError("W010")


def client_address() -> str:
    return request.remote_addr or "unknown"


def record_access(action: str, package_id: str, relpath: str = "", detail: str = "") -> None:
    """Record one view or download of footage: who, what, when, from where.

    A view or download of a package's footage is a custody-ledger event
    ("dissemination", the person as implementer), appended durably before the
    bytes are sent: the record of who saw the footage must not depend on a log
    file. Every action also goes to ``logs/access.jsonl`` (appended under a
    lock, so several workers interleave whole lines) for operations.
    """
    user = current_user()
    now = clock.now()
    if package_id and action in LEDGER_ACTIONS:
        who = user.username if user else "anonymous"
        agents = [custody.software_agent(), *([custody.person_agent(user.username)] if user else [])]
        custody.Ledger.for_archive(current_archive()).append([custody.CustodyEvent(
            type="dissemination", packages=[package_id], agents=agents, time=now,
            detail=f"{action} of {relpath or 'the package'} by {who} from {client_address()}"
                   + (f" ({detail})" if detail else ""),
            extra={"action": action, "path": relpath, "address": client_address(),
                   "user_role": user.role if user else ""})])
    entry = {
        "time": now.isoformat().replace("+00:00", "Z"),
        "action": action,
        "package_id": package_id,
        "path": relpath,
        "user": user.username if user else "",
        "role": user.role if user else "",
        "address": client_address(),
        "detail": detail,
    }
    path = current_archive().root / "logs" / "access.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    log.info("access %s", entry)
    hook = current_app.config.get("LONGWATCH_ACCESS_HOOK")
    if hook is not None:
        hook(entry)


def record_footage(action: str, package_id: str, relpath: str, start: int, end: int, size: int,
                   kind: str = "", restart_at_zero: bool = True) -> None:
    """Record footage about to be served, whatever range was asked for (call it before the first byte goes).

    Every request that serves bytes of footage (a range, the whole file, a poster frame, the access copy) is
    covered by an access record: a new one when it starts at byte 0, when it is a download, or when the
    same person (same address, same file, same ``kind``) has no record within :data:`VIEWING`; a player's
    later range requests are part of the viewing already recorded. HEAD requests serve no bytes.
    ``restart_at_zero=False`` (poster frames, always served whole): byte 0 does not start a new record, so
    a list page shown again within the viewing adds no record per poster.
    """
    if request.method == "HEAD":
        return
    user = current_user()
    now = clock.now()
    key = (str(current_archive().root), user.username if user else "", client_address(), action, kind,
           package_id, relpath)
    with _viewings_lock:
        last = _viewings.get(key)
        continues = start != 0 or not restart_at_zero
        if continues and action != "download" and last is not None and now - last < VIEWING:
            return
        _viewings[key] = now
        if len(_viewings) > 10_000:  # forget viewings that are over
            for old in [k for k, t in _viewings.items() if now - t >= VIEWING]:
                del _viewings[old]
    what = f"{kind}, " if kind else ""
    record_access(action, package_id, relpath, detail=f"{what}bytes {start}-{end - 1}/{size}")


def current_archive() -> Archive:
    """The archive this app serves (``create_app`` puts it in ``app.extensions``)."""
    archive: Archive = current_app.extensions["longwatch"]
    return archive
