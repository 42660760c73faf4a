"""The OpenAPI document against the running app, with schemathesis (a small, fast run)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("role", ["operator", "administrator", "investigator"])
def test_api_conforms_to_its_openapi_document(live_server, token_for, tmp_path: Path, role: str):
    """Every operation, as a role that may do most things (administrator), a daily user (operator) and a scoped
    role (investigator): no server error, every status and body as documented."""
    st = Path(sys.executable).with_name("st")
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
    result = subprocess.run(
        [str(st), "run", f"{live_server.url}/api/v1/openapi.json", "--url", f"{live_server.url}/api/v1",
         "-H", f"Authorization: Bearer {token_for(role)}",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance",
         "--exclude-path-regex", "^/uploads",  # tus is a byte protocol, tested with its own client
         "--phases", "examples,fuzzing", "--max-examples", "15", "--workers", "1",
         "--generation-deterministic", "--request-timeout", "60"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    out = result.stdout
    selected = re.search(r"Selected: (\d+)/\d+", out)
    assert selected and f"Tested: {selected.group(1)}" in out, out[-2000:]  # every operation ran, none skipped
    assert int(selected.group(1)) >= 40, out[-2000:]  # the packages, cases, records, custody ... operations
    counted = re.search(r"(\d+) generated, (\d+) passed", out)
    assert counted and counted.group(1) == counted.group(2), out[-2000:]  # no failure of any check
