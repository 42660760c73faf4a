"""A signing key in a PKCS#11 token (issue 21), tested against Debian's SoftHSM: the key is made in the
token, never leaves it, and the packages it signs verify with openssl against the archive's CA."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import error_codes, run_longwatch, unique_copy

from longwatch.core.aip import keys, package

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
pytestmark = pytest.mark.skipif(not MODULE.exists() or shutil.which("softhsm2-util") is None,
                                reason="needs Debian's softhsm2 (make system-deps)")


@pytest.fixture
def token(tmp_path: Path) -> dict[str, str]:
    """A fresh SoftHSM token in a temporary directory: the environment that points the module at it."""
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "LONGWATCH_PKCS11_PIN": "4321"}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "longwatch", "--so-pin", "12345678",
                    "--pin", "4321"], env={"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin"}, check=True,
                   capture_output=True)
    return env


def test_packages_signed_in_a_softhsm_token_verify_with_openssl(archive, token, small_clip, tmp_path):
    root = archive.root
    first = run_longwatch("-A", root, "ingest", unique_copy(small_clip, tmp_path / "before.mp4"), "--json")
    assert first.returncode == 0, first.stderr
    rotated = run_longwatch("-A", root, "keys", "rotate", "--pkcs11-module", MODULE, "--pkcs11-token", "longwatch",
                            "--pkcs11-key", "longwatch-signing", "--generate", "--json", env=token)
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)["new"]
    assert new["origin"] == "pkcs11" and new["pkcs11"]["label"] == "longwatch-signing"
    assert not archive.settings.key_path.exists()  # no key file any more: the key is in the token

    made = run_longwatch("-A", root, "ingest", unique_copy(small_clip, tmp_path / "after.mp4"), "--json", env=token)
    assert made.returncode == 0, made.stderr
    pid = json.loads(made.stdout)["packages"][0]["package_id"]
    verified = run_longwatch("-A", root, "verify", "--all", "--json", env=token)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    signers = {p["package_id"]: p["signer_fingerprint"] for p in json.loads(verified.stdout)["packages"]}
    assert signers[pid] == new["fingerprint"]
    assert len(set(signers.values())) == 2  # the key file's package and the token's

    bag = archive.storage().local_path(pid)
    done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", package.SIGNATURE_PATH,
                           "-content", package.SIGNED_FILE, "-CAfile", str(root / keys.CA_CERT), "-purpose", "any",
                           "-out", "/dev/null"], cwd=bag, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    tampered = tmp_path / "tampered"
    shutil.copytree(bag, tampered)
    with (tampered / package.SIGNED_FILE).open("ab") as fh:
        fh.write(b" ")
    done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", package.SIGNATURE_PATH,
                           "-content", package.SIGNED_FILE, "-CAfile", str(root / keys.CA_CERT), "-purpose", "any",
                           "-out", "/dev/null"], cwd=tampered, capture_output=True, text=True, check=False)
    assert done.returncode != 0

    # the ledger's checkpoints are signed in the token too, and verify
    assert run_longwatch("-A", root, "custody", "checkpoint", env=token).returncode == 0
    ledger = run_longwatch("-A", root, "custody", "verify", env=token)
    assert ledger.returncode == 0, ledger.stderr

    wrong_pin = run_longwatch("-A", root, "ingest", unique_copy(small_clip, tmp_path / "pin.mp4"),
                              env={**token, "LONGWATCH_PKCS11_PIN": "0000"})
    assert wrong_pin.returncode == 5
    assert error_codes(wrong_pin.stderr) == ["K011"]
    no_key = run_longwatch("-A", root, "keys", "rotate", "--pkcs11-module", MODULE, "--pkcs11-token", "longwatch",
                           "--pkcs11-key", "no-such-key", env=token)
    assert error_codes(no_key.stderr) == ["K012"]
