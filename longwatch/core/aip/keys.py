"""The archive's signing keys over time: its CA, the key in use, and every key it used before.

Why: a signature must outlive the key that made it. Rotating the key (or
moving it into an HSM) must not make a single older package, checkpoint or
export fail, and a key taken out of service must not be able to sign "as the
archive" afterwards. So the archive keeps a key history (``keys/history.json``):
each key's certificate and the period the archive signed with it. Every
verification trusts exactly these keys, each for its period
(:func:`longwatch.core.aip.signing.trust_reason`).

The archive's own CA (``keys/ca-key.pem``, encrypted like the signing key, and
best moved offline between rotations) issues each end-entity certificate; a
city may instead import a key and a certificate its own CA issued. Private
keys are written encrypted unless the archive was made with
``--unencrypted-key``. The ledger records each change (``commands/keys.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longwatch import clock, config
from longwatch.core.aip import hsm, signing
from longwatch.errors import LongwatchError

HISTORY = "keys/history.json"
CA_KEY = "keys/ca-key.pem"
CA_CERT = "keys/ca-cert.pem"
CERTS = "keys/certs"
TRUSTED = "keys/trusted.pem"  # every certificate the archive ever signed with: what `verify --cert` takes


@dataclass
class KeyEntry:
    """One key the archive signed with, and when."""

    fingerprint: str
    subject: str
    issuer: str
    cert: str  # path of its certificate (and chain), relative to the archive
    since: str  # ISO 8601 UTC: when the archive began to sign with it ("" for a key older than the history)
    until: str = ""  # when it was rotated out ("" while in use)
    origin: str = "generated"  # generated | imported | pkcs11
    not_after: str = ""
    pkcs11: dict[str, str] = field(default_factory=dict)  # module, token, label, pin_env

    @property
    def active(self) -> bool:
        return not self.until

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pending(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _when(text: str) -> dt.datetime | None:
    return clock.parse_time(text) if text else None


def check_end_entity(cert: signing.x509.Certificate, path: Path | str) -> None:
    """K009 unless the certificate may sign documents and may not issue certificates."""
    if signing.is_ca(cert):
        raise LongwatchError("K009", path=path, detail="it is a CA certificate (basicConstraints CA:TRUE); "
                                                       "ask the CA for an end-entity certificate")
    try:
        usage = cert.extensions.get_extension_for_class(signing.x509.KeyUsage).value
    except signing.x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise LongwatchError("K009", path=path, detail="its key usage does not include digitalSignature")


class Keyring:
    """The keys of one archive (its settings say where they are)."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.root = settings.root

    # -- reading ------------------------------------------------------------------------------------------
    @property
    def history_path(self) -> Path:
        return self.root / HISTORY

    def entries(self) -> list[KeyEntry]:
        """The history, oldest first; an archive made before it has one entry, its present key."""
        path = self.history_path
        if not path.exists():
            if not self.settings.cert_path.exists():
                return []
            cert = signing.load_certificate(self.settings.cert_path)
            return [self._entry(cert, self.settings.cert_path, since="", origin="generated")]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return [KeyEntry(**e) for e in data["keys"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LongwatchError("K008", path=path, detail=str(exc)) from exc

    def active(self) -> KeyEntry | None:
        current = [e for e in self.entries() if e.active]
        return current[-1] if current else None

    def anchors(self) -> list[signing.Anchor]:
        """Every key the archive signed with, each trusted for the period it was in use."""
        out = []
        for entry in self.entries():
            path = self.root / entry.cert
            cert = signing.load_certificate(path if path.exists() else self.settings.cert_path)
            out.append(signing.Anchor(cert, since=_when(entry.since), until=_when(entry.until)))
        return out

    def ca(self, passphrase: bytes | None, ca_key: Path | None = None) -> signing.Signer:
        key_path = ca_key or self.root / CA_KEY
        if not key_path.exists():
            raise LongwatchError("K010", path=key_path)
        return signing.load(key_path, self.root / CA_CERT, passphrase)

    def _ca_for_rotation(self, passphrase: bytes | None, ca_key: Path | None) -> signing.Signer:
        """The CA that certifies the next key; an archive made before the key history gets its CA now."""
        if ca_key is None and not (self.root / CA_KEY).exists() and not self.history_path.exists():
            if self.settings.key_encrypted and not passphrase:
                raise LongwatchError("K006")
            ca = signing.generate_ca(self.settings.organization, f"longwatch archive {self.settings.name} CA")
            self._save_ca(ca, passphrase)
            return ca
        return self.ca(passphrase, ca_key)

    def signer(self, passphrase: Any) -> signing.Signer:
        """The key in use: a token's key, or the key file (``passphrase`` is called only if it is encrypted).

        It must be the key the history names (K013 if not): a key put in place
        by hand, or half a rotation, signs nothing. A rotation that stopped
        after writing the history is completed here.
        """
        entry = self.active()
        if entry is not None and entry.pkcs11:
            key = hsm.TokenKey(**entry.pkcs11)
            cert, *chain = signing.load_certificates(self.root / entry.cert)
            return signing.pair(key, cert, entry.cert, tuple(chain))
        key_path = self.settings.key_path
        if entry is not None:
            self._finish_rotation(entry)
        if key_path.exists() and not signing.key_is_encrypted(key_path) and self.settings.key_encrypted:
            raise LongwatchError("K007", path=key_path)
        secret = passphrase() if signing.key_is_encrypted(key_path) else None
        signer = signing.load(key_path, self.settings.cert_path, secret)
        if entry is not None and signer.fingerprint != entry.fingerprint:
            raise LongwatchError("K013", path=key_path, fingerprint=entry.fingerprint)
        return signer

    def _finish_rotation(self, entry: KeyEntry) -> None:
        """Install the new key files a rotation wrote beside the old ones, once the history names them."""
        new_cert = _pending(self.settings.cert_path)
        if not new_cert.exists():
            return
        if signing.fingerprint(signing.load_certificate(new_cert)) != entry.fingerprint:
            return  # a rotation that never reached the history: the old key stays in use
        new_key = _pending(self.settings.key_path)
        if new_key.exists():
            os.replace(new_key, self.settings.key_path)
        else:
            self.settings.key_path.unlink(missing_ok=True)  # the new key is in a token
        os.replace(new_cert, self.settings.cert_path)

    # -- writing ------------------------------------------------------------------------------------------
    def _entry(self, cert: signing.x509.Certificate, path: Path, since: str, origin: str,
               token: dict[str, str] | None = None) -> KeyEntry:
        return KeyEntry(fingerprint=signing.fingerprint(cert), subject=cert.subject.rfc4514_string(),
                        issuer=cert.issuer.rfc4514_string(), cert=path.relative_to(self.root).as_posix(),
                        since=since, origin=origin, not_after=clock.iso_z(cert.not_valid_after_utc),
                        pkcs11=dict(token or {}))

    def _write(self, entries: list[KeyEntry]) -> None:
        path = self.history_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"keys": [e.to_dict() for e in entries]}, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
        certs = [signing.load_certificate(self.root / e.cert) for e in entries]
        signing.save_certificate(self.root / TRUSTED, *certs)

    def _keep(self, signer_cert: signing.x509.Certificate, chain: tuple[signing.x509.Certificate, ...]) -> Path:
        """A copy of the certificate (and chain) under keys/certs/, where it stays after rotation."""
        path = self.root / CERTS / (signing.fingerprint(signer_cert).removeprefix("SHA256:")[:32] + ".pem")
        signing.save_certificate(path, signer_cert, *chain)
        return path

    def _save_key(self, signer: signing.Signer, passphrase: bytes | None, pending: bool = False) -> None:
        """Write the key and its certificate (beside the ones in use when ``pending``, for a rotation)."""
        if self.settings.key_encrypted and not passphrase:
            raise LongwatchError("K006")
        key_path, cert_path = self.settings.key_path, self.settings.cert_path
        signing.save(signer, _pending(key_path) if pending else key_path,
                     _pending(cert_path) if pending else cert_path,
                     passphrase if self.settings.key_encrypted else None)

    def create(self, organization: str, passphrase: bytes | None, key_path: Path | None = None,
               cert_path: Path | None = None) -> signing.Signer:
        """``longwatch init``: the CA and a first key from it, or an imported key and certificate."""
        if self.settings.key_encrypted and not passphrase:
            raise LongwatchError("K006")
        if key_path is not None or cert_path is not None:
            if key_path is None or cert_path is None:
                raise LongwatchError("K001", path=key_path or cert_path, detail="give both --key and --cert")
            signer = self._imported(key_path, cert_path, passphrase)
            origin = "imported"
        else:
            ca = signing.generate_ca(organization, f"longwatch archive {self.settings.name} CA")
            self._save_ca(ca, passphrase)
            key = signing.ec.generate_private_key(signing.ec.SECP256R1())
            cert = signing.issue(ca, key.public_key(), organization, f"longwatch archive {self.settings.name}")
            signer = signing.Signer(key, cert, (ca.cert,))
            origin = "generated"
        self._save_key(signer, passphrase)
        self._write([self._entry(signer.cert, self._keep(signer.cert, signer.chain), clock.iso_z(clock.now()),
                                 origin)])
        return signer

    def _save_ca(self, ca: signing.Signer, passphrase: bytes | None) -> None:
        signing.save(ca, self.root / CA_KEY, self.root / CA_CERT,
                     passphrase if self.settings.key_encrypted else None)

    def _imported(self, key_path: Path, cert_path: Path, passphrase: bytes | None) -> signing.Signer:
        certs = signing.load_certificates(cert_path)
        check_end_entity(certs[0], cert_path)
        key = signing.load_key(key_path, passphrase)
        return signing.pair(key, certs[0], cert_path, tuple(certs[1:]))

    def rotate(self, passphrase: bytes | None, ca_key: Path | None = None, key_path: Path | None = None,
               cert_path: Path | None = None, token: dict[str, str] | None = None,
               generate_in_token: bool = False) -> tuple[KeyEntry | None, KeyEntry]:
        """Retire the key in use and sign from now on with a new one; return (retired, new).

        The new key is a fresh EC P-256 key with a certificate from the
        archive's CA, or an imported key and certificate (``key_path`` and
        ``cert_path``), or a key in a PKCS#11 token (``token``: module, token,
        label, pin_env; ``generate_in_token`` makes it there). The old key file
        is removed: what it signed stays valid through its certificate in the
        history, and it can sign nothing more as the archive.
        """
        entries = self.entries()
        if not self.history_path.exists() and entries:  # an archive older than the history: keep its key's cert
            old_cert, *old_chain = signing.load_certificates(self.settings.cert_path)
            entries[0].cert = self._keep(old_cert, tuple(old_chain)).relative_to(self.root).as_posix()
        now = clock.iso_z(clock.now())
        if token is not None:
            key: signing.PrivateKey | signing.TokenKey = (
                hsm.generate(**token) if generate_in_token else hsm.TokenKey(**token))
            ca = self._ca_for_rotation(passphrase, ca_key)
            cert = signing.issue(ca, key.public_key(), self.settings.organization,
                                 f"longwatch archive {self.settings.name}")
            signer = signing.Signer(key, cert, (ca.cert,))
            origin = "pkcs11"
        elif key_path is not None and cert_path is not None:
            signer = self._imported(key_path, cert_path, passphrase)
            origin = "imported"
        else:
            ca = self._ca_for_rotation(passphrase, ca_key)
            new_key = signing.ec.generate_private_key(signing.ec.SECP256R1())
            cert = signing.issue(ca, new_key.public_key(), self.settings.organization,
                                 f"longwatch archive {self.settings.name}")
            signer = signing.Signer(new_key, cert, (ca.cert,))
            origin = "generated"
        if any(e.fingerprint == signer.fingerprint for e in entries):
            raise LongwatchError("K009", path=cert_path or signer.cert.subject.rfc4514_string(),
                                 detail="the archive has signed with this key before; a rotation needs a new key")
        kept = self._keep(signer.cert, signer.chain)
        # the new files beside the old, then the history, then the swap: a crash in between leaves
        # either the old key in use or a rotation that the next signer completes (_finish_rotation)
        _pending(self.settings.key_path).unlink(missing_ok=True)
        if origin == "pkcs11":
            signing.save_certificate(_pending(self.settings.cert_path), signer.cert, *signer.chain)
        else:
            self._save_key(signer, passphrase, pending=True)
        retired = None
        for entry in entries:
            if entry.active:
                entry.until = now
                retired = entry
        new = self._entry(signer.cert, kept, now, origin, token)
        self._write([*entries, new])
        self._finish_rotation(new)
        return retired, new
