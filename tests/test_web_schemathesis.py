"""The OpenAPI document against the running app, with schemathesis (a small, fast run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_api_conforms_to_its_openapi_document(live_server, token_for, tmp_path: Path):
    st = Path(sys.executable).with_name("st")
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
    result = subprocess.run(
        [str(st), "run", f"{live_server.url}/api/v1/openapi.json", "--url", f"{live_server.url}/api/v1",
         "-H", f"Authorization: Bearer {token_for('operator')}",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance",
         "--exclude-path-regex", "^/uploads",  # tus is a byte protocol, tested with its own client
         "--phases", "examples,fuzzing", "--max-examples", "15", "--workers", "1",
         "--generation-deterministic", "--request-timeout", "60"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Operations:" in result.stdout and "No issues found" in result.stdout, result.stdout[-2000:]
