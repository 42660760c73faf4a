"""The OpenAPI document against the running app, with schemathesis (a small, fast run)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from longwatch.core.catalog import reference
from longwatch.core.events import record as events
from longwatch.core.records import holds
from longwatch.core.records.actors import Actor


def _seed(web_archive) -> dict[str, str]:
    """Rows for the path parameters, so the operations on one case, hold, event or entry reach their logic
    instead of answering 404 to made-up ids; the investigator is a member of the case."""
    archive = web_archive.archive
    reference.add_case(archive.catalog, "2026-A", title="seeded")
    reference.attach_packages(archive.catalog, "2026-A", [web_archive.package_id])
    reference.share_case(archive.catalog, "2026-A", "investigator", granted_by="records-manager")
    hold = holds.place_hold(archive, Actor("records-manager", "records-manager"), owner="o", reason="r",
                            package_id=web_archive.package_id)
    result = events.import_rows(archive, [(1, {
        "camera": "cam-01", "time": "2026-03-03T05:00:01Z", "type": "intrusion", "confidence": 0.3,
        "source_system": "vms-x", "vendor_event_id": "S1"})])
    return {"path.package_id": web_archive.package_id, "path.number": "2026-A", "path.hold_id": hold.id,
            "path.event_id": str(result.imported[0]), "path.ref": "0", "path.username": "investigator"}


@pytest.mark.parametrize(("role", "seeded"), [("operator", False), ("administrator", True),
                                              ("investigator", True)])
def test_api_conforms_to_its_openapi_document(live_server, web_archive, token_for, tmp_path: Path, role: str,
                                              seeded: bool):
    """Every operation, as a role that may do most things (administrator), a daily user (operator) and a scoped
    role (investigator): no server error, every status and body as documented. The operator's run invents the
    ids in paths; the others' run on existing rows (schemathesis.toml fixes those path parameters)."""
    if seeded:
        values = _seed(web_archive)
        lines = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items())
        (tmp_path / "schemathesis.toml").write_text(f"[parameters]\n{lines}\n", encoding="utf-8")
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
    if seeded:  # the seeded rows were found: these operations reached their logic, not a 404
        warned = out[out.find("Missing test data"):out.find("SUMMARY")] if "Missing test data" in out else ""
        for op in ("GET /cases/{number}\n", "POST /cases/{number}/notes", "POST /holds/{hold_id}/release",
                   "POST /events/{event_id}/review", "GET /custody/packages/{package_id}"):
            assert f"- {op}" not in warned, warned
