"""The public notice: versioned, every published version kept, readable without signing in."""

from __future__ import annotations

from web_fixtures import csrf_of

from longwatch.core import notice as notice_api


def test_versions_are_kept(archive):
    assert notice_api.current(archive) is None
    first = notice_api.draft(archive, "운영 방침", "30일 보관", "admin")
    notice_api.publish(archive, first.version)
    second = notice_api.draft(archive, "운영 방침", "30일 보관, 계획용 표본 5년", "admin")
    assert notice_api.current(archive).version == first.version  # a draft is not public
    notice_api.publish(archive, second.version)
    assert notice_api.current(archive).version == second.version
    assert notice_api.get(archive, first.version).body == "30일 보관"  # the old text stays as it was
    assert [v.version for v in notice_api.versions(archive)] == [2, 1]


def test_public_page_needs_no_login_and_admin_edits(app, login_as):
    anonymous = app.test_client()
    page = anonymous.get("/notice?lang=ko")
    assert page.status_code == 200
    assert "영상정보처리기기 운영·관리 방침" in page.get_data(as_text=True)
    admin = login_as("administrator")
    response = admin.post("/notice/edit", data={"csrf_token": csrf_of(admin, "/notice/edit"), "title": "운영 방침 v1",
                                                "body": "보관 기간 30일", "publish": "1"})
    assert response.status_code == 302
    html = anonymous.get("/notice").get_data(as_text=True)
    assert "운영 방침 v1" in html and "보관 기간 30일" in html
    operator = login_as("operator")
    assert operator.get("/notice/edit").status_code == 403
