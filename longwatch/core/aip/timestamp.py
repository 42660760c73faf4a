"""RFC 3161 time-stamps: ask a time-stamp authority (TSA), and check what it answered.

Why: a signature made with the archive's own key proves who signed, not
when; a token from an independent TSA fixes the time, and anyone can check it
with ``openssl ts -verify -data FILE -in FILE.tsr -CAfile tsa.pem``. The
whole TimeStampResp (``.tsr``) is kept, because that is what openssl reads.

``asn1crypto`` parses and builds the ASN.1 here (it is imported only here and
in ``signing.py``); the signature value is checked by ``signing``.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import tsp

from longwatch.core.aip import signing

TIMEOUT = 15
MAX_RESPONSE = 1 << 20


class TimestampError(Exception):
    """Why a token is refused; the caller turns it into a coded problem."""


class ImprintMismatch(TimestampError):
    """The token is valid but time-stamps other data."""


@dataclass(frozen=True)
class TimestampInfo:
    time: datetime
    tsa_subject: str
    tsa_fingerprint: str
    serial: int
    policy: str


def request_token(url: str, data: bytes) -> bytes:
    """POST a SHA-256 time-stamp query for ``data``; return the DER TimeStampResp after checking it."""
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(data).digest()},
        "nonce": nonce,
        "cert_req": True,
    }).dump()
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"the TSA address {url!r} is not an http(s) URL")
    req = urllib.request.Request(url, data=query, method="POST",  # noqa: S310 - scheme checked above
                                 headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:  # noqa: S310
            body: bytes = response.read(MAX_RESPONSE)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"the TSA at {url} did not answer: {exc}") from exc
    resp = _load(body)
    token_nonce = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed["nonce"].native
    if token_nonce != nonce:
        raise TimestampError("the TSA answered with another request's nonce")
    verify_token(body, data)
    return body


def _load(body: bytes) -> tsp.TimeStampResp:
    try:
        resp = tsp.TimeStampResp.load(body)
        status = resp["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"not an RFC 3161 response: {exc}") from exc
    if status not in ("granted", "granted_with_mods"):
        text = resp["status"]["status_string"].native
        raise TimestampError(f"the TSA refused: {status} {text or ''}".strip())
    return resp


def verify_token(body: bytes, data: bytes) -> TimestampInfo:
    """Check that the response time-stamps exactly ``data`` and that the TSA's signature holds."""
    resp = _load(body)
    try:
        signed = resp["time_stamp_token"]["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the token does not hold TSTInfo")
        tst_der = encap["content"].contents
        tst = tsp.TSTInfo.load(tst_der)
        imprint = tst["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if algorithm not in ("sha256", "sha384", "sha512"):
            raise TimestampError(f"unsupported imprint algorithm {algorithm}")
        if hashlib.new(algorithm, data).digest() != imprint["hashed_message"].native:
            raise ImprintMismatch("the token time-stamps other data (message imprint differs)")
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise TimestampError(f"expected one TSA signer, found {len(signers)}")
        signer = signers[0]
        cert_der = signing.enclosed_signer_certificate(signed, signer)
        if cert_der is None:
            raise TimestampError("the TSA certificate is not enclosed (request it with certReq)")
        digest_algorithm = signer["digest_algorithm"]["algorithm"].native
        attrs = signer["signed_attrs"]
        digest = None
        for attr in attrs:
            if attr["type"].native == "message_digest":
                digest = attr["values"][0].native
            elif attr["type"].native == "content_type" and attr["values"][0].native != "tst_info":
                raise TimestampError("signed content type is not TSTInfo")
        if digest is None or hashlib.new(digest_algorithm, tst_der).digest() != digest:
            raise TimestampError("the TSTInfo was changed after the TSA signed it")
        cert_obj = signing.check_signature_value(cert_der, signer["signature"].native,
                                                 b"\x31" + attrs.dump()[1:], digest_algorithm)
    except signing.SignatureError as exc:
        raise TimestampError(str(exc)) from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise TimestampError(f"malformed token: {exc}") from exc
    return TimestampInfo(
        time=tst["gen_time"].native,
        tsa_subject=cert_obj.subject.rfc4514_string(),
        tsa_fingerprint=signing.fingerprint(cert_obj),
        serial=int(tst["serial_number"].native),
        policy=str(tst["policy"].native),
    )
