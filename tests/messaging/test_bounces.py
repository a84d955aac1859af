"""Bounces and complaints: signed VERP envelope senders, parsing DSN/plain/ARF samples
(tests/messaging/data/, laid out as Postfix, Gmail, qmail, Exim, Yahoo's feedback loop
and an ISP's redacting feedback loop write them), the suppression policy, idempotent
mailbox intake on SQLite and PostgreSQL, and a send through a real SMTP server whose
later DSN arrives in an mbox."""

from __future__ import annotations

import asyncio
import email
import mailbox
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW, SMTPSink, real_settings
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.bounce_intake import BounceIntakeError, BounceProcessor, read_mailbox
from tokui.messaging.channels.email import EmailChannel
from tokui.messaging.dsn import Failure, bounce_kind, parse_report
from tokui.messaging.mime import message_id
from tokui.messaging.outbox import enqueue
from tokui.messaging.settings import BounceSettings, EmailSettings, MessagingSettings
from tokui.messaging.suppression import load_gate
from tokui.messaging.verp import VERPSigner
from tokui.messaging.worker import DeliveryWorker
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.messages import (
    ConsentRecord,
    ContactSuppression,
    MessageEventRecord,
    OutboxMessage,
)

DATA = Path(__file__).parent / "data"
SECRET = "test-secret-key"
BOUNCE_DOMAIN = "bounces.tokui.example"
VERP = VERPSigner(SECRET, "bounce", BOUNCE_DOMAIN)
SENT_AT = datetime(2025, 12, 30, 3, 0)  # 12:00 JST, as in the samples
PROCESSED_AT = datetime(2026, 1, 5, 0, 0)
# The outbox ids the samples refer to (they are signed for these ids with SECRET).
RECIPIENTS = {
    1: "taro@example.jp",
    2: "hanako@example.jp",
    3: "jiro@example.jp",
    4: "saburo@example.ne.jp",
    5: "shiro@example.or.jp",
    6: "goro@yahoo.com",
    7: "rokuro@example-isp.ne.jp",
    8: "hachiro@example.jp",
    9: "kuro@outlook.jp",
    10: "toru@example.jp",
}


@pytest.fixture
def sessions(state_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(state_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def _settings(**bounces: Any) -> MessagingSettings:
    return MessagingSettings(
        email=EmailSettings(from_address="news@tokui.example"),
        bounces=BounceSettings(domain=BOUNCE_DOMAIN, **bounces),
    )


def _sent(
    sessions: sessionmaker[Session], recipients: dict[int, str], at: datetime = SENT_AT
) -> None:
    """Outbox rows with the given ids, sent at `at`, with the Message-IDs of the samples."""
    with session_scope(sessions) as db:
        for outbox_id, address in sorted(recipients.items()):
            key = f"b:{outbox_id}"

            def render(oid: int, key: str = key) -> tuple[dict[str, str], str | None]:
                return {"subject": "冬のご案内"}, message_id(oid, key, "tokui.example")

            row = enqueue(
                db,
                idempotency_key=key,
                channel="email",
                recipient=address,
                customer_id=f"c{outbox_id}",
                now=at,
                render=render,
            )
            assert row is not None and row.id == outbox_id
            row.status, row.sent_at = "sent", at


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    with session_scope(sessions) as db:
        return {
            "events": [
                tuple(r)
                for r in db.execute(
                    select(
                        MessageEventRecord.outbox_id,
                        MessageEventRecord.customer_id,
                        MessageEventRecord.event,
                        MessageEventRecord.detail,
                        MessageEventRecord.at,
                    )
                    .where(MessageEventRecord.event != "queued")
                    .order_by(MessageEventRecord.outbox_id, MessageEventRecord.id)
                )
            ],
            "suppressions": [
                tuple(r)
                for r in db.execute(
                    select(
                        ContactSuppression.address,
                        ContactSuppression.reason,
                        ContactSuppression.outbox_id,
                        ContactSuppression.customer_id,
                        ContactSuppression.detail,
                        ContactSuppression.created_at,
                    ).order_by(ContactSuppression.outbox_id)
                )
            ],
            "consent": [
                tuple(r)
                for r in db.execute(
                    select(
                        ConsentRecord.customer_id,
                        ConsentRecord.channel,
                        ConsentRecord.granted,
                        ConsentRecord.method,
                        ConsentRecord.evidence,
                        ConsentRecord.outbox_id,
                        ConsentRecord.at,
                    ).order_by(ConsentRecord.id)
                )
            ],
            "outbox": [
                tuple(r)
                for r in db.execute(
                    select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error)
                    .where(OutboxMessage.last_error.is_not(None))
                    .order_by(OutboxMessage.id)
                )
            ],
        }


# --- VERP ------------------------------------------------------------------------------


def test_verp_address_is_signed_and_read_back() -> None:
    address = VERP.envelope_sender(1)
    assert address == "bounce+1-4toe6qs4iapbbtbp@bounces.tokui.example"
    assert VERP.find([f"To: <{address}>"]) == 1
    # Servers that fold the local part's case do not break it.
    assert VERP.find([address.upper()]) == 1
    # Another id with this signature, a made-up signature, another workspace's secret.
    assert VERP.find(["bounce+2-4toe6qs4iapbbtbp@bounces.tokui.example"]) is None
    assert VERP.find(["bounce+1-aaaaaaaaaaaaaaaa@bounces.tokui.example"]) is None
    other = VERPSigner("another-secret", "bounce", BOUNCE_DOMAIN)
    assert VERP.find([other.envelope_sender(1)]) is None
    # Not a match inside a longer local part.
    assert VERP.find(["xbounce+1-4toe6qs4iapbbtbp@bounces.tokui.example"]) is None
    with pytest.raises(ValueError, match="no '\\+'"):
        VERPSigner(SECRET, "bounce+x", BOUNCE_DOMAIN)


def test_settings_refuse_a_bad_local_part() -> None:
    with pytest.raises(ValueError, match="local_part"):
        BounceSettings(local_part="Bounce+1")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("5.1.1", "hard"),  # unknown user
        ("5.1.2", "hard"),  # no such domain
        ("5.2.1", "hard"),  # mailbox disabled
        ("5.4.4", "hard"),  # unable to route
        ("5.0.0", "hard"),  # unspecified permanent (a bare "550")
        ("5.2.2", "soft"),  # mailbox full
        ("4.2.2", "soft"),
        ("4.4.7", "soft"),  # expired in the queue
        ("5.7.1", "block"),  # policy / spam block
        ("5.7.26", "block"),  # DMARC
        ("5.3.4", "block"),  # message too big
        ("5.1.8", "block"),  # bad sender address
        ("5.6.0", "block"),  # content
    ],
)
def test_bounce_kind(status: str, kind: str) -> None:
    assert bounce_kind(status) == kind


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "fmt", "failures", "message", "verp_id", "feedback"),
    [
        (
            "postfix_hard_5.1.1.eml",
            "dsn",
            [("taro@example.jp", "failed", "5.1.1", "smtp; 550 5.1.1 <taro@example.jp>: "
              "Recipient address rejected: User unknown in virtual mailbox table")],
            "<1.34340f0e82d75a34@tokui.example>",
            1,
            "",
        ),
        (
            "gmail_soft_4.2.2.eml",
            "dsn",
            [("hanako@example.jp", "failed", "4.2.2",
              "smtp; 452 4.2.2 <hanako@example.jp>: Mailbox full")],
            "<2.e4716373c302f67a@tokui.example>",
            2,
            "",
        ),
        (
            "postfix_delayed_4.4.1.eml",
            "dsn",
            [("jiro@example.jp", "delayed", "4.4.1", "X-Postfix; connect to "
              "mx.example.jp[198.51.100.25]:25: Connection timed out")],
            "<3.3161628835532c08@tokui.example>",
            3,
            "",
        ),
        (
            "qmail_plain.eml",
            "plain",
            [("saburo@example.ne.jp", "failed", "5.1.1",
              "Sorry, no mailbox here by that name. (#5.1.1)")],
            "<4.fe6a71c07309c5d1@tokui.example>",
            4,
            "",
        ),
        (
            "exim_plain.eml",
            "plain",
            [("shiro@example.or.jp", "failed", "5.1.1",
              "LMTP error after RCPT TO:<shiro@example.or.jp>: 550 5.1.1 "
              "<shiro@example.or.jp> User doesn't exist: shiro@example.or.jp")],
            "<5.9cb6ee7cc81bd624@tokui.example>",
            None,  # sent without VERP: only the copied Message-ID names it
            "",
        ),
        (
            "yahoo_arf_abuse.eml",
            "arf",
            [],
            "<6.c89fb184b219a6d0@tokui.example>",
            6,
            "abuse",
        ),
        ("isp_arf_redacted.eml", "arf", [], "<7.e74bbf6a8a43c5a2@tokui.example>", None, "abuse"),
        (
            "postfix_block_5.7.1.eml",
            "dsn",
            [("kuro@outlook.jp", "failed", "5.7.1", "smtp; 550 5.7.1 Unfortunately, "
              "messages from [203.0.113.5] weren't sent. Please contact your Internet "
              "service provider since part of their network is on our block list (S3150).")],
            "<9.3bfcabd29555646b@tokui.example>",
            9,
            "",
        ),
        ("auto_reply.eml", "none", [], "", None, ""),
    ],
)  # fmt: skip
def test_parse_samples(
    sample: str,
    fmt: str,
    failures: list[tuple[str, str, str, str]],
    message: str,
    verp_id: int | None,
    feedback: str,
) -> None:
    report = parse_report((DATA / sample).read_bytes(), VERP)
    assert report.format == fmt
    assert report.failures == tuple(Failure(*f) for f in failures)
    assert report.original_message_id == message
    assert report.verp_outbox_id == verp_id
    assert report.feedback_type == feedback


def test_plain_delay_warning_is_not_a_failure() -> None:
    report = parse_report((DATA / "exim_delay_warning.eml").read_bytes(), VERP)
    assert report.format == "plain"
    assert [(f.action, f.status) for f in report.failures] == [("delayed", "4.3.0")]
    assert report.failure is None


def test_report_dates_and_subjects() -> None:
    gmail = parse_report((DATA / "gmail_soft_4.2.2.eml").read_bytes(), VERP)
    assert gmail.date == datetime(2026, 1, 2, 3, 2, 11)  # 19:02:11 -0800 in UTC
    yahoo = parse_report((DATA / "yahoo_arf_abuse.eml").read_bytes(), VERP)
    assert yahoo.subject == "FW: 【とくい食品】伊藤 五郎様へ冬のご案内"
    assert yahoo.user_agent == "Yahoo!-Mail-Feedback/2.0"
    forged = parse_report((DATA / "forged_dsn.eml").read_bytes(), VERP)
    assert (forged.verp_outbox_id, forged.original_message_id) == (
        None,
        "<8.0000000000000000@tokui.example>",
    )


# --- the policy, through a mailbox ----------------------------------------------------

HARD1 = (
    "hard 5.1.1: smtp; 550 5.1.1 <taro@example.jp>: Recipient address rejected: User "
    "unknown in virtual mailbox table"
)
HARD4 = "hard 5.1.1: Sorry, no mailbox here by that name. (#5.1.1)"
HARD5 = (
    "hard 5.1.1: LMTP error after RCPT TO:<shiro@example.or.jp>: 550 5.1.1 "
    "<shiro@example.or.jp> User doesn't exist: shiro@example.or.jp"
)
SOFT2 = "soft 4.2.2: smtp; 452 4.2.2 <hanako@example.jp>: Mailbox full"
BLOCK9 = (
    "block 5.7.1: smtp; 550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. "
    "Please contact your Internet service provider since part of their network is on our "
    "block list (S3150)."
)
YAHOO = "abuse report from Yahoo!-Mail-Feedback/2.0"
ISP = "abuse report from ExampleISP-FBL/1.0"


def _mbox(path: Path, samples: list[str]) -> Path:
    """An mbox as a local delivery agent writes it (mailbox adds the From_ lines)."""
    box = mailbox.mbox(path)
    for sample in samples:
        box.add((DATA / sample).read_bytes())
    box.flush()
    box.close()
    return path


def test_mailbox_is_applied_once(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _sent(sessions, RECIPIENTS)
    samples = sorted(p.name for p in DATA.glob("*.eml"))
    path = _mbox(tmp_path / "bounce.mbox", samples)
    processor = BounceProcessor(sessions, SECRET, _settings())
    first = processor.process(read_mailbox(path), PROCESSED_AT)
    results = [(label, o.result, o.outbox_id, o.suppressed) for label, o in first.outcomes]
    assert results == [
        ("bounce.mbox#1", "ignored", None, False),  # auto_reply
        ("bounce.mbox#2", "ignored", None, False),  # exim_delay_warning
        ("bounce.mbox#3", "hard", 5, True),  # exim_plain, by Message-ID
        ("bounce.mbox#4", "unmatched", None, False),  # forged_dsn
        ("bounce.mbox#5", "soft", 2, False),  # gmail: the first soft bounce
        ("bounce.mbox#6", "complaint", 7, True),  # isp_arf_redacted, by Message-ID
        ("bounce.mbox#7", "block", 9, False),
        ("bounce.mbox#8", "ignored", 3, False),  # a Postfix delay warning
        ("bounce.mbox#9", "hard", 1, True),
        ("bounce.mbox#10", "hard", 4, True),  # qmail, by VERP
        ("bounce.mbox#11", "complaint", 6, True),
    ]
    details = [first.outcomes[i][1].detail for i in (0, 1, 7)]
    assert details == [
        "not a bounce or a complaint report",
        "no failure reported (action: delayed)",
        "no failure reported (action: delayed)",
    ]
    assert (first.read, first.suppressed, first.errors) == (11, 5, [])
    state = _snapshot(sessions)
    at_hard = datetime(2025, 12, 30, 3, 0, 4)
    assert state["events"] == [
        (1, "c1", "bounced", HARD1, at_hard),
        (2, "c2", "bounced", SOFT2, datetime(2026, 1, 2, 3, 2, 11)),
        (4, "c4", "bounced", HARD4, datetime(2025, 12, 30, 3, 0, 9)),
        (5, "c5", "bounced", HARD5, datetime(2025, 12, 30, 3, 0, 11)),
        (6, "c6", "complained", YAHOO, datetime(2025, 12, 31, 0, 14, 38)),
        (7, "c7", "complained", ISP, datetime(2025, 12, 31, 1, 20)),
        (9, "c9", "bounced", BLOCK9, datetime(2025, 12, 30, 3, 0, 6)),
    ]
    assert state["suppressions"] == [
        ("taro@example.jp", "bounce", 1, "c1", f"message 1: {HARD1}", at_hard),
        ("saburo@example.ne.jp", "bounce", 4, "c4", f"message 4: {HARD4}",
         datetime(2025, 12, 30, 3, 0, 9)),
        ("shiro@example.or.jp", "bounce", 5, "c5", f"message 5: {HARD5}",
         datetime(2025, 12, 30, 3, 0, 11)),
        ("goro@yahoo.com", "complaint", 6, "c6", f"message 6: {YAHOO}",
         datetime(2025, 12, 31, 0, 14, 38)),
        ("rokuro@example-isp.ne.jp", "complaint", 7, "c7", f"message 7: {ISP}",
         datetime(2025, 12, 31, 1, 20)),
    ]  # fmt: skip
    assert state["consent"] == [
        ("c7", "email", False, "complaint", f"marked as spam: ARF {ISP}, message 7", 7,
         datetime(2025, 12, 31, 1, 20)),
        ("c6", "email", False, "complaint", f"marked as spam: ARF {YAHOO}, message 6", 6,
         datetime(2025, 12, 31, 0, 14, 38)),
    ]  # fmt: skip
    assert state["outbox"] == [
        (1, "sent", f"bounced after it was sent: {HARD1}"),
        (2, "sent", f"bounced after it was sent: {SOFT2}"),
        (4, "sent", f"bounced after it was sent: {HARD4}"),
        (5, "sent", f"bounced after it was sent: {HARD5}"),
        (9, "sent", f"bounced after it was sent: {BLOCK9}"),
    ]
    # The same mailbox again: nothing changes.
    second = processor.process(read_mailbox(path), PROCESSED_AT + timedelta(hours=1))
    assert [o.result for _, o in second.outcomes] == [
        "ignored", "ignored", "duplicate", "unmatched", "duplicate", "duplicate",
        "duplicate", "ignored", "duplicate", "duplicate", "duplicate",
    ]  # fmt: skip
    assert second.suppressed == 0
    assert _snapshot(sessions) == state
    # The forged report's target and the blocked recipient can still be messaged; the
    # bounced and complaining addresses cannot, transactional mail included.
    with session_scope(sessions) as db:
        gate = load_gate(db, SECRET, [("email", "email", a) for a in RECIPIENTS.values()])
        reasons = {
            i: gate.reason("email", "email", a, f"c{i}", marketing=False)
            for i, a in RECIPIENTS.items()
        }
    assert {i for i, why in reasons.items() if why} == {1, 4, 5, 6, 7}
    assert reasons[6] == "on the suppression list (email, complaint)"


def _gmail_soft(outbox_id: int, date: str) -> bytes:
    """The Gmail sample as it would arrive for another message on another day."""
    text = (DATA / "gmail_soft_4.2.2.eml").read_text()
    text = text.replace(VERP.envelope_sender(2), VERP.envelope_sender(outbox_id))
    mid = message_id(outbox_id, f"b:{outbox_id}", "tokui.example")
    text = text.replace("<2.e4716373c302f67a@tokui.example>", mid)
    text = text.replace("\nDate: Thu, 01 Jan 2026 19:02:11 -0800 (PST)\n", f"\nDate: {date}\n")
    return text.encode()


def test_soft_bounces_suppress_at_the_limit(sessions: sessionmaker[Session]) -> None:
    day0 = datetime(2026, 1, 1)
    # Four messages to one mailbox (one written in capitals) and one to another.
    rows = {1: "hanako@example.jp", 2: "hanako@example.jp", 3: "hanako@example.jp",
            4: "Hanako@Example.jp", 5: "other@example.jp"}  # fmt: skip
    _sent(sessions, rows, at=day0)
    processor = BounceProcessor(sessions, SECRET, _settings(soft_limit=3, soft_days=30))
    steps = [
        (1, "Thu, 01 Jan 2026 12:00:00 +0900"),  # day 0
        (2, "Tue, 10 Feb 2026 12:00:00 +0900"),  # day 40: day 0 is out of the window
        (5, "Thu, 19 Feb 2026 12:00:00 +0900"),  # another address
        (3, "Fri, 20 Feb 2026 12:00:00 +0900"),  # day 50: two within 30 days
        (4, "Wed, 25 Feb 2026 12:00:00 +0900"),  # day 55: the third within 30 days
    ]
    suppressed = []
    for outbox_id, date in steps:
        outcome = processor.process_one(_gmail_soft(outbox_id, date), datetime(2026, 3, 1))
        assert (outcome.result, outcome.outbox_id) == ("soft", outbox_id)
        suppressed.append(outcome.suppressed)
    assert suppressed == [False, False, False, False, True]
    with session_scope(sessions) as db:
        [entry] = db.scalars(select(ContactSuppression)).all()
        assert (entry.address, entry.reason, entry.outbox_id, entry.detail) == (
            "hanako@example.jp",
            "bounce",
            4,
            "message 4: 3 soft bounces within 30 days; last: soft 4.2.2: smtp; 452 4.2.2 "
            "<hanako@example.jp>: Mailbox full",
        )
        assert entry.created_at == datetime(2026, 2, 25, 3, 0)


def test_maildir_eml_folder_and_single_file(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _sent(sessions, RECIPIENTS)
    processor = BounceProcessor(sessions, SECRET, _settings())
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add((DATA / "postfix_hard_5.1.1.eml").read_bytes())
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "a.eml").write_bytes((DATA / "qmail_plain.eml").read_bytes())
    results = [
        [o.result for _, o in processor.process(read_mailbox(p), PROCESSED_AT).outcomes]
        for p in (tmp_path / "Maildir", folder, DATA / "yahoo_arf_abuse.eml")
    ]
    assert results == [["hard"], ["hard"], ["complaint"]]
    with pytest.raises(BounceIntakeError, match="no such file or folder"):
        list(read_mailbox(tmp_path / "missing"))
    with pytest.raises(BounceIntakeError, match="neither a Maildir"):
        list(read_mailbox(tmp_path / "Maildir" / "tmp"))


# --- end to end: a real SMTP server, then the DSN in an mbox ---------------------------


def postfix_dsn(envelope_sender: str, recipient: str, original: bytes) -> bytes:
    """The DSN Postfix writes when the next hop refuses a message it had accepted."""
    boundary = "4dQZ1a2B3c4d5e.1767150000/mail.tokui.example"
    head = f"""Return-Path: <>
X-Original-To: {envelope_sender}
Delivered-To: bounce@{BOUNCE_DOMAIN}
Date: Wed, 31 Dec 2025 12:00:09 +0900 (JST)
From: MAILER-DAEMON@mail.tokui.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {envelope_sender}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Message-Id: <20251231030009.4dQZ1a2B3c4d5e@mail.tokui.example>

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.tokui.example.

<{recipient}>: host mx.example.jp[198.51.100.25] said: 550 5.1.1 <{recipient}>:
    Recipient address rejected: User unknown in local recipient table (in reply
    to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.tokui.example
X-Postfix-Queue-ID: 4dQZ1a2B3c4d5e
X-Postfix-Sender: rfc822; {envelope_sender}
Arrival-Date: Wed, 31 Dec 2025 12:00:00 +0900 (JST)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.jp
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:
    User unknown in local recipient table

--{boundary}
Content-Description: Undelivered Message
Content-Type: message/rfc822

"""
    return head.replace("\n", "\r\n").encode() + original + f"\r\n--{boundary}--\r\n".encode()


def _queue(sessions: sessionmaker[Session], channel: EmailChannel, to: list[str], p: str) -> None:
    with session_scope(sessions) as db:
        for i, address in enumerate(to):
            key = f"{p}:{i}"

            def render(oid: int, key: str = key) -> tuple[dict[str, str], str | None]:
                body = {
                    "subject": "冬のご案内",
                    "html": "<p>こんにちは</p>",
                    "text": "こんにちは\n",
                }
                return body, channel.provider_message_id(oid, key)

            row = enqueue(db, idempotency_key=key, channel="email", recipient=address,
                          customer_id=f"{p}{i}", now=utc_naive(NOW), render=render)  # fmt: skip
            assert row is not None


def test_smtp_refusals_and_a_late_dsn_suppress(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink, tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    settings = real_settings(smtp_sink, bounces=BounceSettings(domain=BOUNCE_DOMAIN))
    channel = EmailChannel(settings, clock, secret=SECRET)
    worker = DeliveryWorker(sessions, {"email": channel}, clock, SECRET, settings, random.Random(3))
    rules = smtp_sink.handler.rules
    rules["gone@example.jp"] = lambda: "550 5.1.1 <gone@example.jp>: Recipient address rejected"
    rules["blocked@example.jp"] = lambda: "550 5.7.1 Message refused by policy"
    rules["full@example.jp"] = lambda: "552 5.2.2 Mailbox full"
    to = ["gone@example.jp", "later@example.jp", "blocked@example.jp", "full@example.jp"]
    _queue(sessions, channel, to, "m")

    async def cycle() -> None:
        await worker.run_once()

    asyncio.run(cycle())
    # One message was accepted, with its own signed envelope sender.
    [(mail_from, rcpts, content)] = smtp_sink.handler.messages
    assert rcpts == ["later@example.jp"]
    assert mail_from == VERP.envelope_sender(2)
    assert email.message_from_bytes(content)["Message-ID"] == message_id(2, "m:1", "tokui.example")
    with session_scope(sessions) as db:
        events = [
            (i, e, d)
            for i, e, d in db.execute(
                select(
                    MessageEventRecord.outbox_id,
                    MessageEventRecord.event,
                    MessageEventRecord.detail,
                )
                .where(MessageEventRecord.event != "queued")
                .order_by(MessageEventRecord.outbox_id)
            )
        ]
        listed = [(s.address, s.outbox_id) for s in db.scalars(select(ContactSuppression))]
    assert events == [
        (1, "bounced",
         "hard 5.1.1: 550 5.1.1 <gone@example.jp>: Recipient address rejected (RCPT TO)"),
        (2, "sent", ""),
        (3, "bounced", "block 5.7.1: 550 5.7.1 Message refused by policy (RCPT TO)"),
        (4, "bounced", "soft 5.2.2: 552 5.2.2 Mailbox full (RCPT TO)"),
    ]  # fmt: skip
    # Only the unknown user is suppressed; a policy block and one full mailbox are not.
    assert listed == [("gone@example.jp", 1)]

    # Later, the next hop refuses the accepted message; its DSN lands in the mbox.
    box = mailbox.mbox(tmp_path / "bounce.mbox")
    box.add(postfix_dsn(mail_from, "later@example.jp", content))
    box.close()
    processor = BounceProcessor(sessions, SECRET, settings)
    for expected in ("hard", "duplicate"):
        report = processor.process(read_mailbox(tmp_path / "bounce.mbox"), utc_naive(NOW))
        assert [(o.result, o.outbox_id) for _, o in report.outcomes] == [(expected, 2)]

    # The next message to that address, even a transactional one, never reaches the server.
    _queue(sessions, channel, ["later@example.jp", "gone@example.jp"], "n")

    async def again() -> int:
        stats = await worker.run_once()
        await worker.aclose()
        return stats.suppressed

    assert asyncio.run(again()) == 2
    assert len(smtp_sink.handler.messages) == 1
    with session_scope(sessions) as db:
        rows = db.execute(
            select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.last_error)
            .where(OutboxMessage.id > 4)
            .order_by(OutboxMessage.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("later@example.jp", "suppressed", "on the suppression list (email, bounce)"),
        ("gone@example.jp", "suppressed", "on the suppression list (email, bounce)"),
    ]


def test_without_verp_the_envelope_sender_is_the_from_address(smtp_sink: SMTPSink) -> None:
    settings = real_settings(smtp_sink, bounces=BounceSettings(verp=False))
    channel = EmailChannel(settings, FixedClock(NOW), secret=SECRET)
    assert channel.envelope_sender(7) == "news@tokui.example"
    on = EmailChannel(real_settings(smtp_sink), FixedClock(NOW), secret=SECRET)
    # Without [bounces] domain, the from address's domain.
    assert on.envelope_sender(1) == "bounce+1-4toe6qs4iapbbtbp@tokui.example"
