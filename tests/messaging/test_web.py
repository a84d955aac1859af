"""/messages pages and the public /t/ endpoints: roles, sandboxed preview, send test into
the sandbox inbox, signed click redirects, opens, unsubscribe and RFC 8058 one-click."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.messaging.conftest import TRACKING
from tests.web.conftest import csrf_from, login
from tokui.clock import FixedClock
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.state.db import session_scope
from tokui.state.messages import (
    ConsentRecord,
    ContactSuppression,
    MessageEventRecord,
    OutboxMessage,
    SandboxInboxMessage,
)
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.web.app import create_app
from tokui.web.routes.messages import FRAME_CSP
from tokui.workspace import Workspace

ANALYST = ("analyst@example.com", "analyst-password-1")
ADMIN = ("admin@example.com", "admin-password-123")


@pytest.fixture
def client(mws: Workspace, clock: FixedClock) -> Iterator[TestClient]:
    with session_scope(mws.sessions) as db:
        create_user(db, ANALYST[0], ANALYST[1], Role.analyst, "分析 次郎")
    with TestClient(create_app(mws, clock), base_url="https://crm.tokui.example") as c:
        yield c


def _events(mws: Workspace) -> list[tuple[str, str]]:
    with session_scope(mws.sessions) as db:
        rows = db.execute(
            select(MessageEventRecord.event, MessageEventRecord.detail).order_by(
                MessageEventRecord.id
            )
        )
        return [(e, d) for e, d in rows]


def _queued(messaging: Messaging, customer_id: str = "c1") -> OutboxMessage:
    data = messaging.customers([customer_id])[customer_id]
    address = str(data.customer["email"])
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        rows = messaging.queue(
            db, template, get_version(db, template), [Recipient(customer_id, address, data)], "w"
        )
    return rows[0]


def test_roles_and_pages(client: TestClient) -> None:
    assert client.get("/messages", follow_redirects=False).status_code == 303
    login(client, *ANALYST)
    page = client.get("/messages")
    assert page.status_code == 200
    assert 'href="/messages/templates/welcome"' in page.text
    assert "/messages/templates/new" not in page.text  # analysts cannot create
    for path in ("/messages/deliveries", "/messages/inbox", "/messages/suppressions"):
        assert client.get(path).status_code == 200
    editor = client.get("/messages/templates/welcome")
    assert '<iframe class="msg-frame" sandbox=""' in editor.text
    token = csrf_from(editor.text)
    saved = client.post(
        "/messages/templates/welcome",
        data={"name": "x", "subject": "s", "html": "<p>h</p>", "csrf_token": token},
    )
    assert saved.status_code == 403
    assert client.get("/messages/templates/new").status_code == 403


def test_preview_is_sandboxed_and_escapes_customer_fields(client: TestClient) -> None:
    login(client, *ANALYST)
    preview = client.get("/messages/templates/welcome/preview?customer_id=x")
    assert preview.status_code == 200
    assert preview.headers["content-security-policy"] == FRAME_CSP
    assert "sandbox" in FRAME_CSP.split("; ") and "script-src" not in FRAME_CSP
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert "<script" not in preview.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in preview.text
    # The real customer's data, with the sample one when no id is given.
    assert "山田 太郎様" in client.get("/messages/templates/welcome/preview?customer_id=c1").text
    assert "得意 花子様" in client.get("/messages/templates/welcome/preview").text
    missing = client.get("/messages/templates/welcome/preview?customer_id=nobody")
    assert missing.status_code == 404 and "no customer &#39;nobody&#39;" in missing.text


def test_save_new_version_and_render_errors_block(client: TestClient, mws: Workspace) -> None:
    login(client, *ADMIN)
    token = csrf_from(client.get("/messages/templates/welcome").text)
    bad = client.post(
        "/messages/templates/welcome",
        data={
            "name": "ウェルカム",
            "subject": "こんにちは",
            "html": "<p>ok</p>\n<p>{{ customer.nam }}</p>",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 400
    assert (
        "template &#39;welcome&#39; v2, html, line 2: undefined value: &#39;dict object&#39; "
        "has no attribute &#39;nam&#39;"
    ) in bad.text
    good = client.post(
        "/messages/templates/welcome",
        data={
            "name": "ウェルカム2",
            "subject": "{{ customer.name }}様",
            "html": "<p>{{ customer.name }}</p>",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    with session_scope(mws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        assert (template.current_version, template.name) == (2, "ウェルカム2")
        assert get_version(db, template, 1).subject.startswith("【{{ shop.name }}】")


def test_send_test_lands_in_the_sandbox_inbox(client: TestClient, mws: Workspace) -> None:
    login(client, *ADMIN)
    token = csrf_from(client.get("/messages/templates/welcome").text)
    sent = client.post(
        "/messages/templates/welcome/send-test",
        data={"to": "me@example.jp", "customer_id": "c1", "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with session_scope(mws.sessions) as db:
        row = db.scalar(select(OutboxMessage))
        item = db.scalar(select(SandboxInboxMessage))
    assert row is not None and item is not None
    assert sent.headers["location"] == f"/messages/deliveries?sent={row.id}"
    assert (row.status, row.recipient, row.customer_id) == ("sent", "me@example.jp", "c1")
    assert item.subject == "[TEST] 【とくい食品】山田 太郎様へ冬のご案内"
    assert json.loads(item.headers)["Message-ID"] == row.provider_message_id
    inbox = client.get("/messages/inbox")
    assert f'href="/messages/inbox/{item.id}"' in inbox.text
    frame = client.get(f"/messages/inbox/{item.id}/html")
    assert frame.headers["content-security-policy"] == FRAME_CSP
    assert "山田 太郎様、いつもありがとうございます" in frame.text


def test_click_links_are_signed_and_never_open_redirects(
    client: TestClient, messaging: Messaging, mws: Workspace
) -> None:
    row = _queued(messaging)
    html = json.loads(row.payload)["html"]
    link = next(
        h.replace("&amp;", "&")
        for h in __import__("re").findall(r'href="([^"]+)"', html)
        if "/t/c/" in h and "partner" in h
    )
    assert link.startswith(f"{TRACKING}/t/c/{row.id}?")
    path = urlsplit(link).path + "?" + urlsplit(link).query
    ok = client.get(path, follow_redirects=False)
    assert ok.status_code == 302
    assert ok.headers["location"] == "https://partner.example.org/page"
    query = parse_qs(urlsplit(link).query)
    sig = query["s"][0]
    altered = sig[:-1] + ("B" if sig[-1] != "B" else "C")
    forged = [
        f"/t/c/{row.id}?u=https://evil.example/&s={sig}",  # other target, old signature
        f"/t/c/{row.id + 1}?u=https://partner.example.org/page&s={sig}",  # other message
        f"/t/c/{row.id}?u=https://partner.example.org/page",  # unsigned
        f"/t/c/{row.id}?u=https://partner.example.org/page&s=",
        f"/t/c/{row.id}?u=https://partner.example.org/page&s={altered}",
        f"/t/c/{row.id}?u=//evil.example&s={sig}",
    ]
    for path in forged:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 400, path
        assert "location" not in response.headers
    # A correctly signed javascript: URL (cannot be produced by rewrite_links) is refused.
    js = "javascript:alert(1)"
    signed_js = messaging.signer.click_signature(row.id, js)
    assert client.get(f"/t/c/{row.id}", params={"u": js, "s": signed_js}).status_code == 400
    assert _events(mws)[-1] == ("clicked", "https://partner.example.org/page")


def test_open_pixel(client: TestClient, messaging: Messaging, mws: Workspace) -> None:
    row = _queued(messaging)
    url = messaging.signer.open_url(row.id)
    pixel = client.get(urlsplit(url).path)
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    assert pixel.content.startswith(b"GIF89a")
    assert client.get("/t/o/forged.gif").content == pixel.content
    assert [e for e, _ in _events(mws)] == ["queued", "opened"]


def test_unsubscribe_page_and_one_click(
    client: TestClient, messaging: Messaging, mws: Workspace
) -> None:
    first = _queued(messaging, "c1")
    second = _queued(messaging, "c2")
    page = client.get(urlsplit(messaging.signer.unsubscribe_url(first.id)).path)
    assert page.status_code == 200
    assert f'action="/t/u/{messaging.signer.unsubscribe_token(first.id)}"' in page.text
    # The confirm form needs no session: posting it unsubscribes.
    done = client.post(urlsplit(messaging.signer.unsubscribe_url(first.id)).path)
    assert done.status_code == 200
    # RFC 8058: a POST with the one-click body from a client without any cookie.
    with TestClient(client.app, base_url="https://crm.tokui.example") as provider:
        one_click = provider.post(
            urlsplit(messaging.signer.unsubscribe_url(second.id)).path,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200
        assert provider.post("/t/u/MQ.forged").status_code == 400
        assert provider.get("/t/u/not-a-token").status_code == 400
    with session_scope(mws.sessions) as db:
        listed = [
            (s.channel, s.address, s.reason, s.detail)
            for s in db.scalars(select(ContactSuppression).order_by(ContactSuppression.id))
        ]
        consent = [
            (c.customer_id, c.channel, c.granted, c.method, c.outbox_id)
            for c in db.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
        ]
    assert listed == [
        ("email", "taro@example.jp", "unsubscribe", "unsubscribe_page"),
        ("email", "hanako@example.jp", "unsubscribe", "one_click"),
    ]
    assert consent == [
        ("c1", "email", False, "unsubscribe_page", first.id),
        ("c2", "email", False, "one_click", second.id),
    ]
    unsubscribed = [e for e in _events(mws) if e[0] == "unsubscribed"]
    assert unsubscribed == [("unsubscribed", "unsubscribe_page"), ("unsubscribed", "one_click")]


def test_deliveries_filters_are_whitelisted(client: TestClient, messaging: Messaging) -> None:
    _queued(messaging)
    login(client, *ANALYST)
    listed = client.get("/messages/deliveries?status=queued")
    assert listed.status_code == 200 and "taro@example.jp" in listed.text
    assert "taro@example.jp" not in client.get("/messages/deliveries?status=sent").text
    bad = client.get("/messages/deliveries?status=sent' OR 1=1 --")
    assert bad.status_code == 200
    assert "unknown status" in bad.text and "taro@example.jp" not in bad.text
