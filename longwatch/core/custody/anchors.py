"""What the archive publishes so that others can check it without taking its word: its anchors.

A signature proves only that *some* key signed; an export or a ledger that
was remade end to end with a new key is internally consistent. What a court
or an insurer compares against must come from outside the thing checked:
the archive's signing certificates (fingerprints and validity) and its latest
signed checkpoints, published at a stable public address beside the CCTV
notice (``/.well-known/longwatch/anchors.json``, and a page for people) and
written to a file for other channels (``longwatch custody publish``: a
gazette, a court's or police agency's verifier, a second archive). Whoever
kept an older copy holds the archive to it: ``custody verify --checkpoints``
checks a later ledger against the kept checkpoints, and a rewrite or a
truncation after them shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.serialization import Encoding

from longwatch import clock
from longwatch.core.aip import signing
from longwatch.core.custody.entries import utc_text

if TYPE_CHECKING:
    from longwatch.core.archive import Archive
    from longwatch.core.custody.ledger import Ledger

FORMAT = "longwatch-anchors/1"
#: the stable address, relative to the archive's public web address
WELL_KNOWN = "/.well-known/longwatch/anchors.json"
#: how many of the newest checkpoints are published (every one is in the ledger folder and in each proof)
LATEST = 20


def certificate_dict(anchor: signing.Anchor, current: bool) -> dict[str, Any]:
    """One key of the history: its certificate, and when the archive signed with it (a signature dated outside
    that period is not the archive's, whoever holds the old key now)."""
    cert = anchor.cert
    return {
        "fingerprint_sha256": signing.fingerprint(cert),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": utc_text(cert.not_valid_before_utc),
        "not_after": utc_text(cert.not_valid_after_utc),
        "in_use_from": utc_text(anchor.since) if anchor.since else None,
        "in_use_until": utc_text(anchor.until) if anchor.until else None,
        "current": current,
        "pem": cert.public_bytes(Encoding.PEM).decode("ascii"),
    }


def certificates(archive: Archive) -> list[signing.Anchor]:
    """Every key the archive has signed with (its key history), the one in use first, then newest first."""
    current = signing.fingerprint(archive.certificate)
    anchors = list(archive.trusted)
    if not any(signing.fingerprint(a.cert) == current for a in anchors):
        anchors.append(signing.Anchor(archive.certificate))
    return sorted(anchors, key=lambda a: (signing.fingerprint(a.cert) != current,
                                          -(a.since.timestamp() if a.since else 0)))


def document(archive: Archive, ledger: Ledger) -> dict[str, Any]:
    """The anchors as JSON: certificates (current first) and the newest signed checkpoints of the ledger."""
    current = signing.fingerprint(archive.certificate)
    checkpoints = ledger.checkpoints()[-LATEST:]
    return {
        "format": FORMAT,
        "archive": archive.settings.name,
        "organization": archive.settings.organization,
        "origin": ledger.origin,
        "published": utc_text(clock.now()),
        "certificates": [certificate_dict(a, signing.fingerprint(a.cert) == current) for a in certificates(archive)],
        "checkpoints": [cp.to_dict() for cp in reversed(checkpoints)],
        "how_to_check": (
            "Compare the fingerprint_sha256 of the certificate in an export or package (openssl x509 -noout "
            "-fingerprint -sha256) with the ones listed here, obtained from this address, not from the export. "
            "Keep this file: `longwatch custody verify --checkpoints FILE` shows any rewrite or truncation of the "
            "ledger after the checkpoints it lists."),
    }


def note_files(ledger: Ledger) -> dict[str, bytes]:
    """The newest checkpoint as plain files (signed note, its CMS signature, its time-stamp) for other channels."""
    cp = ledger.checkpoints()[-1:] if ledger.checkpoints() else []
    out: dict[str, bytes] = {}
    for c in cp:
        out[f"checkpoint-{c.size}.note"] = c.note
        out[f"checkpoint-{c.size}.note.p7s"] = c.signature
        if c.tsr:
            out[f"checkpoint-{c.size}.note.p7s.tsr"] = c.tsr
    return out


def pem_bundle(doc: dict[str, Any]) -> str:
    return "".join(c["pem"] for c in doc["certificates"])
