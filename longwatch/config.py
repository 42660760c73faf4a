"""Settings: the archive's ``longwatch.toml`` plus the environment, as one object.

The archive directory is found as git finds ``.git``: ``-A DIR``, else
``LONGWATCH_ARCHIVE``, else the nearest ``longwatch.toml`` upward from the
current directory. Relative paths in the file are relative to the archive, so
an archive directory can be moved or mounted elsewhere as a whole.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from longwatch.errors import LongwatchError

CONFIG_NAME = "longwatch.toml"
ENV_ARCHIVE = "LONGWATCH_ARCHIVE"
ENV_CATALOG_URL = "LONGWATCH_CATALOG_URL"
#: When workers run the periodic jobs (cron, in the worker's zone); ``[jobs]`` in longwatch.toml overrides.
AUDIT_CRON = "17 3 * * *"
DISPOSITION_CRON = "47 1 * * *"


@dataclass(frozen=True)
class Location:
    """A named storage location: which adapter, and its options."""

    name: str
    adapter: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    root: Path
    name: str
    organization: str
    timezone: str
    language: str | None
    catalog_url: str
    primary_location: str
    locations: dict[str, Location]
    key_path: Path
    cert_path: Path
    passphrase_env: str
    passphrase_file: Path | None = None
    #: false only when ``longwatch init --unencrypted-key`` asked for a key file without a passphrase
    key_encrypted: bool = True
    audit_cron: str = AUDIT_CRON  # "" turns the periodic job off
    disposition_cron: str = DISPOSITION_CRON
    #: The archive's public web address ([archive] public_url): exports point recipients to its
    #: /.well-known/longwatch/anchors.json to compare fingerprints and checkpoints outside the export.
    public_url: str = ""
    #: [web]: how many reverse proxies in front of `longwatch serve` to believe (their X-Forwarded-* headers),
    #: minutes without a request after which a browser session ends, and the environment variable holding
    #: the bearer token that opens /metrics to other machines (without it, loopback only).
    trusted_proxies: int = 0
    session_idle_minutes: int = 30
    metrics_token_env: str = "LONGWATCH_METRICS_TOKEN"  # noqa: S105 - a variable name, not a secret
    #: [web] tile_url: the operator's own map tiles, a template with {z}, {x} and {y} (an https URL or a path on
    #: this server). Empty: the maps draw the cameras (and any basemap/ image) and fetch nothing from elsewhere.
    tile_url: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def key_passphrase(self) -> bytes | None:
        """The key's passphrase as unattended services give it: an environment variable, else a file.

        The file is ``passphrase_file`` in ``[signing]``, else the credential
        ``longwatch-key-passphrase`` that systemd's ``LoadCredential=`` puts in
        ``$CREDENTIALS_DIRECTORY``. Its last line break is not part of it.
        """
        value = os.environ.get(self.passphrase_env)
        if value:
            return value.encode()
        candidates = [self.passphrase_file] if self.passphrase_file else []
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials:
            candidates.append(Path(credentials) / "longwatch-key-passphrase")
        for path in candidates:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            data = data.removesuffix(b"\n").removesuffix(b"\r")
            if data:
                return data
        return None


#: What an archive's files are: its owner's alone (0600 files, 0700 folders) unless LONGWATCH_UMASK says more.
DEFAULT_UMASK = 0o077


def private_files() -> int:
    """Make every file this process creates from now on unreadable to others, whatever the shell's umask.

    Why the process umask rather than a mode per file: the catalog (SQLite and
    its journals), ledger segments, keys, storage, uploads, exports, caches
    and what ffmpeg writes are made in many places and by other programs; the
    umask covers all of them, so no new code path can forget. Footage of
    people is personal data (PIPA): the default is 0600/0700.
    ``LONGWATCH_UMASK`` (octal, e.g. ``027`` for a group of operators) may
    open it to a group; files are never made writable by everyone.
    """
    text = os.environ.get("LONGWATCH_UMASK", "").strip()
    try:
        mask = int(text, 8) if text else DEFAULT_UMASK
    except ValueError as exc:
        raise LongwatchError("A003", path="LONGWATCH_UMASK", detail=f"{text[:20]!r} is not an octal umask") from exc
    if not text.isascii() or not 0 <= mask <= 0o777:
        raise LongwatchError("A003", path="LONGWATCH_UMASK", detail=f"{text[:20]!r} is not an octal umask")
    mask |= 0o002
    os.umask(mask)
    return mask


def find_archive(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Path:
    """Return the archive directory, or raise A001 saying how to name one."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise LongwatchError("A001")
        return root
    env = os.environ.get(ENV_ARCHIVE)
    if env:
        return find_archive(env)
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise LongwatchError("A001")


def load(root: Path) -> Settings:
    """Read and check ``longwatch.toml``; every mistake is an A003 naming the file."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LongwatchError("A003", path=path, detail=str(exc)) from exc
    return load_text(root, text)


def load_text(root: Path, text: str) -> Settings:
    """Settings from the text of a ``longwatch.toml`` that belongs to ``root``."""
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LongwatchError("A003", path=path, detail=str(exc)) from exc

    def section(name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise LongwatchError("A003", path=path, detail=f"[{name}] must be a table")
        return value

    archive, catalog, storage, signing = (section(n) for n in ("archive", "catalog", "storage", "signing"))
    timezone = str(archive.get("timezone", "Asia/Seoul"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LongwatchError("A003", path=path, detail=f"unknown time zone {timezone!r}") from exc

    locations: dict[str, Location] = {}
    for name, spec in (storage.get("locations") or {}).items():
        if not isinstance(spec, dict) or "adapter" not in spec:
            raise LongwatchError("A003", path=path, detail=f"storage location {name!r} needs an adapter")
        options = {k: v for k, v in spec.items() if k != "adapter"}
        locations[name] = Location(name=name, adapter=str(spec["adapter"]), options=options)
    primary = str(storage.get("primary", "primary"))
    if primary not in locations:
        raise LongwatchError("A003", path=path, detail=f"primary storage location {primary!r} is not defined")

    jobs = section("jobs")
    crons = {}
    for key, default in (("audit_cron", AUDIT_CRON), ("disposition_cron", DISPOSITION_CRON)):
        value = jobs.get(key, default)
        if not isinstance(value, str) or (value.strip() and len(value.split()) != 5):
            raise LongwatchError("A003", path=path, detail=f"[jobs] {key} must be a cron line of five fields "
                                                           f"(minute hour day month weekday) or \"\" for none")
        crons[key] = value.strip()

    web = section("web")
    numbers: dict[str, int] = {}
    for name, fallback in (("trusted_proxies", 0), ("session_idle_minutes", 30)):
        number = web.get(name, fallback)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 10_000:
            raise LongwatchError("A003", path=path, detail=f"[web] {name} must be a whole number from 0 to 10000")
        numbers[name] = number

    tile_url = str(web.get("tile_url", "")).strip()
    if tile_url and not tile_url_ok(tile_url):
        raise LongwatchError("A003", path=path, detail="[web] tile_url must be an http(s) URL or a path starting "
                                                       "with / that holds {z}, {x} and {y}")

    url = os.environ.get(ENV_CATALOG_URL) or str(catalog.get("url", "sqlite:///catalog.sqlite"))
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(root / url[len("sqlite:///") :])

    return Settings(
        root=root,
        name=str(archive.get("name", root.name)),
        organization=str(archive.get("organization", "")),
        timezone=timezone,
        language=archive.get("language"),
        catalog_url=url,
        primary_location=primary,
        locations=locations,
        key_path=root / str(signing.get("key", "keys/signing-key.pem")),
        cert_path=root / str(signing.get("cert", "keys/signing-cert.pem")),
        passphrase_env=str(signing.get("passphrase_env", "LONGWATCH_KEY_PASSPHRASE")),
        passphrase_file=(root / str(signing["passphrase_file"])) if signing.get("passphrase_file") else None,
        key_encrypted=bool(signing.get("encrypted", True)),
        public_url=str(archive.get("public_url", "")).strip().rstrip("/"),
        metrics_token_env=str(web.get("metrics_token_env", "LONGWATCH_METRICS_TOKEN")),
        trusted_proxies=numbers["trusted_proxies"],
        session_idle_minutes=numbers["session_idle_minutes"],
        tile_url=tile_url,
        **crons,
    )


def tile_url_ok(template: str) -> bool:
    """Whether ``template`` is a tile URL the maps may use: http(s) or a local path, with {z}, {x} and {y}.

    Checked when the settings are read, so a typo is an error at start-up rather than a blank map."""
    if not all(part in template for part in ("{z}", "{x}", "{y}")) or any(c in template for c in "\"' <>"):
        return False
    return template.startswith(("https://", "http://")) or (template.startswith("/") and not template.startswith("//"))


def set_catalog_url(root: Path, url: str) -> None:
    """Point the archive at another catalog (``longwatch db copy --switch``): ``[catalog] url`` in longwatch.toml.

    Only that one line changes (comments and the rest stay as the operator wrote
    them), and the file is replaced atomically and kept private (a database URL
    may hold a password; LONGWATCH_CATALOG_URL is the alternative).
    """
    path = root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    escaped = url.replace("\\", "\\\\").replace('"', '\\"')
    section = re.search(r"^\[catalog\][^\[]*", text, re.M)
    line = f'url = "{escaped}"'
    if section is None:
        text = text.rstrip("\n") + f"\n\n[catalog]\n{line}\n"
    elif re.search(r"^url\s*=.*$", section.group(0), re.M):
        body = re.sub(r"^url\s*=.*$", lambda _m: line, section.group(0), count=1, flags=re.M)
        text = text[:section.start()] + body + text[section.end():]
    else:
        text = text[:section.end()].rstrip("\n") + f"\n{line}\n\n" + text[section.end():]
    load_text(root, text)  # refuse to write a file that no longer loads
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def render_default(name: str, organization: str, timezone: str, language: str, encrypted: bool = True) -> str:
    """The ``longwatch.toml`` that ``longwatch init`` writes, with comments for the operator."""

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    unencrypted = "" if encrypted else "encrypted = false  # longwatch init --unencrypted-key\n"

    return f"""# longwatch archive configuration. Paths are relative to this directory.
[archive]
name = {q(name)}
# Written into every package as Source-Organization and as a PREMIS agent.
organization = {q(organization)}
# Times are stored in UTC and shown in this zone.
timezone = {q(timezone)}
# Language of messages and pages: "ko" or "en".
language = {q(language)}

[catalog]
# SQLite by default; a PostgreSQL URL (postgresql+psycopg://...) at scale.
# LONGWATCH_CATALOG_URL overrides this.
url = "sqlite:///catalog.sqlite"

[storage]
primary = "primary"

[storage.locations.primary]
adapter = "local"
path = "storage"

[signing]
key = "keys/signing-key.pem"
cert = "keys/signing-cert.pem"
# The key is encrypted; its passphrase comes from this environment variable,
# else from passphrase_file (e.g. "/etc/longwatch/passphrase", mode 0400), else
# from systemd's credential longwatch-key-passphrase, else a prompt on a terminal.
passphrase_env = "LONGWATCH_KEY_PASSPHRASE"
# passphrase_file = "/etc/longwatch/passphrase"
{unencrypted}# A key in an HSM instead: `longwatch keys rotate --pkcs11-module ...` (docs/keys.md).
"""
