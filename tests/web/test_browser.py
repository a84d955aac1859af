"""The dashboard in a real Chromium: login, headline, Plotly chart, language switch.

Uses the system Chromium (Debian package), never a downloaded one. Without it the test
skips, unless TOKUI_REQUIRE_BROWSER=1 (as CI sets), where a missing browser fails.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tokui.clock import FixedClock
from tokui.web.app import create_app
from tokui.workspace import Workspace

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("TOKUI_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("TOKUI_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _need_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed"
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"TOKUI_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def base_url(ws: Workspace, clock: FixedClock) -> Iterator[str]:
    _need_browser()
    port = _free_port()
    config = uvicorn.Config(create_app(ws, clock), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_dashboard_in_chromium(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.on(
                "console",
                lambda msg: problems.append(msg.text) if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            page.goto(base_url + "/")
            expect(page).to_have_url(base_url + "/login?next=/")
            expect(page.locator("html")).to_have_attribute("lang", "ja")
            page.fill("input[name=email]", ADMIN_EMAIL)
            page.fill("input[name=password]", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(base_url + "/")

            expect(page.locator("h1.page-title")).to_have_text("ダッシュボード")
            revenue = page.locator('[data-figure="revenue"] .card-value')
            expect(revenue).to_have_text("¥42,200")
            expect(page.locator('[data-figure="customers"] .card-value')).to_have_text("5")
            chart = page.locator("#revenue-chart")
            expect(chart).to_have_attribute("data-rendered", "true", timeout=15_000)
            assert chart.locator("svg").count() > 0
            # Thirteen months (empty ones as zero bars) drawn, so the data reached Plotly.
            assert chart.locator("g.trace.bars").first.locator("path").count() == 13
            box = chart.bounding_box()
            assert box is not None and box["height"] > 300
            page.screenshot(path=str(ARTIFACTS / "dashboard-ja.png"), full_page=True)

            page.click("a.lang[hreflang=en]")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("h1.page-title")).to_have_text("Dashboard")
            expect(page.locator("#revenue-chart")).to_have_attribute("data-rendered", "true")
            page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)
            page.click("a.lang[hreflang=ja]")
            expect(page.locator("h1.page-title")).to_have_text("ダッシュボード")

            page.click("a.nav-link:has-text('顧客')")
            expect(page.locator("h1.page-title")).to_have_text("顧客")
            expect(page.locator("#customer-results")).to_be_visible()

            page.click("button:has-text('ログアウト')")
            expect(page).to_have_url(base_url + "/login")
            page.goto(base_url + "/")
            expect(page).to_have_url(base_url + "/login?next=/")
        finally:
            browser.close()
    # CSP violations and script errors show up as console errors.
    assert problems == [], "\n".join(problems)
