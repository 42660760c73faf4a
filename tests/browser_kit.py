"""What every browser test shares: Debian's Chromium (never a downloaded browser), its flags, the artifacts folder.

The flags keep Chromium off the network it would otherwise reach for (updates,
sync, background requests), which this machine refuses, and let it run as root
in CI. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_fixtures import PASSWORD, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
MARKS = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing")]


@contextlib.contextmanager
def chromium_pages(root: Path, config: dict[str, Any] | None = None) -> Iterator[tuple[LiveServer, Callable[..., Any]]]:
    """A live server on the archive at ``root`` and a factory of pages, each in a browser context of its own
    (a person of their own: cookies are not shared); the browser and the server are stopped afterwards."""
    from playwright.sync_api import sync_playwright

    server = LiveServer(root, config) if config else LiveServer(root)
    server.start()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

            def new_page(locale: str = "ko-KR", height: int = 900, timeout: int = 30_000) -> Any:
                page = browser.new_context(viewport={"width": 1280, "height": height}, locale=locale).new_page()
                page.set_default_timeout(timeout)
                return page

            yield server, new_page
            browser.close()
    finally:
        server.stop()


def sign_in(page: Any, url: str, username: str, password: str = PASSWORD, lang: str | None = None) -> None:
    """Sign in through the form and wait until the dashboard has loaded all it asks for: its poster frames
    are viewings that the register records, so a test that counts records must not race their requests.
    Without ``lang`` the page's language follows the browser's locale."""
    page.goto(f"{url}/login" + (f"?lang={lang}" if lang else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    page.wait_for_load_state("networkidle")
