"""The scenario editor in a real Chromium: pick a trigger, add three steps, move one,
save, enable; screenshots of the list, the editor and the scenario in Japanese.

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

from tests.scenarios.shop import NOW
from tests.web.scenarios_shop import MARKETER_EMAIL, MARKETER_PASSWORD, build, open_copy
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _free_port, _need_browser
from tokui.clock import FixedClock
from tokui.scenarios import store
from tokui.state.db import session_scope
from tokui.web.app import create_app
from tokui.workspace import Workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def sc_server(tmp_path: Path) -> Iterator[tuple[str, Workspace]]:
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
    yield f"http://127.0.0.1:{port}", ws
    server.should_exit = True
    thread.join(timeout=10)
    ws.close()


def test_build_save_enable_in_chromium(sc_server: tuple[str, Workspace]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ws = sc_server
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            page.goto(base + "/login?next=/scenarios")
            page.fill("input[name=email]", MARKETER_EMAIL)
            page.fill("input[name=password]", MARKETER_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(base + "/scenarios")
            expect(page.locator('[data-state="empty"]')).to_be_visible()
            expect(page.locator('tr[data-ready="cart-abandonment"]')).to_contain_text(
                "カート追加から3時間、注文なし"
            )

            page.click("#new-scenario")
            expect(page).to_have_url(base + "/scenarios/new")
            page.fill("input[name=key]", "cart-follow")
            page.fill("input[name=name_ja]", "カゴ落ちフォロー (手作り)")
            # Choosing the trigger re-draws the form with the trigger's own fields.
            page.select_option("select[name='trigger.type']", "cart_abandoned")
            expect(page.locator("input[name='trigger.hours']")).to_have_value("3")
            expect(page.locator("input[name=key]")).to_have_value("cart-follow")
            page.fill("input[name='trigger.hours']", "2")

            # Step 1: an email.
            page.select_option("select[name=add_type]", "send")
            page.click("#add-step")
            expect(page.locator("input[name='s.0.id']")).to_have_value("send-1")
            page.select_option("select[name='s.0.template']", "sc-mail")
            # Step 2: wait a day.
            page.select_option("select[name=add_type]", "wait")
            page.click("#add-step")
            expect(page.locator("input[name='s.1.days']")).to_have_value("1")
            # Step 3: a LINE message; changing the channel offers the LINE templates.
            page.select_option("select[name=add_type]", "send")
            page.click("#add-step")
            page.select_option("select[name='s.2.channel']", "line")
            expect(page.locator("select[name='s.2.template'] option")).to_have_text(
                ["選んでください", "LINE (sc-line)"]
            )
            page.select_option("select[name='s.2.template']", "sc-line")
            # Move the LINE message up, before the wait.
            page.click("button[value='up:2']")
            steps = page.locator("fieldset.sc-step")
            expect(steps).to_have_count(3)
            for i, step_id in enumerate(["send-1", "send-2", "wait-1"]):
                expect(page.locator(f"input[name='s.{i}.id']")).to_have_value(step_id)
            expect(page.locator("select[name='s.1.template']")).to_have_value("sc-line")
            expect(page.locator("input[name='trigger.hours']")).to_have_value("2")
            page.click("#check-scenario")
            expect(page.locator('[data-state="valid"]')).to_be_visible()
            expect(page.locator("fieldset.sc-step .sc-step-summary")).to_have_text(
                ["メールで「メール」を送る", "LINEで「LINE」を送る", "1日待つ"]
            )
            page.screenshot(path=str(ARTIFACTS / "scenario-editor-ja.png"), full_page=True)

            page.click("#save-scenario")
            expect(page).to_have_url(base + "/scenarios/cart-follow?saved=1")
            expect(page.locator('[data-state="saved"]')).to_have_text("保存しました（版 1）。")
            page.click("#enable-scenario")
            expect(page).to_have_url(base + "/scenarios/cart-follow?changed=enable")
            expect(page.locator(".sc-head [data-status]")).to_have_text("配信中")
            expect(page.locator("#trigger-text")).to_have_text("カート追加から2時間、注文なし")
            page.screenshot(path=str(ARTIFACTS / "scenario-detail-ja.png"), full_page=True)

            page.goto(base + "/scenarios")
            row = page.locator('tr[data-key="cart-follow"]')
            expect(row.locator("[data-status]")).to_have_text("配信中")
            expect(row.locator("[data-trigger]")).to_have_text("カート追加から2時間、注文なし")
            expect(row.locator('[data-kpi="active"]')).to_have_text("0")
            page.screenshot(path=str(ARTIFACTS / "scenarios-list-ja.png"), full_page=True)

            # A dry run over 90 days: c2's cart (01:00 UTC, 2 hours before now) enters;
            # c2 has no email consent, so only the LINE message would have gone out.
            page.goto(base + "/scenarios/cart-follow/dry-run")
            expect(page.locator('[data-figure="entered"] .card-value')).to_have_text("1")
            expect(page.locator('[data-figure="messages"] .card-value')).to_have_text("1")
            expect(page.locator("#dry-messages tbody tr")).to_have_attribute("data-step", "send-2")
            page.screenshot(path=str(ARTIFACTS / "scenario-dryrun-ja.png"), full_page=True)

            # The editor of the live scenario says a save makes version 2.
            page.goto(base + "/scenarios/cart-follow/edit")
            expect(page.locator('[data-state="live"]')).to_contain_text("版 2")
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
    with session_scope(ws.sessions) as db:
        s = store.get(db, "cart-follow")
        d = store.load_version(store.version_row(db, s))
    assert s.status == "enabled"
    assert [(x.id, x.type) for x in d.steps] == [
        ("send-1", "send"),
        ("send-2", "send"),
        ("wait-1", "wait"),
    ]
