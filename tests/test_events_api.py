"""POST /api/v1/events: token auth with the existing permissions, idempotent, bad rows coded."""

from __future__ import annotations

from longwatch.core.events import record as events


def test_post_events_with_token(client, token_for, web_archive):
    event = {"camera": "cam-01", "time": "2026-03-03T05:00:01Z", "type": "intrusion", "confidence": 0.2,
             "source_system": "vms-x", "vendor_event_id": "X1"}
    assert client.post("/api/v1/events", json=event).status_code in (401, 403)  # no token, no CSRF
    auditor = {"Authorization": f"Bearer {token_for('auditor')}"}
    assert client.post("/api/v1/events", json=event, headers=auditor).status_code == 403
    auth = {"Authorization": f"Bearer {token_for('operator')}"}
    first = client.post("/api/v1/events", json=event, headers=auth)
    assert first.status_code == 201 and first.get_json()["imported"] == 1
    again = client.post("/api/v1/events", json={"events": [event]}, headers=auth)
    assert again.status_code == 200 and again.get_json()["skipped"] == 1
    bad = {**event, "vendor_event_id": "X2", "confidence": "high"}
    mixed = client.post("/api/v1/events", json=[bad, {**event, "vendor_event_id": "X3"}], headers=auth)
    data = mixed.get_json()
    assert mixed.status_code == 201 and data["imported"] == 1
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(1, "D014")]
    only_bad = client.post("/api/v1/events", json=bad, headers=auth)
    assert only_bad.status_code == 400 and only_bad.get_json()["error"]["code"] == "D014"
    assert client.post("/api/v1/events", data="nonsense", headers=auth).status_code == 400
    rows = events.query(web_archive.archive, camera="cam-01")
    assert [e.vendor_event_id for e in rows] == ["X1", "X3"]
