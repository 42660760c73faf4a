"""Local accounts, roles, sessions, API tokens and login throttling.

Passwords are kept only as argon2id hashes (this is the one module that
imports argon2). Session ids and API tokens are random secrets shown once;
the catalog keeps only their SHA-256, so a copy of the catalog opens nothing.
Failed logins are counted per user and address in the catalog, so every
server process (gunicorn workers, several machines) sees the same count.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.catalog import Catalog
from longwatch.core.catalog.models import ApiToken, LoginAttempt, User, WebSession
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
    # any signed-in user: own profile, logout
    "self": frozenset(ROLES),
}

#: Roles that see only what they uploaded or what a case shares with them (cases come later).
SCOPED_ROLES = frozenset({"investigator"})

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)


def set_hash_parameters(time_cost: int, memory_kib: int, parallelism: int = 1) -> None:
    """Cheaper hashing for test suites and benchmarks only; production keeps the defaults."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def has_permission(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise LongwatchError("W003", role=role, roles=", ".join(ROLES))
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise LongwatchError("W004", minimum=MIN_PASSWORD)
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Account:
    """What a request needs to know about its user (detached from any database session)."""

    id: int
    username: str
    role: str
    language: str = ""

    @property
    def is_scoped(self) -> bool:
        return self.role in SCOPED_ROLES

    def can(self, permission: str) -> bool:
        return has_permission(self.role, permission)


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.role, user.language or "")


def add_user(catalog: Catalog, username: str, password: str, role: str, language: str = "") -> Account:
    if not _USERNAME.match(username):
        raise LongwatchError("W005", username=username)
    check_role(role)
    check_password(password)
    with catalog.session() as s:
        if s.scalars(select(User).where(User.username == username)).first() is not None:
            raise LongwatchError("W006", username=username)
        user = User(username=username, password_hash=hash_password(password), role=role, language=language,
                    active=True, created_at=clock.now())
        s.add(user)
        s.flush()
        return _account(user)


def users(catalog: Catalog) -> list[User]:
    with catalog.session() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def _get_user(s: Session, username: str) -> User:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise LongwatchError("W007", username=username)
    return user


def set_password(catalog: Catalog, username: str, password: str) -> None:
    check_password(password)
    with catalog.session() as s:
        user = _get_user(s, username)
        user.password_hash = hash_password(password)
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))  # sign out everywhere


def set_role(catalog: Catalog, username: str, role: str) -> None:
    check_role(role)
    with catalog.session() as s:
        user = _get_user(s, username)
        user.role = role
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))


def set_active(catalog: Catalog, username: str, active: bool) -> None:
    with catalog.session() as s:
        user = _get_user(s, username)
        user.active = active
        if not active:
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def set_language(catalog: Catalog, user_id: int, language: str) -> None:
    with catalog.session() as s:
        user = s.get(User, user_id)
        if user is not None:
            user.language = language


# -- login and throttling -------------------------------------------------------
def _throttle_key(username: str, address: str) -> str:
    return f"{username.lower()[:64]}|{address[:64]}"


def authenticate(catalog: Catalog, username: str, password: str, address: str,
                 now: datetime | None = None) -> Account:
    """The account for a correct password; W001 when wrong, W002 while locked out (per user and address)."""
    now = now or clock.now()
    key = _throttle_key(username, address)
    with catalog.session() as s:
        attempt = s.get(LoginAttempt, key)
        if attempt is not None and attempt.locked_until is not None and attempt.locked_until > now:
            raise LongwatchError("W002", minutes=max(1, int((attempt.locked_until - now).total_seconds() // 60) + 1))
        user = s.scalars(select(User).where(User.username == username)).first()
        # hash even for unknown users so timing does not reveal which names exist
        ok = password_matches(user.password_hash if user else _dummy_hash(), password) and bool(user and user.active)
        if ok and user is not None:
            if attempt is not None:
                s.delete(attempt)
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            return _account(user)
        if attempt is None or now - attempt.first_at > FAILURE_WINDOW:
            if attempt is not None:
                s.delete(attempt)
                s.flush()
            attempt = LoginAttempt(key=key, failures=0, first_at=now)
            s.add(attempt)
        attempt.failures += 1
        if attempt.failures >= MAX_FAILURES:
            attempt.locked_until = now + LOCKOUT
    raise LongwatchError("W001")


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown user names against, so their replies take as long; made on first use."""
    return _hasher.hash(secrets.token_hex(16))


def open_session(catalog: Catalog, account: Account, address: str) -> str:
    """A new session secret for the cookie; only its digest is stored."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    with catalog.session() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        s.add(WebSession(id_sha256=sha256_hex(secret), user_id=account.id, created_at=now,
                         expires_at=now + SESSION_LIFETIME, address=address[:64]))
    return secret


def session_account(catalog: Catalog, secret: str) -> Account | None:
    now = clock.now()
    with catalog.session() as s:
        row = s.get(WebSession, sha256_hex(secret))
        if row is None or row.expires_at < now:
            return None
        user = s.get(User, row.user_id)
        return _account(user) if user is not None and user.active else None


def close_session(catalog: Catalog, secret: str) -> None:
    with catalog.session() as s:
        s.execute(delete(WebSession).where(WebSession.id_sha256 == sha256_hex(secret)))


# -- API tokens -----------------------------------------------------------------
TOKEN_PREFIX = "lwt_"  # noqa: S105 - a prefix, not a secret


def create_token(catalog: Catalog, username: str, name: str = "", days: int | None = None) -> str:
    """A new bearer token for ``username``; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with catalog.session() as s:
        user = _get_user(s, username)
        s.add(ApiToken(user_id=user.id, name=name[:100], token_sha256=sha256_hex(secret), created_at=now,
                       expires_at=now + timedelta(days=days) if days else None))
    return secret


def token_account(catalog: Catalog, secret: str) -> Account | None:
    now = clock.now()
    with catalog.session() as s:
        token = s.scalars(select(ApiToken).where(ApiToken.token_sha256 == sha256_hex(secret))).first()
        if token is None or (token.expires_at is not None and token.expires_at < now):
            return None
        user = s.get(User, token.user_id)
        return _account(user) if user is not None and user.active else None
