"""The measurement pages in a real Chromium: the overview and a scenario's results in
Japanese and English with their Plotly charts drawn under the strict CSP, and the weekly
report; screenshots go to test-artifacts/.

Same rules as tests/web/test_browser.py: the system Chromium (Debian package), skipped
without it unless TOKUI_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.measure.shop import AS_OF, aware
from tests.web.measure_shop import MARKETER_EMAIL, MARKETER_PASSWORD, build, open_copy
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _free_port, _need_browser
from tokui.clock import FixedClock
from tokui.web.app import create_app
from tokui.workspace import Workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def measure_server(tmp_path: Path) -> Iterator[str]:
    _need_browser()
    build(tmp_path / "template")
    ws: Workspace = open_copy(tmp_path / "template", tmp_path / "ws")
    port = _free_port()
    app = create_app(ws, FixedClock(aware(AS_OF)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
    ws.close()


def test_overview_and_results_in_both_languages(measure_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = measure_server
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.goto(base + "/login?next=/measurement")
            page.fill("input[name=email]", MARKETER_EMAIL)
            page.fill("input[name=password]", MARKETER_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(base + "/measurement")

            for lang, heading, flag in (
                ("ja", "効果測定", "嫌がられている"),
                ("en", "Measurement", "Annoys"),
            ):
                if lang == "en":
                    page.goto(base + "/measurement?lang=en")
                expect(page.locator("h1.page-title")).to_have_text(heading)
                s1 = page.locator('tr[data-key="s1"]')
                expect(s1.locator('[data-col="incremental_revenue"]')).to_contain_text("¥2,500")
                expect(s1.locator('[data-flag="annoys"]')).to_have_text(flag)
                expect(page.locator("#incremental-chart")).to_have_attribute(
                    "data-rendered", "true"
                )
                page.screenshot(
                    path=str(ARTIFACTS / f"measurement-overview-{lang}.png"), full_page=True
                )

                page.click('tr[data-key="ab"] a')
                expect(page).to_have_url(base + "/scenarios/ab/results")
                expect(page.locator('tr[data-arm="b"] [data-col="cvr"]')).to_have_text("40.0%")
                expect(page.locator('[data-significant="yes"]')).to_be_visible()
                expect(page.locator('[data-promote="b"]')).to_be_visible()
                expect(page.locator("#arms-chart-split")).to_have_attribute("data-rendered", "true")
                expect(page.locator("#weekly-chart")).to_have_attribute("data-rendered", "true")
                page.screenshot(path=str(ARTIFACTS / f"measurement-ab-{lang}.png"), full_page=True)

                page.goto(base + "/scenarios/s1/results")
                expect(
                    page.locator('tr[data-comparison="holdout:hold"] [data-col="uplift"]')
                ).to_contain_text("+10.0pt")
                expect(page.locator("#uplift-chart")).to_have_attribute("data-rendered", "true")
                page.screenshot(path=str(ARTIFACTS / f"measurement-s1-{lang}.png"), full_page=True)
                page.goto(base + "/measurement")

            page.goto(base + "/measurement/report?week=2026-W02")
            expect(page.locator("#weekly-report h1")).to_have_text("Weekly PDCA report")
            page.emulate_media(media="print")
            expect(page.locator(".sidebar")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "measurement-report-print-en.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
