"""The segment builder in a real Chromium: two conditions, a live count, save, list.

Same rules as tests/web/test_browser.py: the system Chromium (Debian package), skipped
without it unless TOKUI_REQUIRE_BROWSER=1. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import NOW
from tests.web.segments_shop import MARKETER_EMAIL, MARKETER_PASSWORD, build, open_copy
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _free_port, _need_browser
from tokui.clock import FixedClock
from tokui.web.app import create_app
from tokui.workspace import Workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def seg_base_url(tmp_path: Path) -> Iterator[str]:
    _need_browser()
    build(tmp_path / "template")
    ws: Workspace = open_copy(tmp_path / "template", tmp_path / "ws")
    port = _free_port()
    app = create_app(ws, FixedClock(NOW))
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


def test_build_count_save_and_list_in_chromium(seg_base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seg_base_url
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    counts: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on(
                "response",
                lambda r: (
                    counts.append(r.request.post_data or "")
                    if r.url.endswith("/segments/builder/count")
                    else None
                ),
            )

            page.goto(base + "/login?next=/segments")
            page.fill("input[name=email]", MARKETER_EMAIL)
            page.fill("input[name=password]", MARKETER_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(base + "/segments")
            expect(page.locator('tr[data-key="never-subscribed"] [data-members]')).to_have_text("2")
            page.screenshot(path=str(ARTIFACTS / "segments-list-ja.png"), full_page=True)

            page.click("text=新しいセグメント")
            expect(page).to_have_url(base + "/segments/new")
            page.fill("input[name=key]", "north-subs")
            page.fill("input[name=name_ja]", "購入者で定期継続中")

            # First condition: orders >= 1 (g, n, i, s).
            page.select_option("select[name='n.add_type']", "compare")
            page.click("button[value='add:n']")
            expect(page.locator("select[name='n.0.field']")).to_have_value("frequency")
            count = page.locator("#live-count")
            page.fill("input[name='n.0.value']", "1")
            expect(count).to_have_text("該当: 4 人 / 5 人 (80.0%)")
            expect(count).to_have_attribute("data-members", "4")

            # Second condition: a subscription, first "never" (g, n), then "active" (i).
            page.select_option("select[name='n.add_type']", "subscription")
            page.click("button[value='add:n']")
            expect(page.locator("input[name='n.1.type']")).to_have_value("subscription")
            expect(page.locator("input[name='n.0.value']")).to_have_value("1")
            expect(count).to_have_text("該当: 2 人 / 5 人 (40.0%)")
            page.select_option("select[name='n.1.state']", "active")
            expect(count).to_have_text("該当: 1 人 / 5 人 (20.0%)")

            # A bad value is named next to its condition, live.
            page.fill("input[name='n.0.value']", "abc")
            expect(page.locator("[data-error-for='n.0'] li")).to_have_text(
                "「abc」は数値ではありません。"
            )
            expect(count).to_have_attribute("data-state", "invalid")
            page.fill("input[name='n.0.value']", "1")
            expect(count).to_have_text("該当: 1 人 / 5 人 (20.0%)")
            expect(page.locator("[data-error-for='n.0'] li")).to_have_count(0)
            expect(page.locator("#definition-text")).to_have_text(
                "購入回数が1以上 AND 定期を継続中"
            )
            page.screenshot(path=str(ARTIFACTS / "segment-builder-ja.png"), full_page=True)

            page.click("#save-segment")
            expect(page).to_have_url(base + "/segments/north-subs?saved=1")
            expect(page.locator("[data-state=saved]")).to_have_text("保存しました(版 1)。")
            expect(page.locator("#definition-text")).to_have_text(
                "購入回数が1以上 AND 定期を継続中"
            )
            expect(page.locator('[data-figure="members"] .card-value')).to_have_text("1")
            expect(page.locator("#member-sample a")).to_have_text(["i"])
            page.screenshot(path=str(ARTIFACTS / "segment-saved-ja.png"), full_page=True)

            page.goto(base + "/segments")
            row = page.locator('tr[data-key="north-subs"]')
            expect(row).to_contain_text("購入者で定期継続中")
            expect(row.locator("[data-source]")).to_have_text("保存済み")

            # The same builder in English, loaded from the saved definition.
            page.goto(base + "/segments/north-subs/edit?lang=en")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("#live-count")).to_have_text("Matches 1 of 5 customers (20.0%)")
            expect(page.locator("#definition-text")).to_have_text(
                "Orders ≥ 1 AND has an active subscription"
            )
            page.screenshot(path=str(ARTIFACTS / "segment-builder-en.png"), full_page=True)
            page.goto(base + "/segments?lang=ja")

            # A ready segment with two refreshes draws its size chart.
            page.goto(base + "/segments/never-subscribed")
            chart = page.locator("#size-chart")
            expect(chart).to_have_attribute("data-rendered", "true", timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "segment-detail-ja.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
    # The live count really went through the JSON endpoint.
    assert counts and all('"n.type":["and"]' in c for c in counts)
