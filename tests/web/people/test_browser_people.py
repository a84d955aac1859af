"""Customers and imports in a real Chromium: search, the 360 page, an upload through the
import page and its history. Screenshots go to test-artifacts/ (Japanese UI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.privacy.people import NOW
from tests.web.people.helpers import EMAILS, PASSWORD
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _free_port, _need_browser
from tokui.clock import FixedClock
from tokui.state.models import Role
from tokui.web.app import create_app
from tokui.workspace import Workspace

pytestmark = pytest.mark.browser

UPLOAD = (
    "Customer ID,First Name,Last Name,Email,Phone\n"
    "9101,桜,木村,sakura.k@example.com,080-2222-3333\n"
    "9102,健,中村,ken.n@example.com,\n"
)


@pytest.fixture
def people_url(people_ws: Workspace) -> Iterator[str]:
    _need_browser()
    port = _free_port()
    app = create_app(people_ws, FixedClock(NOW))
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


def test_customers_and_import_in_chromium(people_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "新規顧客.csv"
    upload.write_text(UPLOAD, encoding="utf-8")
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

            page.goto(people_url + "/customers")
            page.fill("input[name=email]", EMAILS[Role.marketer])
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1.page-title")).to_have_text("顧客")
            expect(page.locator("#customer-results tbody tr")).to_have_count(7)

            page.fill("input[name=q]", "さくじょ")
            page.click("button:has-text('検索')")
            rows = page.locator("#customer-results tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("削除 太郎")
            page.screenshot(path=str(ARTIFACTS / "customers-search-ja.png"), full_page=True)

            rows.first.locator("a").first.click()
            expect(page.locator("h2.customer-name")).to_have_text("削除 太郎")
            expect(page.locator("#point-balance")).to_have_text("60")
            expect(page.locator("#orders .timeline-item")).to_have_count(2)
            expect(page.locator("#subscriptions .cancel-reason")).to_have_text("量が多い")
            expect(page.locator("#messages")).to_contain_text("現在はまだデータがありません")
            page.screenshot(path=str(ARTIFACTS / "customer-360-ja.png"), full_page=True)

            # The escaping witness renders as text, runs nothing.
            page.goto(people_url + "/customers/x")
            expect(page.locator("h2.customer-name")).to_have_text("<script>alert(1)</script>")

            page.click("a.nav-link:has-text('データ取込')")
            page.set_input_files("input[name=file]", str(upload))
            page.select_option("select[name=profile]", "shopify_customers")
            page.click("button:has-text('プレビュー')")
            expect(page.locator("#upload-name")).to_have_text("新規顧客.csv")
            expect(page.locator("#rows-read")).to_have_text("2")
            page.screenshot(path=str(ARTIFACTS / "import-preview-ja.png"), full_page=True)
            page.click("#confirm-import")
            # The status page polls (static/import_status.js) and reloads when done.
            expect(page.locator("#job-result")).to_have_text("取込が完了しました。", timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "import-done-ja.png"), full_page=True)
            page.click("a:has-text('データ取込へ戻る')")
            history = page.locator("#import-history tbody tr").first
            expect(history).to_contain_text("新規顧客.csv")
            expect(history).to_contain_text("成功")
            page.screenshot(path=str(ARTIFACTS / "import-history-ja.png"), full_page=True)

            page.goto(people_url + "/customers?q=木村")
            expect(page.locator("#customer-results tbody tr")).to_have_count(1)
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
