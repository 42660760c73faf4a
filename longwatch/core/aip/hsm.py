"""A signing key that lives in a PKCS#11 token (a city's HSM, or SoftHSM in the tests).

Why: a key file can be copied by whoever reads the disk; a key generated in
an HSM never leaves it, and the archive only asks it to sign. The CMS
structure is built in ``signing.py``; this module answers the one question it
asks of a key (sign these bytes with ECDSA over SHA-256) and says which public
key it holds. ``python-pkcs11`` is imported only here.

The PIN comes from an environment variable (``pkcs11_pin_env`` in
``[signing]``, ``LONGWATCH_PKCS11_PIN`` by default), as an unattended
service is given secrets; it is never written to the archive.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from asn1crypto.algos import DSASignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from longwatch.errors import LongwatchError

DEFAULT_PIN_ENV = "LONGWATCH_PKCS11_PIN"


def _api() -> Any:
    # Deferred: python-pkcs11 takes about 0.2 s to import, and only an archive whose key is in a token needs it.
    import pkcs11
    import pkcs11.util.ec

    return pkcs11


@functools.cache
def _library(module: str) -> Any:
    """One loaded module per process: PKCS#11 modules are initialised once."""
    pkcs11 = _api()
    try:
        return pkcs11.lib(module)
    except (RuntimeError, OSError, pkcs11.PKCS11Error) as exc:
        raise LongwatchError("K011", detail=f"{module}: {exc}") from exc


@dataclass(frozen=True)
class TokenKey:
    """The private half of an EC P-256 key in a token, named by the token's and the key's labels."""

    module: str
    token: str
    label: str
    pin_env: str = DEFAULT_PIN_ENV

    def _pin(self) -> str:
        pin = os.environ.get(self.pin_env, "")
        if not pin:
            raise LongwatchError("K011", detail=f"no PIN: set the environment variable {self.pin_env}")
        return pin

    def _session(self, rw: bool = False) -> Any:
        pkcs11 = _api()
        try:
            token = _library(self.module).get_token(token_label=self.token)
            return token.open(user_pin=self._pin(), rw=rw)
        except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned) as exc:
            raise LongwatchError("K011", detail=f"no single token labelled {self.token!r} ({exc!r})") from exc
        except pkcs11.PKCS11Error as exc:
            raise LongwatchError("K011", detail=f"token {self.token!r}: {exc!r}") from exc

    def _get(self, session: Any, private: bool) -> Any:
        pkcs11 = _api()
        kind = pkcs11.ObjectClass.PRIVATE_KEY if private else pkcs11.ObjectClass.PUBLIC_KEY
        try:
            return session.get_key(object_class=kind, key_type=pkcs11.KeyType.EC, label=self.label)
        except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as exc:
            raise LongwatchError("K012", label=self.label, token=self.token) from exc

    def public_key(self) -> ec.EllipticCurvePublicKey:
        with self._session() as session:
            der = _api().util.ec.encode_ec_public_key(self._get(session, private=False))
        key = serialization.load_der_public_key(der)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise LongwatchError("K011", detail=f"key {self.label!r} is not an EC key")
        return key

    def sign_sha256(self, data: bytes) -> bytes:
        """CKM_ECDSA over the SHA-256 digest (what every token offers), returned as DER."""
        pkcs11 = _api()
        with self._session() as session:
            try:
                raw = self._get(session, private=True).sign(hashlib.sha256(data).digest(),
                                                            mechanism=pkcs11.Mechanism.ECDSA)
            except pkcs11.PKCS11Error as exc:
                raise LongwatchError("K011", detail=f"signing failed: {exc!r}") from exc
        return bytes(DSASignature.from_p1363(raw).dump())


def generate(module: str, token: str, label: str, pin_env: str = DEFAULT_PIN_ENV) -> TokenKey:
    """A new EC P-256 key pair generated inside the token (never extractable), stored under ``label``."""
    pkcs11 = _api()
    key = TokenKey(module, token, label, pin_env)
    with key._session(rw=True) as session:
        try:
            session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, key_type=pkcs11.KeyType.EC, label=label)
        except pkcs11.NoSuchKey:
            pass
        except pkcs11.MultipleObjectsReturned:
            raise LongwatchError("K011", detail=f"the token already holds keys labelled {label!r}") from None
        else:
            raise LongwatchError("K011", detail=f"the token already holds a key labelled {label!r}")
        try:
            params = session.create_domain_parameters(
                pkcs11.KeyType.EC,
                {pkcs11.Attribute.EC_PARAMS: pkcs11.util.ec.encode_named_curve_parameters("secp256r1")}, local=True)
            params.generate_keypair(store=True, label=label, private_template={
                pkcs11.Attribute.SENSITIVE: True, pkcs11.Attribute.EXTRACTABLE: False})
        except pkcs11.PKCS11Error as exc:
            raise LongwatchError("K011", detail=f"key generation failed: {exc!r}") from exc
    return key
