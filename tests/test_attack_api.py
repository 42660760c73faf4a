"""Attacks on the REST API by an insider (issues 22 and 23): each test is a hole found by hand against a real server.

Through the Flask test client on an archive with real footage and one account per role (``web_fixtures``).
"""

from __future__ import annotations

import base64
import re

from retention_helpers import ALICE, add_package, later

from longwatch.core import accounts
from longwatch.core.catalog import reference
from longwatch.core.evidence import shares
from longwatch.core.records import deletion

RECIPIENT = {"agency": "Busan Police", "officer": "Sgt. Lee", "case_number": "BS-77", "legal_basis": "warrant",
             "purpose": "an attack test"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_investigator_cannot_follow_or_share_an_export_of_footage_they_cannot_see(client, web_archive,
                                                                                       token_for) -> None:
    # the administrator exports a package no case shares with the investigator
    made = client.post("/api/v1/exports", json={"package_ids": [web_archive.package_id], "recipient": RECIPIENT},
                       headers=_bearer(token_for("administrator")))
    assert made.status_code in (200, 202), made.get_data(as_text=True)
    export = made.get_json()["export"]
    investigator = _bearer(token_for("investigator"))
    status = client.get(f"/api/v1/exports/{export}", headers=investigator)
    assert status.status_code == 404 and status.get_json()["error"]["code"] == "W011"
    link = client.post(f"/api/v1/exports/{export}/links", json={}, headers=investigator)
    assert link.status_code == 404 and link.get_json()["error"]["code"] == "W011"
    assert shares.list_shares(web_archive.archive) == []  # no link to the footage was made
    # the administrator who made it still follows and shares it
    admin = _bearer(token_for("administrator"))
    assert client.get(f"/api/v1/exports/{export}", headers=admin).get_json()["state"] == "done"
    assert client.post(f"/api/v1/exports/{export}/links", json={}, headers=admin).status_code == 201


def test_an_investigator_follows_and_shares_their_own_export(client, web_archive, token_for) -> None:
    catalog = web_archive.archive.catalog
    reference.add_case(catalog, "C-9", "shared")
    reference.attach_packages(catalog, "C-9", [web_archive.package_id])
    reference.share_case(catalog, "C-9", "investigator", granted_by="records-manager")
    investigator = _bearer(token_for("investigator"))
    made = client.post("/api/v1/exports", json={"case": "C-9", "recipient": RECIPIENT}, headers=investigator)
    assert made.status_code in (200, 202), made.get_data(as_text=True)
    export = made.get_json()["export"]
    assert client.get(f"/api/v1/exports/{export}", headers=investigator).get_json()["state"] == "done"
    assert client.post(f"/api/v1/exports/{export}/links", json={}, headers=investigator).status_code == 201


def test_a_read_token_cannot_mint_a_token_or_change_the_account(client, web_archive, token_for) -> None:
    read = accounts.create_token(web_archive.archive.catalog, "administrator", "reader", scopes=("read",))
    before = len(accounts.tokens(web_archive.archive.catalog, "administrator"))
    minted = client.post("/me/tokens", data={"token_name": "escalate", "days": "5"}, headers=_bearer(read))
    assert minted.status_code == 403, minted.get_data(as_text=True)
    assert not re.search(r"lwt_[A-Za-z0-9_-]{20,}", minted.get_data(as_text=True))
    assert len(accounts.tokens(web_archive.archive.catalog, "administrator")) == before
    for path, form in (("/me/password", {"current_password": "x", "new_password": "y", "confirm_password": "y"}),
                       ("/me/tokens/revoke", {"token_id": "1"}), ("/me", {"language": "en"})):
        assert client.post(path, data=form, headers=_bearer(read)).status_code == 403, path
    assert client.get("/api/v1/me", headers=_bearer(read)).status_code == 200  # reading who one is stays open
    # a token given every scope of its role may still manage its own account's tokens
    full = token_for("administrator")
    assert client.post("/me/tokens", data={"token_name": "next", "days": "5"}, headers=_bearer(full)).status_code == 201


def test_upload_metadata_with_bytes_outside_base64_is_a_coded_400(client, token_for) -> None:
    headers = {**_bearer(token_for("operator")), "Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    for metadata in ("filename \u00b2", "filename \u0661\u0662", "filename " + base64.b64encode(b"\xff\xfe").decode()):
        response = client.post("/api/v1/uploads", headers={**headers, "Upload-Metadata": metadata.encode("utf-8")
                                                            .decode("latin-1")})
        assert response.status_code == 400, (metadata, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "W022"


def test_tus_headers_with_characters_outside_ascii_are_coded_400s(client, token_for) -> None:
    headers = {**_bearer(token_for("operator")), "Tus-Resumable": "1.0.0"}
    created = client.post("/api/v1/uploads", headers={**headers, "Upload-Length": "10"})
    assert created.status_code == 201, created.get_data(as_text=True)
    location = created.headers["Location"]
    odd = ("\u0661\u0662", "\uff11\uff12", "\u00b2", "1\x00", "9" * 40, "-1")
    for value in odd:  # as a client sends them: the header's UTF-8 bytes
        raw = value.encode("utf-8").decode("latin-1")
        for name, extra in (("Upload-Length", {}), ("Upload-Offset", {}),
                            ("Upload-Checksum", {"Upload-Offset": "0"})):
            if name == "Upload-Length":
                response = client.post("/api/v1/uploads", headers={**headers, name: raw})
            else:
                response = client.patch(location, data=b"x", headers={
                    **headers, **extra, "Content-Type": "application/offset+octet-stream",
                    name: raw if name == "Upload-Offset" else "sha256 " + raw})
            assert 400 <= response.status_code < 500, (name, value, response.status_code)
            assert response.get_json()["error"]["code"].startswith("W"), (name, value)


def test_an_export_naming_a_destroyed_package_is_w041_without_a_server_path(client, web_archive, token_for,
                                                                              small_clip, tmp_path) -> None:
    archive = web_archive.archive
    gone = add_package(archive, small_clip, tmp_path, "gone")
    deletion.delete_package(archive, gone, ALICE, "manual", now=later(3))
    admin = _bearer(token_for("administrator"))
    answer = client.post("/api/v1/exports", json={"package_ids": [gone], "recipient": RECIPIENT}, headers=admin)
    assert answer.status_code == 410, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "W041"
    assert str(archive.root) not in answer.get_data(as_text=True)
    # a case keeps its destroyed package attached: its export holds what is left
    reference.add_case(archive.catalog, "C-7", "partly destroyed")
    reference.attach_packages(archive.catalog, "C-7", [gone, web_archive.package_id])
    made = client.post("/api/v1/exports", json={"case": "C-7", "recipient": RECIPIENT}, headers=admin)
    assert made.status_code in (200, 202), made.get_data(as_text=True)
    assert made.get_json()["result"]["files"] == 1


def test_an_investigators_upload_cannot_claim_to_be_a_cameras_footage(client, token_for) -> None:
    def meta(**fields: str) -> str:
        return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())

    headers = {**_bearer(token_for("investigator")), "Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    for claim in ({"camera": "cam-01"}, {"zone": "Jung-gu/Market"}):
        refused = client.post("/api/v1/uploads", headers={**headers, "Upload-Metadata": meta(filename="a.mp4",
                                                                                             **claim)})
        assert refused.status_code == 403, (claim, refused.get_data(as_text=True))
        assert refused.get_json()["error"]["code"] == "W040"
    plain = client.post("/api/v1/uploads", headers={**headers, "Upload-Metadata": meta(filename="a.mp4")})
    assert plain.status_code == 201  # an upload of their own, recorded as theirs, without a camera
    operator = {**headers, **_bearer(token_for("operator"))}
    assert client.post("/api/v1/uploads", headers={**operator, "Upload-Metadata": meta(camera="cam-01")}
                       ).status_code == 201


def test_deeply_nested_json_is_a_coded_400_on_every_write(client, token_for) -> None:
    admin = {**_bearer(token_for("administrator")), "Content-Type": "application/json"}
    deep = ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000)
    for path in ("/api/v1/holds", "/api/v1/cases", "/api/v1/searches", "/api/v1/exports", "/api/v1/events"):
        for body in deep:
            response = client.post(path, data=body, headers=admin)
            assert response.status_code == 400, (path, response.status_code)
            assert response.get_json()["error"]["code"] in ("W092", "D014"), path


def test_the_upload_page_asks_an_investigator_for_no_camera(login_as) -> None:
    assert 'id="camera"' not in login_as("investigator").get("/upload").get_data(as_text=True)
    assert 'id="camera"' in login_as("operator").get("/upload").get_data(as_text=True)
