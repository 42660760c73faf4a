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
    data/custody/signer-chain.pem  [tsa-chain.pem]   certificates
"""

from __future__ import annotations

from pathlib import Path

from longwatch.core.aip.fixity import digest_stream, open_for_reading

FORMAT = "longwatch-evidence-export/1"
SIGNATURE = "tagmanifest-sha256.txt.p7s"
TIMESTAMP_REPLY = "tagmanifest-sha256.txt.p7s.tsr"
CUSTODY = "data/custody"
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "export.json", "REPORT.html", "REPORT.pdf",
             "VERIFY.txt")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file of the bag, read unbuffered with read-ahead."""
    with open_for_reading(path) as fh:
        return digest_stream(fh, algorithms=("sha256",))["sha256"]
