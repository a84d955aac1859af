"""Web side of the channels: the call list and the call_center role's isolation, outcome
recording into message events, the LINE webhook's signature and consent updates, the
channel settings page (masked secrets, switches, send test), the DM download; roles and
CSRF on every new form."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.messaging.conftest import NOW
from tests.web.conftest import csrf_from, login
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.recipients import resolve
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template, get_version
from tokui.state.channels import CallTask, ChannelSwitch, LineLink
from tokui.state.db import session_scope
from tokui.state.messages import ConsentRecord, MessageEventRecord, OutboxMessage
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.web.app import create_app
from tokui.workspace import Workspace

CALLER = ("caller@example.com", "caller-password-1")
MARKETER = ("marketer@example.com", "marketer-password-1")
ADMIN = ("admin@example.com", "admin-password-123")
LINE_SECRET = "line-channel-secret-for-tests"
LINE_USER = "U" + "ab" * 16


@pytest.fixture
def client(
    mws: Workspace, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("TOKUI_LINE_CHANNEL_SECRET", LINE_SECRET)
    monkeypatch.setenv("TOKUI_LINE_CHANNEL_ACCESS_TOKEN", "tok-should-never-show")
    with session_scope(mws.sessions) as db:
        create_user(db, CALLER[0], CALLER[1], Role.call_center, "電話 三郎")
        create_user(db, MARKETER[0], MARKETER[1], Role.marketer, "販促 花子")
    with TestClient(create_app(mws, clock), base_url="https://crm.tokui.example") as c:
        yield c


def _call_task(mws: Workspace, clock: FixedClock) -> int:
    messaging = Messaging(mws, clock)
    with session_scope(mws.sessions) as db:
        template = create_template(
            db,
            key="churn-call",
            channel="call_center",
            draft=TemplateDraft(
                name="解約防止", subject="次回10%オフ", text="{{ customer.name }}様、ご継続の確認"
            ),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        recipients = resolve(messaging, db, "call_center", ["c1"]).recipients
        messaging.queue(db, template, get_version(db, template, None), recipients, "churn:1")
    stats = asyncio.run(messaging.worker().run_once())
    assert stats.sent == 1
    with session_scope(mws.sessions) as db:
        task = db.scalars(select(CallTask)).one()
        return task.id


def _scores(mws: Workspace) -> None:
    mws.warehouse.create_table(
        "customer_scores",
        pd.DataFrame(
            {
                "customer_id": ["c1"],
                "model": ["churn_subscription"],
                "as_of": [date(2025, 12, 30)],
                "churn_probability": [0.82],
                "churn_decile": [1],
                "reason_1": ["skips_last_2.high"],
                "reason_2": ["cycle_days.low"],
                "reason_3": pd.Series([None], dtype="string"),
            }
        ),
    )


def test_call_center_sees_only_the_call_list(
    client: TestClient, mws: Workspace, clock: FixedClock
) -> None:
    task_id = _call_task(mws, clock)
    response = login(client, *CALLER)
    assert response.headers["location"] == "/calls"
    page = client.get("/calls")
    assert page.status_code == 200
    assert "次回10%オフ" in page.text
    assert "山田 太郎様、ご継続の確認" in page.text
    assert "スコアはまだありません" in page.text
    assert 'href="/customers/c1"' not in page.text  # the role may not open it
    assert 'href="/calls"' in page.text and 'href="/messages"' not in page.text
    for path in (
        "/",
        "/customers",
        "/customers/c1",
        "/messages",
        "/segments",
        "/analyses",
        "/settings",
        "/messages/channels",
        "/messages/dm",
        "/import",
    ):
        assert client.get(path).status_code == 403, path
    token = csrf_from(page.text)
    # no CSRF token: refused before the route
    assert client.post(f"/calls/{task_id}/outcome", data={"outcome": "saved"}).status_code == 403
    done = client.post(
        f"/calls/{task_id}/outcome",
        data={"outcome": "saved", "note": "定期を継続、10%オフ適用", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_scope(mws.sessions) as db:
        task = db.get(CallTask, task_id)
        assert task is not None
        assert (task.status, task.outcome, task.note) == (
            "done",
            "saved",
            "定期を継続、10%オフ適用",
        )
        events = list(
            db.execute(
                select(
                    MessageEventRecord.event,
                    MessageEventRecord.customer_id,
                    MessageEventRecord.channel,
                    MessageEventRecord.detail,
                ).order_by(MessageEventRecord.id)
            )
        )
    assert [tuple(e) for e in events] == [
        ("queued", "c1", "call_center", ""),
        ("sent", "c1", "call_center", ""),
        ("call_saved", "c1", "call_center", "定期を継続、10%オフ適用"),
    ]
    again = client.post(
        f"/calls/{task_id}/outcome",
        data={"outcome": "no_answer", "csrf_token": token},
        follow_redirects=False,
    )
    assert "already%20has%20the%20outcome%20saved" in again.headers["location"]


def test_call_list_shows_churn_reasons_and_360_link_for_marketers(
    client: TestClient, mws: Workspace, clock: FixedClock
) -> None:
    _call_task(mws, clock)
    _scores(mws)
    login(client, *MARKETER)
    page = client.get("/calls")
    assert page.status_code == 200
    assert "82%" in page.text and "リスク十分位 1" in page.text
    assert "直近2回のお届けでスキップあり" in page.text
    assert "お届け周期が短い (量が余りがち)" in page.text
    assert 'href="/customers/c1"' in page.text


def test_viewer_and_analyst_cannot_see_calls(client: TestClient, mws: Workspace) -> None:
    with session_scope(mws.sessions) as db:
        create_user(db, "viewer@example.com", "viewer-password-1", Role.viewer, "V")
    login(client, "viewer@example.com", "viewer-password-1")
    assert client.get("/calls").status_code == 403
    assert 'href="/calls"' not in client.get("/").text


def _signed(body: bytes, secret: str = LINE_SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"x-line-signature": base64.b64encode(mac).decode(), "content-type": "application/json"}


def _follow(kind: str, event_id: str, ms: int) -> bytes:
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": ms,
        "source": {"type": "user", "userId": LINE_USER},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
    }
    if kind == "follow":
        event |= {"replyToken": "r", "follow": {"isUnblocked": False}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()


def test_line_webhook_signature_and_consent(client: TestClient, mws: Workspace) -> None:
    mws.warehouse.con.execute(
        "UPDATE customers SET line_user_id = ? WHERE customer_id = 'c2'", [LINE_USER]
    )
    body = _follow("follow", "01HX0000000000000000000001", 1767150000000)
    assert client.post("/hooks/line", content=body).status_code == 401  # missing
    bad = _signed(body, "wrong-secret")
    assert client.post("/hooks/line", content=body, headers=bad).status_code == 401
    tampered = body.replace(b"follow", b"unfollow", 1)
    assert client.post("/hooks/line", content=tampered, headers=_signed(body)).status_code == 401
    with session_scope(mws.sessions) as db:
        assert db.scalars(select(ConsentRecord)).all() == []
    ok = client.post("/hooks/line", content=body, headers=_signed(body))
    assert ok.json() == {"followed": 1, "unfollowed": 0, "duplicates": 0}
    redelivered = client.post("/hooks/line", content=body, headers=_signed(body))
    assert redelivered.json() == {"followed": 0, "unfollowed": 0, "duplicates": 1}
    later = _follow("unfollow", "01HX0000000000000000000002", 1767153600000)
    client.post("/hooks/line", content=later, headers=_signed(later))
    with session_scope(mws.sessions) as db:
        records = [
            (r.customer_id, r.channel, r.granted, r.method, r.evidence, r.at)
            for r in db.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
        ]
        link = db.get(LineLink, LINE_USER)
        assert link is not None
        assert (link.customer_id, link.following) == ("c2", False)
    from datetime import datetime

    assert records == [
        (
            "c2",
            "line",
            True,
            "line_follow",
            "LINE webhookEventId=01HX0000000000000000000001",
            datetime(2025, 12, 31, 3, 0),
        ),
        (
            "c2",
            "line",
            False,
            "line_unfollow",
            "LINE webhookEventId=01HX0000000000000000000002",
            datetime(2025, 12, 31, 4, 0),
        ),
    ]


def test_channels_page_masks_secrets_and_is_admin_only(client: TestClient) -> None:
    login(client, *MARKETER)
    assert client.get("/messages/channels").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/messages").text)})
    login(client, *ADMIN)
    page = client.get("/messages/channels")
    assert page.status_code == 200
    assert "tok-should-never-show" not in page.text and LINE_SECRET not in page.text
    assert "TOKUI_LINE_CHANNEL_ACCESS_TOKEN" in page.text and "••••••••" in page.text
    assert "TOKUI_WEBHOOK_SECRET is not set" in page.text


def test_switch_off_keeps_messages_queued(
    client: TestClient, mws: Workspace, clock: FixedClock
) -> None:
    login(client, *ADMIN)
    token = csrf_from(client.get("/messages/channels").text)
    assert (
        client.post("/messages/channels/call_center/enabled", data={"enabled": "0"}).status_code
        == 403
    )
    client.post(
        "/messages/channels/call_center/enabled", data={"enabled": "0", "csrf_token": token}
    )
    with session_scope(mws.sessions) as db:
        assert db.get(ChannelSwitch, "call_center") is not None
    with pytest.raises(AssertionError):
        _call_task(mws, clock)  # the worker does not claim it
    with session_scope(mws.sessions) as db:
        assert db.scalars(select(OutboxMessage.status)).all() == ["queued"]


def test_send_test_goes_to_the_sandbox_inbox(client: TestClient, mws: Workspace) -> None:
    login(client, *ADMIN)
    token = csrf_from(client.get("/messages/channels").text)
    sent = client.post(
        "/messages/channels/line/test",
        data={"to": LINE_USER, "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith(
        "/messages/deliveries?sent="
    )
    inbox = client.get("/messages/inbox")
    assert LINE_USER in inbox.text
    with session_scope(mws.sessions) as db:
        row = db.scalars(select(OutboxMessage)).one()
        assert (row.channel, row.status, row.is_marketing) == ("line", "sent", False)
        assert json.loads(row.payload) == {
            "messages": [
                {"type": "text", "text": "Tokui からのテスト送信です。This is a test from Tokui."}
            ]
        }


def test_dm_download_roles(client: TestClient) -> None:
    login(client, *MARKETER)
    page = client.get("/messages/dm")
    assert page.status_code == 200
    token = csrf_from(page.text)
    made = client.post(
        "/messages/dm/export",
        data={"key": "dm-empty", "encoding": "utf-8-sig", "csrf_token": token},
        follow_redirects=False,
    )
    download = client.get(made.headers["location"])
    assert download.headers["content-disposition"] == 'attachment; filename="dm-empty.csv"'
    assert (
        download.content == "\ufeff郵便番号,住所1,住所2,氏名,敬称,顧客ID,メッセージID\r\n".encode()
    )


def test_dm_page_lists_skipped_messages_escaped(
    client: TestClient, mws: Workspace, clock: FixedClock
) -> None:
    """The batch lists what it left out and why; a reason quoting customer data (a
    postal code with markup) is shown as text."""
    mws.warehouse.con.execute(
        "UPDATE customers SET postal_code = '<b>1</b>', dm_opt_in = true WHERE customer_id = 'x'"
    )
    messaging = Messaging(mws, clock)
    with session_scope(mws.sessions) as db:
        template = create_template(
            db,
            key="dm",
            channel="postal_dm",
            draft=TemplateDraft(name="DM", text='{"コード": "W25"}'),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        resolved = resolve(messaging, db, "postal_dm", ["c1", "x"])
        rows = messaging.queue(
            db, template, get_version(db, template, None), resolved.recipients, "dm"
        )
        ids = [r.id for r in rows]
    login(client, *MARKETER)
    token = csrf_from(client.get("/messages/dm").text)
    made = client.post(
        "/messages/dm/export",
        data={"key": "dm-1", "encoding": "utf-8-sig", "csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/messages/dm").text
    assert f"<li>c1 (#{ids[0]}): no consent to postal DM</li>" in page
    assert (
        f"<li>x (#{ids[1]}): unusable address: postal code &#39;&lt;b&gt;1&lt;/b&gt;&#39; "
        "is not 7 digits (郵便番号)</li>"
    ) in page
    assert "<b>1</b>" not in page
