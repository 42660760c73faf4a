"""Roles, the permissions each holds, and the scopes an API token may carry.

One table answers "may this role do that" for the web UI, the REST API and the
command line alike, so a permission is granted or refused in exactly one place.
Kept apart from :mod:`longwatch.core.accounts` (passwords, sessions, tokens)
because reading the tables needs neither argon2 nor the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from longwatch.errors import LongwatchError
from longwatch.i18n import N_

#: Role name -> label (for people). Order is the order shown in forms.
ROLES: dict[str, str] = {
    "administrator": N_("administrator"),
    "records-manager": N_("records manager"),
    "operator": N_("operator"),
    "investigator": N_("investigator"),
    "auditor": N_("auditor"),
}

#: Permission -> roles holding it. Every web endpoint names exactly one permission (or is public).
PERMISSIONS: dict[str, frozenset[str]] = {
    # see the catalog: dashboard, package lists, metadata, PREMIS events
    "catalog:read": frozenset({"administrator", "records-manager", "operator", "auditor", "investigator"}),
    # play or download footage (every access is recorded)
    "footage:read": frozenset({"administrator", "records-manager", "operator", "investigator"}),
    # run a verification now
    "package:verify": frozenset({"administrator", "records-manager", "operator"}),
    # upload footage for ingest
    "upload:write": frozenset({"administrator", "records-manager", "operator", "investigator"}),
    # see accounts
    "users:read": frozenset({"administrator", "auditor"}),
    # create and change accounts
    "users:write": frozenset({"administrator"}),
    # see requests for footage (PIPA access, disclosure, insurers, courts, police) and their clocks
    "requests:read": frozenset({"administrator", "records-manager", "operator", "auditor"}),
    # record requests and move them on (search, hold, mask, deliver, refuse)
    "requests:write": frozenset({"administrator", "records-manager", "operator"}),
    # read the CCTV operation register and download it for inspection
    "register:read": frozenset({"administrator", "records-manager", "auditor"}),
    # write and publish the public notice
    "notice:write": frozenset({"administrator"}),
    # pin notes and place holds in an incident inquiry
    "inquiry:write": frozenset({"administrator", "records-manager", "operator", "investigator"}),
    # retention schedules and facts, holds released, dispositions proposed and executed, manual deletions
    "records:write": frozenset({"administrator", "records-manager"}),
    # the camera registry: add cameras, record moves, import a CSV
    "cameras:write": frozenset({"administrator", "records-manager"}),
    # any signed-in user: own profile, logout
    "self": frozenset(ROLES),
}

#: API token scope -> the permissions it lends. A token does at most what its scopes AND its owner's role allow
#: (a ``read`` token of an administrator cannot place a hold). ``self`` (who am I, sign out) needs no scope.
#: Scopes name jobs a script does, not roles, so a scheduled export of the register asks for ``read`` only.
SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({"catalog:read", "requests:read", "register:read", "users:read"}),
    "search": frozenset({"catalog:read"}),
    "footage": frozenset({"footage:read"}),
    "verify": frozenset({"package:verify"}),
    "upload": frozenset({"upload:write"}),
    "cases:write": frozenset({"inquiry:write"}),
    "records:write": frozenset({"records:write"}),
    "requests:write": frozenset({"requests:write"}),
    "notice:write": frozenset({"notice:write"}),
    "users:write": frozenset({"users:write"}),
    "cameras:write": frozenset({"cameras:write"}),
    "all": frozenset(PERMISSIONS),
}
# A new permission needs a scope of its own above (tests/test_api_v1.py fails until it has one); until then only
# ``all`` lends it.
#: What a token made without ``--scope`` may do (and every token made before scopes existed): all its role may.
DEFAULT_SCOPES = ("all",)


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, sorted and without repeats; W091 for a name not in :data:`SCOPES`."""
    found = sorted({s.strip() for s in scopes if s.strip()})
    for scope in found:
        if scope not in SCOPES:
            raise LongwatchError("W091", scope=scope, scopes=", ".join(SCOPES))
    return tuple(found) or DEFAULT_SCOPES


def scope_permissions(scopes: Iterable[str]) -> frozenset[str]:
    """The permissions a token's scopes lend (unknown scopes lend nothing), always including ``self``."""
    lent: set[str] = {"self"}
    for scope in scopes:
        lent |= SCOPES.get(scope, frozenset())
    return frozenset(lent)


def scope_for(permission: str) -> str:
    """The narrowest scope that lends ``permission`` (what the OpenAPI document asks of each operation)."""
    if permission == "self":
        return ""
    lending = [name for name, lent in SCOPES.items() if permission in lent] or ["all"]
    return min(lending, key=lambda n: len(SCOPES.get(n, PERMISSIONS)))


#: Roles that see only what they uploaded or what a case shares with them.
SCOPED_ROLES = frozenset({"investigator"})


def has_permission(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise LongwatchError("W003", role=role, roles=", ".join(ROLES))
    return role
