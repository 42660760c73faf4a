"""Setting up an archive in Debian's Chromium (issue 22): an administrator adds a records manager, who imports
the cameras from a CSV file (a bad file first: nothing imported, the error beside the field) and reads the
retention schedule; the administrator publishes the public notice, which a citizen reads as formatted text.

Screenshots go to tests/artifacts/setup-*.png.
"""

from __future__ import annotations

from browser_kit import ARTIFACTS, MARKS, chromium_pages, sign_in

from longwatch.core.catalog.models import User

pytestmark = MARKS
NEW_PASSWORD = "records-2026-seoul"
GOOD_CSV = ("id,name,zone,latitude,longitude,address\n"
            "jung-001,남대문시장 입구,Jung-gu/Market,37.559,126.977,서울특별시 중구 남대문시장4길 21\n"
            "jung-002,숭례문 앞,Jung-gu/Gate,37.560,126.975,서울특별시 중구 세종대로 40\n"
            "jung-003,회현역 3번 출구,Jung-gu/Station,37.558,126.978,서울특별시 중구 퇴계로 54\n")
BAD_CSV = GOOD_CSV + "jung-004,위도 없음,Jung-gu/Market,not-a-number,126.9,\n"
NOTICE = ("## 영상정보처리기기 설치 근거 및 목적\n\n- 범죄 예방 및 수사\n- 시설 안전 및 화재 예방\n\n"
          "문의: **정보공개 담당** 02-0000-0000\n")


def test_administrator_and_records_manager_set_up_cameras_schedule_and_notice(web_archive, tmp_path):
    bad, good = tmp_path / "bad.csv", tmp_path / "cameras.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    good.write_text(GOOD_CSV, encoding="utf-8")
    with chromium_pages(web_archive.root) as (server, new_page):
        admin = new_page()
        sign_in(admin, server.url, "administrator", lang="ko")
        admin.click("nav a[href$='/admin/users']")
        admin.fill("#new-username", "kim.records")
        admin.fill("#new-password", NEW_PASSWORD)
        admin.select_option("#new-role", "records-manager")
        admin.click("form[action$='/admin/users'] button[type=submit]")
        admin.wait_for_selector("text=kim.records")
        admin.screenshot(path=str(ARTIFACTS / "setup-users-ko.png"), full_page=True)

        manager = new_page()
        sign_in(manager, server.url, "kim.records", NEW_PASSWORD, lang="ko")
        nav = manager.locator("nav").first.inner_text()
        assert "카메라" in nav and "보존기간 책정표" in nav
        assert "사용자" not in nav  # accounts are the administrator's
        manager.click("nav a[href$='/cameras']")
        manager.set_input_files("#file", str(bad))
        manager.click("form[action$='/cameras/import'] button[type=submit]")
        manager.wait_for_selector("[aria-invalid=true]#file")
        assert "Q01" in manager.content()  # the coded error beside the file field
        assert manager.locator("#camera-jung-001").count() == 0  # all or nothing
        manager.set_input_files("#file", str(good))
        manager.click("form[action$='/cameras/import'] button[type=submit]")
        manager.wait_for_selector("#imported")
        for camera in ("jung-001", "jung-002", "jung-003"):
            assert manager.locator(f"#camera-{camera}").count() == 1
        assert "남대문시장 입구" in manager.locator("#camera-jung-001").inner_text()
        manager.screenshot(path=str(ARTIFACTS / "setup-cameras-ko.png"), full_page=True)

        manager.click("nav a[href$='/schedules']")
        manager.wait_for_selector("#classes")
        assert manager.locator("#classes tbody tr").count() >= 1  # read-only: the classes in force
        manager.screenshot(path=str(ARTIFACTS / "setup-schedule-ko.png"), full_page=True)
        assert manager.goto(server.url + "/notice/edit").status == 403  # the notice is the administrator's

        admin.click("nav a[href$='/notice/edit']")
        admin.fill("#body", NOTICE)
        admin.click("#publish")
        admin.wait_for_load_state()

        citizen = new_page()
        citizen.goto(server.url + "/notice")
        heading = citizen.locator(".body h3", has_text="영상정보처리기기 설치 근거 및 목적")
        assert heading.count() == 1
        assert citizen.locator("li", has_text="범죄 예방 및 수사").count() == 1
        assert citizen.locator("strong", has_text="정보공개 담당").count() == 1
        assert "## " not in citizen.locator("main").inner_text()  # formatted: "## " became an h3
        citizen.screenshot(path=str(ARTIFACTS / "setup-notice-ko.png"), full_page=True)
    with web_archive.archive.catalog.session() as s:
        user = s.query(User).filter_by(username="kim.records").one()
        assert user.role == "records-manager"
