"""The main path end to end: init, ingest, list, show, verify."""

import json


def test_ingest_then_verify(lw, clip):
    result = lw("ingest", str(clip), "--camera", "cam-01", "--json")
    assert result.exit_code == 0, result.output
    package_id = json.loads(result.output)["packages"][0]["package_id"]
    listing = json.loads(lw("list", "--json").output)
    assert [p["package_id"] for p in listing["packages"]] == [package_id]
    shown = json.loads(lw("show", package_id[:8], "--json").output)
    assert {e["type"] for e in shown["events"]} >= {"ingestion", "message digest calculation", "validation"}
    verified = lw("verify", "--all", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True
