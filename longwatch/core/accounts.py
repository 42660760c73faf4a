"""Local accounts, roles, sessions, API tokens and login throttling.

Passwords are kept only as argon2id hashes (this is the one module that
imports argon2). Session ids and API tokens are random secrets shown once;
the catalog keeps only their SHA-256, so a copy of the catalog opens nothing.
Failed logins are counted per user and address in the catalog, so every
server process (gunicorn workers, several machines) sees the same count.

The command line uses the same accounts (issue 21): a person signs in with
``longwatch login``, which keeps an API token in a file only the OS user can
read (:func:`token_file`); an unattended service acts through an
administrator's mapping of its OS user to an account (:func:`map_os_user`).
Nothing else names the acting account: no option, no environment variable
with a bare user name.
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from longwatch import clock
from longwatch.core.catalog import Catalog
from longwatch.core.catalog.models import AccountChange, ApiToken, LoginAttempt, OsUserAccount, User, WebSession
from longwatch.core.permissions import (  # noqa: F401 (the names every caller of accounts knows)
    DEFAULT_SCOPES,
    PERMISSIONS,
    ROLES,
    SCOPED_ROLES,
    SCOPES,
    check_role,
    check_scopes,
    has_permission,
    scope_for,
    scope_permissions,
)
from longwatch.errors import LongwatchError
from longwatch.i18n import N_

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


def check_password(password: str) -> str:
    """Long enough (W004) and not one an attacker tries first (W054).

    Length does most of the work (NIST SP 800-63B: at least 8, no composition
    rules); the list catches the long passwords that are still guessed at once
    (``1234567890``, ``qwertyuiop``, ``password123``, the product's own name).
    """
    if len(password) < MIN_PASSWORD:
        raise LongwatchError("W004", minimum=MIN_PASSWORD)
    folded = password.casefold().strip()
    if folded in common_passwords() or len(set(folded)) <= 2:
        raise LongwatchError("W054")
    return password


@functools.cache
def common_passwords() -> frozenset[str]:
    """The list shipped in ``profiles/common-passwords.txt`` (one a line, ``#`` comments), case-folded."""
    text = (Path(__file__).parent.parent / "profiles" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


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
    #: the token's scopes when the request came with one (None: a session, which has no scopes)
    scopes: tuple[str, ...] | None = None

    @property
    def is_scoped(self) -> bool:
        return self.role in SCOPED_ROLES

    def can(self, permission: str) -> bool:
        """The role holds ``permission`` and, for a token, its scopes lend it."""
        return has_permission(self.role, permission) and self.scope_allows(permission)

    def scope_allows(self, permission: str) -> bool:
        return self.scopes is None or permission in scope_permissions(self.scopes)

    def scope_allows_everything(self) -> bool:
        """A session, or a token of scope ``all``: what may change the account itself (its password, its
        tokens), since a narrower token that could mint a token of scope ``all`` would be one."""
        return self.scopes is None or "all" in self.scopes


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.role, user.language or "")


def add_user(catalog: Catalog, username: str, password: str, role: str, language: str = "", by: str = "") -> Account:
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
        _changed(s, by, username, "created", "", role)
        return _account(user)


#: The audit trail's kinds of change -> label (for people).
CHANGES: dict[str, str] = {
    "created": N_("account created"), "role": N_("role changed"), "active": N_("enabled or disabled"),
    "password": N_("password set"), "token created": N_("API token created"),
    "token revoked": N_("API token revoked"),
}


def _changed(s: Session, by: str, username: str, change: str, old: str = "", new: str = "") -> None:
    """One line of the accounts' audit trail, in the same transaction as the change it describes."""
    s.add(AccountChange(at=clock.now(), actor=by[:64], username=username[:64], change=change, old=old[:200],
                        new=new[:200]))


def changes(catalog: Catalog, username: str | None = None, limit: int = 200) -> list[AccountChange]:
    """The audit trail, newest first: every account created, role changed, enabled or disabled, password
    set and token made or revoked, with the account that did it."""
    query = select(AccountChange).order_by(AccountChange.id.desc()).limit(limit)
    if username is not None:
        query = query.where(AccountChange.username == username)
    with catalog.session() as s:
        return list(s.scalars(query))


#: Taken around every change that could leave no administrator: two transactions demoting two different
#: administrators at once would each count the other and both commit (on either back end).
ADMINISTRATORS_LOCK = "accounts:administrators"


def _keep_an_administrator(s: Session, user: User, role: str, active: bool) -> None:
    """W080 when the change would leave no active administrator: nobody could manage accounts any more
    (only a new archive's first account is made without one)."""
    if user.role != "administrator" or not user.active or (role == "administrator" and active):
        return
    others = s.scalar(select(func.count()).select_from(User).where(
        User.role == "administrator", User.active.is_(True), User.id != user.id))
    if not others:
        raise LongwatchError("W080", username=user.username)


def users(catalog: Catalog) -> list[User]:
    with catalog.session() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def _get_user(s: Session, username: str) -> User:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise LongwatchError("W007", username=username)
    return user


def set_password(catalog: Catalog, username: str, password: str, by: str = "") -> None:
    check_password(password)
    with catalog.session() as s:
        user = _get_user(s, username)
        user.password_hash = hash_password(password)
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))  # sign out everywhere
        _changed(s, by, username, "password")


def change_own_password(catalog: Catalog, username: str, current: str, new: str, confirm: str) -> None:
    """A person's own new password: the current one first (W081, so a session left open cannot be taken
    over for good), the new one typed twice (W082). Signs the account out everywhere."""
    with catalog.session() as s:
        user = _get_user(s, username)
        if not password_matches(user.password_hash, current):
            raise LongwatchError("W081")
    if new != confirm:
        raise LongwatchError("W082")
    set_password(catalog, username, new, by=username)


def set_role(catalog: Catalog, username: str, role: str, by: str = "") -> None:
    """Give ``username`` another role (signs it out everywhere); W080 for the last active administrator."""
    check_role(role)
    with catalog.exclusive(ADMINISTRATORS_LOCK), catalog.session() as s:
        user = _get_user(s, username)
        if user.role == role:
            return
        _keep_an_administrator(s, user, role, user.active)
        old, user.role = user.role, role
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
        _changed(s, by, username, "role", old, role)


def set_active(catalog: Catalog, username: str, active: bool, by: str = "") -> None:
    """Enable or disable an account (disabling ends its sessions and tokens); W080 for the last administrator."""
    with catalog.exclusive(ADMINISTRATORS_LOCK), catalog.session() as s:
        user = _get_user(s, username)
        if user.active == active:
            return
        _keep_an_administrator(s, user, user.role, active)
        user.active = active
        if not active:
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        _changed(s, by, username, "active", "yes" if not active else "no", "yes" if active else "no")


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
TOKEN_DAYS = 90


MAX_TOKEN_DAYS = 3650


def create_token(catalog: Catalog, username: str, name: str = "", days: int | None = None,
                 scopes: Iterable[str] = DEFAULT_SCOPES, by: str = "") -> str:
    """A new bearer token for ``username``; the secret is returned once and never stored.

    Every token expires (after ``TOKEN_DAYS`` unless ``days`` says otherwise): a token forgotten in a
    script or a leaked configuration file stops working by itself. ``scopes`` (:data:`SCOPES`) narrow what
    it may do below its owner's role, so a leaked reporting token cannot release a hold.
    """
    days = days or TOKEN_DAYS
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise LongwatchError("W083", days=days, maximum=MAX_TOKEN_DAYS)
    granted = " ".join(check_scopes(scopes))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with catalog.session() as s:
        user = _get_user(s, username)
        token = ApiToken(user_id=user.id, name=name[:100], token_sha256=sha256_hex(secret), created_at=now,
                         expires_at=now + timedelta(days=days), scopes=granted)
        s.add(token)
        s.flush()
        if by:
            _changed(s, by, username, "token created", "", f"#{token.id} {name[:100]}".strip())
    return secret


def tokens(catalog: Catalog, username: str) -> list[ApiToken]:
    """The account's tokens, newest first (names and dates only: the secrets were never stored)."""
    with catalog.session() as s:
        user = _get_user(s, username)
        return list(s.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token_id(catalog: Catalog, username: str, token_id: int, by: str = "") -> None:
    """Revoke one of ``username``'s tokens by its number (W084 when it has no such token)."""
    with catalog.session() as s:
        user = _get_user(s, username)
        token = s.scalars(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)).first()
        if token is None:
            raise LongwatchError("W084", token_id=token_id)
        _changed(s, by or username, username, "token revoked", f"#{token.id} {token.name}".strip(), "")
        s.delete(token)


def token_account(catalog: Catalog, secret: str) -> Account | None:
    now = clock.now()
    with catalog.session() as s:
        token = s.scalars(select(ApiToken).where(ApiToken.token_sha256 == sha256_hex(secret))).first()
        if token is None or (token.expires_at is not None and token.expires_at < now):
            return None
        user = s.get(User, token.user_id)
        if user is None or not user.active:
            return None
        return dataclasses.replace(_account(user), scopes=tuple((token.scopes or " ".join(DEFAULT_SCOPES)).split()))


def revoke_token(catalog: Catalog, secret: str) -> None:
    with catalog.session() as s:
        s.execute(delete(ApiToken).where(ApiToken.token_sha256 == sha256_hex(secret)))


def account_named(catalog: Catalog, username: str) -> Account | None:
    """The active account ``username`` (a job's requester, looked up when the job runs)."""
    with catalog.session() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        return _account(user) if user is not None and user.active else None


# -- the command line: signed in with a stored token, or an OS user mapped by an administrator ----------
CLI_LOGIN_DAYS = 30
#: Marks an account that has no password yet (``longwatch init``'s first administrator); nothing verifies against it.
NO_PASSWORD = "!"  # noqa: S105 - not a password: argon2 refuses it as a hash


def os_user() -> str:
    """The operating-system user running this process ("" when the system cannot tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def token_file(archive_root: Path) -> Path:
    """Where ``longwatch login`` keeps this OS user's token for one archive (mode 0600).

    Under the user's own configuration directory, one file per archive (named by
    a digest of the archive's path), so other users of the machine cannot read it
    and one login does not open every archive.
    """
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    key = hashlib.sha256(str(Path(archive_root).resolve()).encode("utf-8")).hexdigest()[:32]
    return base / "longwatch" / "tokens" / key


def save_token(path: Path, secret: str) -> None:
    """Written with mode 0600 from the first byte (never readable by others, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    os.replace(tmp, path)


def read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def cli_login(catalog: Catalog, username: str, password: str, path: Path) -> Account:
    """Check the password (throttled like the web's sign-in) and keep a new token in ``path``."""
    who = os_user()
    account = authenticate(catalog, username, password, f"cli:{who}")
    secret = create_token(catalog, username, f"longwatch login ({who})", CLI_LOGIN_DAYS)
    old = read_token(path)
    save_token(path, secret)
    if old:
        revoke_token(catalog, old)
    return account


def cli_logout(catalog: Catalog, path: Path) -> bool:
    """Revoke the stored token and remove its file; False when nobody was signed in."""
    secret = read_token(path)
    path.unlink(missing_ok=True)
    if not secret:
        return False
    revoke_token(catalog, secret)
    return True


def map_os_user(catalog: Catalog, os_name: str, username: str, by: str) -> Account:
    """Commands run by OS user ``os_name`` act as ``username`` from now on (replacing any earlier mapping)."""
    if not _USERNAME.match(os_name):
        raise LongwatchError("W005", username=os_name)
    with catalog.session() as s:
        user = _get_user(s, username)
        row = s.get(OsUserAccount, os_name)
        if row is None:
            s.add(OsUserAccount(os_user=os_name, user_id=user.id, mapped_by=by, mapped_at=clock.now()))
        else:
            row.user_id, row.mapped_by, row.mapped_at = user.id, by, clock.now()
        return _account(user)


def unmap_os_user(catalog: Catalog, os_name: str) -> None:
    with catalog.session() as s:
        s.execute(delete(OsUserAccount).where(OsUserAccount.os_user == os_name))


def os_user_mappings(catalog: Catalog) -> list[tuple[str, str, str, datetime]]:
    """(OS user, account, mapped by, mapped at) for every mapping."""
    with catalog.session() as s:
        rows = s.execute(select(OsUserAccount.os_user, User.username, OsUserAccount.mapped_by,
                                OsUserAccount.mapped_at).join(User, User.id == OsUserAccount.user_id)
                         .order_by(OsUserAccount.os_user)).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def os_user_account(catalog: Catalog, os_name: str) -> Account | None:
    if not os_name:
        return None
    with catalog.session() as s:
        row = s.get(OsUserAccount, os_name)
        user = s.get(User, row.user_id) if row is not None else None
        return _account(user) if user is not None and user.active else None


def bootstrap_administrator(catalog: Catalog, os_name: str) -> Account | None:
    """A new archive's first administrator: an account named after the OS user who made it, mapped to it.

    Only while the archive has no account at all (so it never adds a second
    administrator behind anyone's back). The account has no password until one
    is set (``longwatch users passwd``), so it cannot sign in on the web yet;
    the OS user who owns the archive's files acts as it on the command line.
    None when the OS user's name cannot be an account name.
    """
    if not _USERNAME.match(os_name or ""):
        return None
    with catalog.session() as s:
        if s.scalars(select(User.id).limit(1)).first() is not None:
            return None
        now = clock.now()
        user = User(username=os_name, password_hash=NO_PASSWORD, role="administrator", language="", active=True,
                    created_at=now)
        s.add(user)
        s.flush()
        s.add(OsUserAccount(os_user=os_name, user_id=user.id, mapped_by=os_name, mapped_at=now))
        return _account(user)


def replay_os_user_mappings(catalog: Catalog, entries: Iterable[dict[str, Any]]) -> None:
    """Mappings as the custody ledger last recorded them (``longwatch reindex`` after the catalog is lost).

    An account a mapping names that the catalog no longer has comes back with
    the recorded role and no password (set one with ``longwatch users passwd``);
    accounts that still exist keep theirs.
    """
    for entry in entries:
        extra = entry.get("extra") or {}
        os_name, username, role = str(extra.get("os_user", "")), str(extra.get("account", "")), extra.get("role")
        if not os_name or not username:
            continue
        if extra.get("action") == "os user removed":
            unmap_os_user(catalog, os_name)
            continue
        if extra.get("action") != "os user mapped" or not _USERNAME.match(username):
            continue
        by = next((str(a.get("name", "")) for a in entry.get("agents", []) if a.get("type") == "person"), "")
        with catalog.session() as s:
            if s.scalars(select(User).where(User.username == username)).first() is None:
                s.add(User(username=username, password_hash=NO_PASSWORD,
                           role=role if role in ROLES else "operator", language="", active=True,
                           created_at=clock.now()))
        map_os_user(catalog, os_name, username, by)


def cli_account(catalog: Catalog, archive_root: Path, env_token: str = "") -> Account | None:
    """Who runs this command: a token (``LONGWATCH_TOKEN``, else ``longwatch login``'s file), else the OS user's
    mapping; None when neither names an active account. W031 for a token that no longer opens anything."""
    secret = env_token or read_token(token_file(archive_root))
    if secret:
        account = token_account(catalog, secret)
        if account is None:
            raise LongwatchError("W031", os_user=os_user())
        return account
    return os_user_account(catalog, os_user())
