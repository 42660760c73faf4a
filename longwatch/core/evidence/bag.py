"""The layout of an evidence export bag: the names its writer and its checker share.

:mod:`longwatch.core.evidence.export` writes a bag in this layout and
:mod:`longwatch.core.evidence.verify_export` checks one; neither imports the
other, both import these names (paths relative to the bag)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    tagmanifest-sha256.txt.p7s  [tagmanifest-sha256.txt.p7s.tsr]
    REPORT.html  REPORT.pdf  VERIFY.txt  export.json
    data/packages/<package id>/media/<file>        the originals
    data/packages/<package id>/metadata/{premis,dc}.xml
    data/access/<package id>/<file>.ACCESS-COPY-watermarked.mp4   [watermarked copies, not evidence]
    data/custody/extract.jsonl                       the ledger entries, exact bytes
    data/custody/proofs/<seq>.json                   RFC 9162 inclusion proofs
    data/custody/checkpoint.note[.p7s[.tsr]]         the fresh checkpoint
    data/custody/consistency.json                    RFC 9162 consistency proof from the previous checkpoint
    data/custody/signer-chain.pem  [tsa-chain.pem]   certificates
"""

from __future__ import annotations

import json
from pathlib import Path

from longwatch.core.aip.fixity import digest_stream, open_for_reading
from longwatch.core.custody import anchors

FORMAT = "longwatch-evidence-export/1"
SIGNATURE = "tagmanifest-sha256.txt.p7s"
TIMESTAMP_REPLY = "tagmanifest-sha256.txt.p7s.tsr"
CUSTODY = "data/custody"
CONSISTENCY = "data/custody/consistency.json"
#: Where an archive publishes its certificates and checkpoints, under its public base URL (web/anchors.py).
KEYS_PATH = anchors.WELL_KNOWN
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "export.json", "REPORT.html", "REPORT.pdf",
             "VERIFY.txt")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file of the bag, read unbuffered with read-ahead."""
    with open_for_reading(path) as fh:
        return digest_stream(fh, algorithms=("sha256",))["sha256"]


def payload_oxum(bag: Path) -> str:
    """BagIt's Payload-Oxum of what is under ``data/`` now: ``<bytes>.<files>``."""
    files = [p for p in (bag / "data").rglob("*") if p.is_file()] if (bag / "data").is_dir() else []
    return f"{sum(p.stat().st_size for p in files)}.{len(files)}"


def is_export(path: Path) -> bool:
    """A folder written by an evidence export (so ``longwatch verify DIR`` checks it as one, not as a package)."""
    try:
        return bool(json.loads((path / "export.json").read_text(encoding="utf-8")).get("format") == FORMAT)
    except (OSError, ValueError, AttributeError):
        return False
