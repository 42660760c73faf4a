"""An open archive: its settings, catalog, storage locations, signer and plugins, together.

Everything is opened lazily so that a command such as ``longwatch plugins``
or ``verify PATH`` on a bare package never needs the key or the catalog.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import pluggy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from longwatch import config, registry

# Kept importable from here: the umask is set wherever an archive is opened (config has it so that the
# ingest command's early pass can set it before this module's imports).
from longwatch.config import DEFAULT_UMASK as DEFAULT_UMASK
from longwatch.config import private_files as private_files
from longwatch.core import accounts
from longwatch.core.aip import keys, signing
from longwatch.core.catalog import Catalog
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import StorageAdapter


class Archive:
    #: asks a person for the key's passphrase when no variable or file gives it (set by the CLI on a terminal)
    passphrase_prompt: Callable[[], bytes | None] | None = None

    def __init__(self, settings: config.Settings, pm: pluggy.PluginManager | None = None) -> None:
        private_files()
        self.settings = settings
        self.root = settings.root
        self.pm = pm or registry.get_plugin_manager()
        #: The account on whose behalf this process acts (the CLI's signed-in or mapped account, a job's
        #: requester); None until one is known.
        self.acting: str | None = None

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None,
             pm: pluggy.PluginManager | None = None) -> Archive:
        return cls(config.load(config.find_archive(explicit)), pm)

    @classmethod
    def create(
        cls,
        root: Path,
        name: str = "",
        organization: str = "",
        timezone: str = "Asia/Seoul",
        language: str = "ko",
        key_path: Path | None = None,
        cert_path: Path | None = None,
        pm: pluggy.PluginManager | None = None,
        unencrypted_key: bool = False,
        passphrase_prompt: Callable[[], bytes | None] | None = None,
        generate_passphrase: bool = False,
    ) -> Archive:
        """``longwatch init``: config, catalog, storage root, the CA and a signing key, all or nothing.

        With no passphrase from the environment, a file or a terminal and
        ``generate_passphrase`` (an unattended ``init``), the keys are still
        encrypted, with a random passphrase kept in ``keys/passphrase`` (0600)
        and named by ``[signing] passphrase_file``, for the operator to move
        off the archive's disk (docs/keys.md): a copy of the archive's keys
        folder without it does not give the key away.

        The keys are encrypted with the passphrase the settings give (or the
        prompt asks for); K006 without one, unless ``unencrypted_key``.
        """
        root = root.expanduser().resolve()
        if (root / config.CONFIG_NAME).exists():
            raise LongwatchError("A002", path=root)
        created_root = not root.exists()
        mask = private_files()
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o777 & ~mask)  # an empty folder given to init: made private as a new one would be
        try:
            text = config.render_default(name or root.name, organization, timezone, language,
                                         encrypted=not unencrypted_key)
            tmp = root / (config.CONFIG_NAME + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            settings = config.load_text(root, text)
            passphrase = settings.key_passphrase()
            if passphrase is None and not unencrypted_key and passphrase_prompt is not None:
                passphrase = passphrase_prompt()
            if passphrase is None and not unencrypted_key and generate_passphrase:
                text, passphrase = _generated_passphrase(root, text)
                tmp.write_text(text, encoding="utf-8")
                settings = config.load_text(root, text)
            keys.Keyring(settings).create(organization, None if unencrypted_key else passphrase,
                                          key_path, cert_path)
            archive = cls(settings, pm)
            archive.passphrase_prompt = passphrase_prompt
            archive.open_catalog(missing_ok=True).upgrade()
            archive.storage()
            # the OS user who made the archive is its first administrator, so a fresh archive is usable
            archive.acting = getattr(accounts.bootstrap_administrator(archive.catalog, accounts.os_user()),
                                     "username", None)
            os.replace(tmp, root / config.CONFIG_NAME)  # the archive exists from this moment
            return archive
        except BaseException:
            for leftover in (root / (config.CONFIG_NAME + ".tmp"),):
                leftover.unlink(missing_ok=True)
            if created_root:
                shutil.rmtree(root, ignore_errors=True)
            raise

    @functools.cached_property
    def catalog(self) -> Catalog:
        """The catalog, upgraded to the newest schema; A005 if its SQLite file is gone while storage holds packages."""
        return self.open_catalog()

    def open_catalog(self, missing_ok: bool = False) -> Catalog:
        """Open (and cache) the catalog. ``missing_ok`` is for ``longwatch init`` and ``longwatch reindex`` only.

        A SQLite catalog is a file; opening a missing one would create it
        empty, and an operator who lost the catalog would see an empty archive
        and carry on. So a missing file is created only for an archive whose
        storage holds no package yet (a new one); otherwise A005 points to
        ``longwatch reindex`` or to the backup. A database URL (PostgreSQL)
        has no file to miss and opens as before.
        """
        if "catalog" in self.__dict__:
            return self.__dict__["catalog"]
        if not missing_ok:
            self._refuse_a_lost_catalog()
        catalog = Catalog(self.settings.catalog_url, self.pm)
        catalog.ensure_current()
        catalog.archive = self
        self.__dict__["catalog"] = catalog
        return catalog

    def _refuse_a_lost_catalog(self) -> None:
        try:
            url = make_url(self.settings.catalog_url)
        except (ArgumentError, ValueError):
            return  # Catalog() says what is wrong with the URL (A004)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
                or url.database.startswith("file:") or Path(url.database).exists():
            return
        for name in [self.settings.primary_location, *sorted(set(self.settings.locations)
                                                               - {self.settings.primary_location})]:
            if next(iter(self.storage(name).package_ids()), None) is not None:
                raise LongwatchError("A005", path=url.database, location=name)

    @property
    def signer(self) -> signing.Signer:
        """The key in use (a file or a PKCS#11 token's); K004/K005 without the right passphrase.

        Kept while the key history is unchanged: a long-running worker must not
        go on signing with a key that `longwatch keys rotate` retired meanwhile.
        """
        try:
            stat = (self.root / keys.HISTORY).stat()
            version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            version = (0, 0, 0)
        cached = self.__dict__.get("_signer")
        if cached is None or cached[0] != version:
            self.__dict__["_signer"] = cached = (version, self.keyring.signer(self.passphrase))
            self.__dict__.pop("certificate", None)
        return cached[1]

    def passphrase(self) -> bytes | None:
        """The key's passphrase: the settings' variable or file, else the prompt (on a terminal)."""
        value = self.settings.key_passphrase()
        if value is None and self.passphrase_prompt is not None:
            value = self.passphrase_prompt()
        return value

    @property
    def keyring(self) -> keys.Keyring:
        return keys.Keyring(self.settings)

    def forget_signer(self) -> None:
        """After a rotation: the next signature is made with the new key."""
        for name in ("_signer", "certificate"):
            self.__dict__.pop(name, None)

    @functools.cached_property
    def certificate(self) -> signing.x509.Certificate:
        """The certificate of the key in use (the first of ``keys/signing-cert.pem``; its issuers follow)."""
        return signing.load_certificate(self.settings.cert_path)

    @property
    def certificate_chain(self) -> bytes:
        """The PEM of the key in use's certificate and its issuers, for ``openssl -CAfile``."""
        return self.settings.cert_path.read_bytes()

    @property
    def trusted(self) -> list[signing.Anchor]:
        """Every key this archive ever signed with, each for its period: what verification trusts (read afresh)."""
        return self.keyring.anchors()

    @functools.cache  # noqa: B019 - one adapter per location for the archive's lifetime
    def storage(self, location: str | None = None) -> StorageAdapter:
        name = location or self.settings.primary_location
        spec = self.settings.locations.get(name)
        if spec is None:
            raise LongwatchError("A003", path=self.root / config.CONFIG_NAME,
                                 detail=f"no storage location {name!r}")
        adapters = registry.storage_adapters(self.pm)
        cls = adapters.get(spec.adapter)
        if cls is None:
            raise LongwatchError("P002", name=spec.adapter, available=", ".join(sorted(adapters)) or "none")
        adapter: StorageAdapter = cls(name, spec.options, self.root)
        return adapter

    def act_as(self, username: str | None) -> str | None:
        """Act on behalf of account ``username`` from now on; returns the account acted for before."""
        before, self.acting = self.acting, username
        return before

    @property
    def operator(self) -> str:
        """Who asked for what this process does, recorded as a PREMIS agent of type person.

        The acting account (see :meth:`act_as`); without one, the OS user, which
        only read-only commands and the archive's own upkeep should ever record.
        No environment variable names it.
        """
        return self.acting or accounts.os_user() or "unknown"

    def close(self) -> None:
        if "catalog" in self.__dict__:
            self.catalog.dispose()


#: where an unattended ``init`` keeps the passphrase it generated (a path, not a secret)
GENERATED_PASSPHRASE = "keys/passphrase"  # noqa: S105


def _generated_passphrase(root: Path, text: str) -> tuple[str, bytes]:
    """A random passphrase in ``keys/passphrase`` (0600) and the configuration text that names it."""
    passphrase = secrets.token_urlsafe(32).encode()
    path = root / GENERATED_PASSPHRASE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(passphrase + b"\n")
    example = '# passphrase_file = "/etc/longwatch/passphrase"\n'
    named = text.replace(example, f'{example}passphrase_file = "{GENERATED_PASSPHRASE}"\n')
    return named, passphrase
