"""Emails parsed back with the email package: headers, structure, both parts, footer,
signed links, and the customer's hostile fields escaped."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dkim
import pytest
from sqlalchemy import select

from tests.messaging.conftest import NOW, TRACKING
from tests.messaging.shop import XSS_NAME
from tokui.clock import FixedClock
from tokui.messaging import service
from tokui.messaging.channel import OutgoingMessage
from tokui.messaging.channels.email import EmailChannel
from tokui.messaging.mime import AddressError, DKIMKey, build_email
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.messaging.templates import TemplateRenderError
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage


def _queue(messaging: Messaging, customer_id: str, address: str) -> OutboxMessage:
    data = messaging.customers([customer_id])[customer_id]
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        version = get_version(db, template)
        rows = messaging.queue(
            db, template, version, [Recipient(customer_id, address, data)], "winter"
        )
    return rows[0]


def _bytes(messaging: Messaging, row: OutboxMessage) -> bytes:
    channel = EmailChannel(messaging.settings, FixedClock(NOW))
    return channel.to_bytes(
        OutgoingMessage(
            row.id,
            row.idempotency_key,
            "email",
            row.recipient,
            row.customer_id,
            json.loads(row.payload),
            row.provider_message_id,
        )
    )


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_headers_structure_and_parts(messaging: Messaging) -> None:
    row = _queue(messaging, "c1", "taro@example.jp")
    raw = _bytes(messaging, row)
    assert b"\r\n\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    # Every header line is ASCII: the Japanese subject and sender are RFC 2047 words.
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    assert b"Subject: =?utf-8?b?" in head
    msg = _parse(raw)
    assert msg["Subject"] == "【とくい食品】山田 太郎様へ冬のご案内"
    assert msg["From"].addresses[0].display_name == "とくい食品"
    assert msg["From"].addresses[0].addr_spec == "news@tokui.example"
    assert msg["To"] == "taro@example.jp"
    assert msg["Date"].datetime == NOW
    assert re.fullmatch(rf"<{row.id}\.[0-9a-f]{{16}}@tokui\.example>", msg["Message-ID"])
    assert msg["Message-ID"] == row.provider_message_id
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())

    # RFC 8058: an https URI and the Post header; the mailto is an extra.
    unsubscribe = messaging.signer.unsubscribe_url(row.id)
    assert msg["List-Unsubscribe"] == (
        f"<{unsubscribe}>, <mailto:unsubscribe@tokui.example?subject=unsubscribe-"
        f"{messaging.signer.unsubscribe_token(row.id)}>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    text, html = _parts(msg)
    for part in (text, html):
        assert "山田 太郎様、いつもありがとうございます" in part
        assert "ポイント残高：1,200pt" in part
        # Only the usable coupon: the other one expired on 2025-12-01.
        assert "クーポン：冬の感謝クーポン（WINTER-500）" in part
        assert "OLD-10" not in part
        # The 特定電子メール法 footer: sender, address, contact, visible opt-out.
        assert "株式会社とくい食品" in part
        assert "東京都千代田区丸の内1-1-1" in part
        assert "support@tokui.example / 03-1234-5678" in part
        assert unsubscribe in part
    assert ">こちらから配信停止</a>" in html


def test_links_are_signed_and_shop_links_get_utm(messaging: Messaging) -> None:
    row = _queue(messaging, "c1", "taro@example.jp")
    _, html = _parts(_parse(_bytes(messaging, row)))
    hrefs = re.findall(r'href="([^"]+)"', html)
    tracked = [h.replace("&amp;", "&") for h in hrefs if h.startswith(f"{TRACKING}/t/c/")]
    targets = []
    for link in tracked:
        parts = urlsplit(link)
        assert parts.path == f"/t/c/{row.id}"
        query = parse_qs(parts.query)
        url, sig = query["u"][0], query["s"][0]
        assert messaging.signer.verify_click(row.id, url, sig)
        targets.append(url)
    assert targets == [
        "https://shop.tokui.example?utm_source=tokui&utm_medium=email&utm_campaign=welcome"
        "&utm_content=v1",
        "https://shop.tokui.example/sale?ref=mail&utm_source=tokui&utm_medium=email"
        "&utm_campaign=welcome&utm_content=v1",
        # Not the shop's domain: tracked, but no UTM added.
        "https://partner.example.org/page",
    ]
    # The unsubscribe link stays direct, and the open pixel is signed.
    assert messaging.signer.unsubscribe_url(row.id) in hrefs
    assert messaging.signer.open_url(row.id) in html


def test_hostile_customer_fields_are_escaped_in_html(messaging: Messaging) -> None:
    row = _queue(messaging, "x", "evil@example.jp")
    msg = _parse(_bytes(messaging, row))
    text, html = _parts(msg)
    assert "<script" not in html
    assert "<img src=x" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    # The text part and the subject carry the name as the plain text it is.
    assert XSS_NAME + "様、いつもありがとうございます" in text
    assert msg["Subject"] == f"【とくい食品】{XSS_NAME}様へ冬のご案内"


def test_header_injection_refused() -> None:
    payload = {"subject": "hi\r\nBcc: victim@example.com", "html": "<p>x</p>", "text": "x"}
    with pytest.raises(AddressError, match="line break"):
        build_email(
            payload,
            from_address="news@tokui.example",
            from_name="shop",
            to="a@example.jp",
            message_id="<1.x@tokui.example>",
            date=NOW,
        )
    with pytest.raises(AddressError, match="not an email address"):
        build_email(
            {"subject": "s", "html": "h", "text": "t"},
            from_address="news@tokui.example",
            from_name="shop",
            to="a@example.jp\r\nBcc: victim@example.com",
            message_id="<1.x@tokui.example>",
            date=NOW,
        )


def _rsa_key(tmp: Path) -> tuple[bytes, bytes]:
    """A fresh RSA key (PEM) and its public half (DER), made with the openssl tool."""
    openssl = shutil.which("openssl")
    assert openssl, "the DKIM test needs the openssl command"
    key = tmp / "dkim.pem"
    subprocess.run(
        [openssl, "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        [openssl, "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key.read_bytes(), public


def test_dkim_signature_verifies(tmp_path: Path) -> None:
    pem, public = _rsa_key(tmp_path)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    raw = build_email(
        {
            "subject": "冬のご案内",
            "html": "<p>こんにちは</p>",
            "text": "こんにちは\n",
            "list_unsubscribe": f"{TRACKING}/t/u/abc",
        },
        from_address="news@tokui.example",
        from_name="とくい食品",
        to="a@example.jp",
        message_id="<1.x@tokui.example>",
        date=NOW,
        dkim_key=DKIMKey("tokui.example", "sel1", pem),
    )
    assert raw.startswith(b"DKIM-Signature: ")
    signed = raw.split(b"\r\n\r\n", 1)[0].decode()
    header = signed.split("\r\nFrom:", 1)[0]
    covered = re.search(r"h=([^;]+)", header.replace("\r\n", "").replace(" ", ""))
    assert covered is not None
    assert covered.group(1).split(":") == [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"sel1._domainkey.tokui.example."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    # Changing the List-Unsubscribe header breaks the signature.
    assert not dkim.verify(raw.replace(b"/t/u/abc", b"/t/u/abd"), dnsfunc=dns)


def test_queue_is_idempotent_and_a_render_error_queues_nothing(messaging: Messaging) -> None:
    data = messaging.customers(["c1", "c2"])
    recipients = [Recipient(c, str(data[c].customer["email"]), data[c]) for c in ("c1", "c2")]
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        version = get_version(db, template)
        first = messaging.queue(db, template, version, recipients, "spring")
        again = messaging.queue(db, template, version, recipients, "spring")
    assert [r.idempotency_key for r in first] == ["spring:c1", "spring:c2"]
    assert again == []
    expected = r"'welcome' v1, html, line 1: undefined value: list object has no element 5"
    with (
        pytest.raises(TemplateRenderError, match=expected),
        session_scope(messaging.ws.sessions) as db,
    ):
        template = get_template(db, "welcome")
        assert template is not None
        version = get_version(db, template)
        db.expunge(version)  # an edited, unsaved draft: never reaches the DB
        version.html = "<p>{{ coupons[5].code }}</p>"
        messaging.queue(db, template, version, recipients, "broken")
    with session_scope(messaging.ws.sessions) as db:
        keys = sorted(db.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == ["spring:c1", "spring:c2"]


def test_queue_reads_back_every_message_in_chunks(
    messaging: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More queued messages than one SELECT may name: all come back, in id order."""
    monkeypatch.setattr(service, "IDS_PER_QUERY", 1)
    data = messaging.customers(["c1", "c2"])
    recipients = [Recipient(c, str(data[c].customer["email"]), data[c]) for c in ("c1", "c2")]
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        queued = messaging.queue(db, template, get_version(db, template), recipients, "chunks")
        assert [r.idempotency_key for r in queued] == ["chunks:c1", "chunks:c2"]
        assert queued[0].id < queued[1].id
