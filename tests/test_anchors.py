"""Anchors outside the archive: the signing certificates and the newest checkpoints are published (web page,
/.well-known JSON, a file for other channels), and a consistent same-key rewrite of the ledger, which passes
`custody verify` on its own, fails against the published checkpoints someone kept."""

from __future__ import annotations

import json
import subprocess

import pytest
from test_custody_tamper import codes, ledger, rewrite_from  # noqa: F401  (ledger is a fixture)
from web_fixtures import app, client, web_archive  # noqa: F401  (fixtures)

from longwatch.core.aip import signing


def test_the_anchors_are_public_and_match_the_archive(client, web_archive):  # noqa: F811
    fingerprint = signing.fingerprint(web_archive.archive.certificate)
    response = client.get("/.well-known/longwatch/anchors.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["format"] == "longwatch-anchors/1"
    assert [c["fingerprint_sha256"] for c in doc["certificates"]] == [fingerprint]
    assert doc["certificates"][0]["current"] and "BEGIN CERTIFICATE" in doc["certificates"][0]["pem"]
    page = client.get("/anchors", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and fingerprint in page.get_data(as_text=True)
    assert 'href="/anchors"' in client.get("/notice").get_data(as_text=True)


def test_the_published_fingerprint_is_what_openssl_computes(lw, archive, tmp_path):
    out = tmp_path / "anchors.json"
    assert lw("custody", "publish", "-o", str(out), "--notes", str(tmp_path / "notes")).exit_code == 0
    doc = json.loads(out.read_text())
    pem = tmp_path / "cert.pem"
    pem.write_text(doc["certificates"][0]["pem"])
    shown = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(pem)],
                           check=True, capture_output=True, text=True).stdout
    hex_digits = shown.split("=", 1)[1].strip().replace(":", "").lower()
    assert doc["certificates"][0]["fingerprint_sha256"] == f"SHA256:{hex_digits}"


@pytest.mark.usefixtures("ledger")
def test_a_same_key_rewrite_fails_against_published_checkpoints(lw, archive, tmp_path):
    published = tmp_path / "court" / "anchors.json"
    published.parent.mkdir()
    assert lw("custody", "publish", "-o", str(published)).exit_code == 0
    assert [c["tree_size"] for c in json.loads(published.read_text())["checkpoints"]] == [30, 20, 10]

    rewrite_from(archive, 15, 15)  # the operator, holding the real key, rewrites from entry 15 on

    assert codes(lw) == []  # consistent with itself, signed by the archive's own key...
    assert "L021" in codes(lw, "--checkpoints", str(published))  # ...but not with what the court kept
