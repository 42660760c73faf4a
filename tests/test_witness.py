"""Witnesses co-sign checkpoints (C2SP cosignature/v1); a rewrite or truncation after a co-signed checkpoint
fails `custody verify --witness`, and a witness never co-signs a second history."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from test_custody_tamper import codes, ledger, rewrite_from  # noqa: F401  (ledger is a fixture)

from longwatch.core.custody.entries import CustodyEvent
from longwatch.core.custody.ledger import Ledger

pytestmark = pytest.mark.usefixtures("ledger")


@pytest.fixture
def court(lw, tmp_path):
    """A witness outside the archive: its key, its state, and the archive certificate it decided to trust."""
    home = tmp_path / "court"
    result = lw("witness", "keygen", "court.example.kr", "--out", str(home))
    assert result.exit_code == 0, result.output
    vkey = (home / "court.example.kr.vkey").read_text().strip()
    assert (home / "court.example.kr.key").stat().st_mode & 0o077 == 0

    def cosign(*extra: str):
        anchors = home / "anchors.json"
        assert lw("custody", "publish", "-o", str(anchors)).exit_code == 0
        return lw("witness", "cosign", str(anchors), "--key", str(home / "court.example.kr.key"), "--name",
                  "court.example.kr", "--cert", str(home / "cert.pem"), "--state", str(home / "state.json"),
                  "-o", str(home / "line.txt"), *extra)

    return home, vkey, cosign


def keep(lw, court):
    home, vkey, _ = court
    return lw("custody", "cosignature", str(home / "line.txt"), "--witness", vkey)


def test_a_cosignature_is_c2sp_and_holds(lw, archive, court):
    home, vkey, cosign = court
    (home / "cert.pem").write_bytes(archive.settings.cert_path.read_bytes())
    result = cosign()
    assert result.exit_code == 0, result.output
    assert keep(lw, court).exit_code == 0
    report = json.loads(lw("custody", "verify", "--json", "--witness", vkey).output)
    assert report["ok"] and report["cosignatures_checked"] == 1

    # checked here by hand from the C2SP texts, without longwatch's witness module
    name, kid, blob = vkey.split("+", 2)
    public = base64.b64decode(blob)[1:]
    dash, signer, sig = (home / "line.txt").read_text().strip().split(" ")
    raw = base64.b64decode(sig)
    assert dash == "\u2014" and signer == name and raw[:4].hex() == kid
    (seconds,) = struct.unpack(">Q", raw[4:12])
    cp = Ledger.for_archive(archive).checkpoints()[-1]
    body = f"{cp.origin}\n{cp.size}\n{base64.b64encode(cp.root).decode()}\n".encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], b"cosignature/v1\ntime %d\n" % seconds + body)


def test_the_witness_needs_a_consistency_proof_to_move_on(lw, archive, court):
    home, _vkey, cosign = court
    (home / "cert.pem").write_bytes(archive.settings.cert_path.read_bytes())
    assert cosign().exit_code == 0
    Ledger.for_archive(archive).append([CustodyEvent("fixity check", packages=["p"]) for _ in range(10)])
    refused = cosign()
    assert refused.exit_code != 0 and "L031" in refused.output
    proof = home / "proof.json"
    assert lw("custody", "consistency", "30", "40", "-o", str(proof)).exit_code == 0
    moved = cosign("--proof", str(proof))
    assert moved.exit_code == 0, moved.output


def test_a_rewrite_after_a_cosigned_checkpoint_is_exposed(lw, archive, court):
    home, vkey, cosign = court
    (home / "cert.pem").write_bytes(archive.settings.cert_path.read_bytes())
    assert cosign().exit_code == 0 and keep(lw, court).exit_code == 0

    rewrite_from(archive, 15, 15)  # same key, consistent rewrite from entry 15

    assert codes(lw) == []  # on its own word, fine
    assert "L029" in codes(lw, "--witness", vkey)  # against the witness: rewritten
    again = cosign()  # and the witness will not co-sign the second history
    assert again.exit_code != 0 and "L031" in again.output
