"""The HTML email and the editor's preview in a real Chromium: the layout renders, the
legal footer is visible, and a hostile customer's fields run no script.

Uses the system Chromium like tests/web/test_browser.py; the screenshots go to
test-artifacts/ (email-desktop.png, email-mobile.png, messages-editor.png).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tests.messaging.conftest import ADMIN_EMAIL_PASSWORD
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _free_port, _need_browser
from tokui.clock import FixedClock
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.state.db import session_scope
from tokui.web.app import create_app

pytestmark = pytest.mark.browser


def _email_html(messaging: Messaging, customer_id: str) -> str:
    data = messaging.customers([customer_id])[customer_id]
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        [row] = messaging.queue(
            db,
            template,
            get_version(db, template),
            [Recipient(customer_id, str(data.customer["email"]), data)],
            "browser",
        )
    return str(json.loads(row.payload)["html"])


@pytest.fixture
def server(messaging: Messaging, clock: FixedClock) -> Iterator[str]:
    _need_browser()
    port = _free_port()
    config = uvicorn.Config(
        create_app(messaging.ws, clock), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_email_and_preview_in_chromium(messaging: Messaging, server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    good = _email_html(messaging, "c1")
    hostile = _email_html(messaging, "x")
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for name, width in (("desktop", 900), ("mobile", 390)):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.route("**/*", lambda route: route.abort())  # no tracking pixel fetch
                page.set_content(good)
                expect(page.locator("h1")).to_have_text("山田 太郎様、いつもありがとうございます")
                footer = page.locator("text=こちらから配信停止")
                expect(footer).to_be_visible()
                expect(page.locator("text=住所：東京都千代田区丸の内1-1-1")).to_be_visible()
                container = page.locator("table.tk-container").bounding_box()
                assert container is not None
                # 600 px on a desktop; on a phone the media query gives the full width
                # less the outer cell's 8 px padding on each side.
                assert container["width"] == (600 if width == 900 else 390 - 16)
                page.screenshot(path=str(ARTIFACTS / f"email-{name}.png"), full_page=True)
                page.close()

            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route("**/*", lambda route: route.abort())
            page.set_content(hostile)
            expect(page.locator("h1")).to_contain_text('<script>alert("x")</script>')
            page.close()

            # The editor: the preview iframe is sandboxed and shows the real customer.
            context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server + "/login")
            page.fill("input[name=email]", ADMIN_EMAIL_PASSWORD[0])
            page.fill("input[name=password]", ADMIN_EMAIL_PASSWORD[1])
            page.click("button[type=submit]")
            page.goto(server + "/messages/templates/welcome?customer_id=x")
            frame = page.frame_locator("iframe.msg-frame")
            expect(frame.locator("h1")).to_contain_text("<img src=x onerror=alert(1)>")
            page.screenshot(path=str(ARTIFACTS / "messages-editor.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
