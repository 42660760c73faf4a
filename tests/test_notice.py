"""The public notice: versioned, every published version kept, readable without signing in."""

from __future__ import annotations

from web_fixtures import csrf_of

from longwatch.core.public import notice as notice_api


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


def test_notice_quotes_the_active_retention_schedule_in_korean_and_english(archive, tmp_path):
    from longwatch.core.records import actors, assignment, schedules

    ko = notice_api.retention_summary(archive, "ko").splitlines()
    en = notice_api.retention_summary(archive, "en").splitlines()
    assert ko[0] == "영상정보 보존기간 책정표 (공공기관 기본)"
    assert en[0] == "CCTV footage retention schedule (public body default)"
    assert "상시 녹화 영상: 촬영일부터 30일간 보관한 뒤 파기합니다. 근거: 개인정보 보호법 제25조" in ko[1]
    assert en[1].startswith("Continuous footage: kept 30 days from the recording, then destroyed. "
                            "Legal basis: Personal Information Protection Act art. 25")
    assert any(line.startswith("재난 기록 영상: 영구 보존하며 기록물관리기관으로 이관합니다.") for line in ko)
    assert any(line.startswith("Event footage: kept 1 year from the event") for line in en)
    assert "법적 보존 조치" in ko[-1] and "legal hold" in en[-1]
    assert len(ko) == len(en) == len(schedules.active_schedule(archive).classes) + 2
    # a new draft starts from the schedule in force, not a typed-in period
    assert ko[1] in notice_api.template(archive)
    # the archive's own schedule, once made active, is what the notice says
    text = schedules.DEFAULT_SCHEDULE.read_text(encoding="utf-8").replace('period = "P30D"', 'period = "P1Y6M"')
    mine = tmp_path / "schedule.toml"
    text = text.replace('title_ko = "영상정보 보존기간 책정표 (공공기관 기본)"', 'title_ko = "우리 구 보존기간표"')
    mine.write_text(text, encoding="utf-8")
    assignment.set_schedule(archive, mine, actors.Actor("records", "records-manager"))
    ko = notice_api.retention_summary(archive, "ko").splitlines()
    assert ko[0] == "우리 구 보존기간표" and "촬영일부터 1년 6개월간 보관한 뒤 파기합니다" in ko[1]
    assert "kept 1 year 6 months from the recording" in notice_api.retention_summary(archive, "en")


def test_public_page_shows_the_schedule_in_the_visitors_language(app, login_as):
    anonymous = app.test_client()
    html = anonymous.get("/notice?lang=ko").get_data(as_text=True)
    assert 'id="retention"' in html and "상시 녹화 영상: 촬영일부터 30일간 보관한 뒤 파기합니다." in html
    html = anonymous.get("/notice?lang=en").get_data(as_text=True)
    assert "Continuous footage: kept 30 days from the recording, then destroyed." in html
    admin = login_as("administrator")
    assert "촬영일부터 30일간 보관한 뒤 파기합니다" in admin.get("/notice/edit").get_data(as_text=True)
