"""Odd numbers from outside (other scripts' digits, fullwidth digits, superscripts, 40 digits) are 400, never 500.

The sweep asks every route of the app, with each such value in every path
argument, in the query string, in a form and in the tus headers.
"""

from __future__ import annotations

import re

import pytest
from web_fixtures import PASSWORD  # noqa: F401  (the fixtures' hash parameters)

from longwatch.web.numbers import MAX_INT, is_whole

BAD = ["١٢٣", "１２３", "²", "9" * 40, str(MAX_INT + 1), "-1", "1e3", " 7", "0x10"]
NAMES = ["limit", "offset", "page", "version", "days", "expires_days", "year", "month", "number", "clip_id",
         "package_id", "start", "end", "from", "to", "id", "n", "size", "keep", "per_page"]


def test_is_whole():
    assert is_whole("0") and is_whole("123") and is_whole(str(MAX_INT))
    assert not any(is_whole(v) for v in BAD)


def _paths(app, value: str) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule.rule)
        for method in sorted((rule.methods or set()) - {"OPTIONS", "HEAD"}):
            found.append((method, path))
    return found


@pytest.mark.parametrize("value", ["١٢٣", "１２３", "²", "9" * 40, str(MAX_INT + 1)])
def test_every_route_answers_odd_numbers_without_a_500(app, token_for, value):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('administrator')}", "Tus-Resumable": "1.0.0",
            "Upload-Length": value, "Upload-Offset": value, "Content-Type": "application/offset+octet-stream"}
    query = {name: value for name in NAMES}
    failures = []
    for method, path in _paths(app, value):
        for headers in (auth, {}):
            response = client.open(path, method=method, headers=headers, query_string=query,
                                   data=b"x" if method == "PATCH" else query if method == "POST" else None)
            if response.status_code >= 500:
                failures.append((method, path, response.status_code, response.get_data(as_text=True)[:300]))
            elif response.status_code == 400 and response.is_json:
                assert re.fullmatch(r"[A-Z]\d{3}", response.get_json()["error"]["code"]), (method, path)
    assert failures == []


@pytest.mark.parametrize("value", BAD)
def test_tus_headers_with_odd_numbers_are_coded_400s(app, token_for, value):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('operator')}", "Tus-Resumable": "1.0.0"}
    created = client.post("/api/v1/uploads", headers={**auth, "Upload-Length": value})
    assert created.status_code in (400, 413) and created.get_json()["error"]["code"] == "W016"
    good = client.post("/api/v1/uploads", headers={**auth, "Upload-Length": "4"})
    assert good.status_code == 201
    patched = client.patch(good.headers["Location"], data=b"abcd", headers={
        **auth, "Upload-Offset": value, "Content-Type": "application/offset+octet-stream"})
    assert patched.status_code in (400, 409) and patched.get_json()["error"]["code"] in ("W014", "W021")


def test_numbers_in_paths_are_400_with_a_code(app, token_for):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('administrator')}"}
    for value in ("１２３", "١٢٣", "9" * 40):
        response = client.get(f"/clips/{value}/media", headers={**auth, "Accept": "application/json"})
        assert response.status_code == 400, value
        assert response.get_json()["error"]["code"] == "W021"
    assert client.get("/clips/abc/media", headers=auth).status_code == 404  # not a number at all: no such page
