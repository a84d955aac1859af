"""The analyses pages in a real Chromium: catalogue search, a run with its Plotly chart,
saving to the dashboard. Japanese screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.web.test_browser import ARTIFACTS, CHROMIUM, base_url  # noqa: F401

pytestmark = pytest.mark.browser


def test_catalogue_run_and_save_in_chromium(base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on(
                "console",
                lambda msg: problems.append(msg.text) if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            page.goto(base_url + "/login")
            page.fill("input[name=email]", ADMIN_EMAIL)
            page.fill("input[name=password]", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(base_url + "/")

            page.click("nav a.nav-link:has-text('分析')")
            expect(page).to_have_url(base_url + "/analyses")
            expect(page.locator("h1.page-title")).to_have_text("分析")
            items = page.locator(".catalogue-item")
            total = items.count()
            assert total > 30
            # Typing filters in place (progressive JS) ...
            page.fill("#analysis-search", "RFM グリッド")
            visible = page.locator(".catalogue-item:visible")
            expect(page.locator('.catalogue-item[data-template="rfm_grid"]')).to_be_visible()
            expect(page.locator('.catalogue-item[data-template="rfm"]')).to_be_hidden()
            shown = visible.count()
            assert 1 <= shown < total
            expect(page.locator("#analysis-count")).to_contain_text(f"{shown} 件 / 全 {total} 件")
            page.screenshot(path=str(ARTIFACTS / "analyses-catalogue-ja.png"), full_page=True)
            # ... and the form still answers on the server, with the same templates.
            page.press("#analysis-search", "Enter")
            expect(page).to_have_url(
                base_url + "/analyses?q=RFM+%E3%82%B0%E3%83%AA%E3%83%83%E3%83%89"
            )
            expect(page.locator(".catalogue-item")).to_have_count(shown)
            page.click("a.catalogue-link:has-text('RFMグリッド')")
            expect(page).to_have_url(base_url + "/analyses/rfm_grid")

            page.fill("input[name=as_of]", "2025-12-31")
            page.click("#run-analysis")
            chart = page.locator("#analysis-chart")
            expect(chart).to_have_attribute("data-rendered", "true", timeout=15_000)
            assert chart.locator("svg.main-svg").count() > 0
            # Four R-score rows in the heatmap, one cell text per customer.
            assert chart.locator("g.hm text, .heatmaplayer text").count() >= 4
            expect(page.locator("#result-table tbody tr")).to_have_count(4)
            expect(page.locator(".analysis-timing")).to_contain_text("集計時間")
            page.screenshot(path=str(ARTIFACTS / "analysis-rfm-grid-ja.png"), full_page=True)

            page.fill("#save-analysis input[name=title]", "年末のRFMグリッド")
            page.click("#save-to-dashboard")
            expect(page).to_have_url(base_url + "/?saved=1#saved-1")
            card = page.locator("#saved-1")
            expect(card).to_contain_text("年末のRFMグリッド")
            card_chart = page.locator("#saved-chart-1")
            expect(card_chart).to_have_attribute("data-rendered", "true", timeout=15_000)
            assert card_chart.locator("svg.main-svg").count() > 0
            expect(page.locator("#revenue-chart")).to_have_attribute("data-rendered", "true")
            page.screenshot(path=str(ARTIFACTS / "dashboard-saved-analysis-ja.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
