"""Reading bounces and complaints: RFC 3464 DSNs, plain-text notices, ARF reports.

What arrives at the bounce address is parsed into a `Report`: which kind it is, the
failed recipients with their status codes, and what ties it to a message we sent (the
signed VERP address it was sent to, the Message-ID of the returned original).

- RFC 3464 delivery status notifications (`multipart/report;
  report-type=delivery-status`: Postfix, Gmail, Exchange, modern Exim, Sendmail): a
  `message/delivery-status` part of field blocks, one per recipient, with Action
  (failed, delayed, delivered, relayed, expanded), Status (RFC 3463: 5.x.x permanent,
  4.x.x transient), Final-Recipient and Diagnostic-Code; the original message or its
  headers follow as `message/rfc822` or `text/rfc822-headers`.
- Plain-text notices (qmail-send, older Exim, some appliances): a human text, then a
  copy of the message below a separator line. Recipients come from X-Failed-Recipients
  (Exim) or the qmail `<address>:` lines, the status from an enhanced code in the text
  (`(#5.1.1)`, `550 5.1.1 ...`), else from the SMTP reply code or the words "permanent
  error".
- ARF complaints (RFC 5965, `multipart/report; report-type=feedback-report`: Yahoo's
  complaint feedback loop and other mailbox providers): a `message/feedback-report` part
  with Feedback-Type (abuse, fraud, ...), then the original message or its headers.
  Providers often redact the recipient, which is why the VERP address or the Message-ID
  must name the message.

Parsing never trusts what it reads: the VERP address counts only with a valid signature
(tokui.messaging.verp), and a Message-ID only if it is exactly the one we stored.
"""

from __future__ import annotations

import email
import email.message
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.utils import parsedate_to_datetime
from typing import Literal

from tokui.messaging.verp import VERPSigner

Kind = Literal["hard", "soft", "block"]
Format = Literal["dsn", "plain", "arf", "none"]

# An RFC 3463 code after an SMTP reply code ("550 5.1.1", "452-4.2.2") or in qmail's
# "(#5.1.1)"; a bare "4.94.2" (a version number) is not taken for one.
_AFTER_REPLY = re.compile(r"(?<![\d.])([245])\d\d[ -]+([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_QMAIL_CODE = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")
_STATUS_FIELD = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_REPLY_LINE = re.compile(r"(?m)^[\s>]*([45][0-5]\d)[ -]")
_SEPARATOR = re.compile(
    r"(?im)^[ \t]*-{2,}.*(copy of the message|original message|message follows|"
    r"returned message|undelivered message).*$"
)
_QMAIL_RECIPIENT = re.compile(r"(?m)^<([^<>\s]+@[^<>\s]+)>:\s*$")
_PERMANENT = re.compile(r"permanent (fatal )?error|given up|could not be delivered", re.I)
_DELAYED = re.compile(
    r"delayed|still (being )?(re)?tr(y|ied)|will (keep )?(re)?try|not yet been delivered|"
    r"attempts will continue",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|failure notice|delivery (status notification|failure|"
    r"has failed)|mail delivery failed|delivery failure|not delivered|配信.*(失敗|不能)",
    re.I,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")
_ENVELOPE_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def bounce_kind(status: str) -> Kind:
    """hard: the address is dead (unknown user, no such domain, mailbox disabled);
    soft: try again another day (4.x.x, and 5.2.2 mailbox full, which ESPs and mailbox
    providers treat as passing); block: the receiver refused us or this message (5.7.x
    policy and spam blocks, DMARC, content, size, protocol, a bad sender address), not
    a fact about the recipient: suppressing for it would let one provider's block of the
    shop remove every customer on that provider."""
    parts = status.split(".")
    cls = parts[0]
    subject = parts[1] if len(parts) > 1 else "0"
    if cls != "5" or status == "5.2.2":
        return "soft"
    if status in ("5.1.7", "5.1.8", "5.2.3"):  # bad sender address; message too long
        return "block"
    if subject in ("0", "1", "2", "4"):
        return "hard"
    return "block"


@dataclass(frozen=True)
class Failure:
    """One recipient's line of a report."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # RFC 3463, e.g. 5.1.1
    diagnostic: str

    @property
    def kind(self) -> Kind:
        return bounce_kind(self.status)


@dataclass(frozen=True)
class Report:
    format: Format
    subject: str
    date: datetime | None  # when the report was written, naive UTC
    failures: tuple[Failure, ...] = ()
    feedback_type: str = ""  # ARF: abuse, fraud, not-spam, ...
    user_agent: str = ""  # ARF: who reported (Yahoo!-Mail-Feedback/2.0)
    original_message_id: str = ""
    verp_outbox_id: int | None = None

    @property
    def failure(self) -> Failure | None:
        """The failure that decides: a permanent one before a transient one; delay
        notices and success reports ("delivered", "relayed") are not failures."""
        failed = [f for f in self.failures if f.action == "failed"]
        failed.sort(key=lambda f: (f.status[:1] != "5", f.kind != "hard"))
        return failed[0] if failed else None


def _clean(value: object) -> str:
    return " ".join(str(value or "").split())


def _decoded(value: object) -> str:
    try:
        return _clean(make_header(decode_header(str(value or ""))))
    except (ValueError, LookupError, UnicodeError):
        return _clean(value)


def _date(msg: email.message.Message) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _address(field: str) -> str:
    """`rfc822; user@example.jp` (a DSN address field) → user@example.jp."""
    value = field.split(";", 1)[1] if ";" in field else field
    return value.strip().strip("<>").strip()


def _status(status_field: str, diagnostic: str, action: str) -> str:
    found = _STATUS_FIELD.match(status_field)
    if found:
        return found.group(1)
    for pattern in (_AFTER_REPLY, _QMAIL_CODE):
        match = pattern.search(diagnostic)
        if match:
            return match.group(match.lastindex or 1)
    reply = _REPLY_LINE.search(diagnostic)
    if reply:
        return f"{reply.group(1)[0]}.0.0"
    return "4.0.0" if action == "delayed" else "5.0.0"


def _text_of(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _original_headers(msg: email.message.Message) -> email.message.Message | None:
    """The returned original (or its headers) inside a report."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                first = inner[0]
                if isinstance(first, email.message.Message):
                    return first
        elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
            return HeaderParser().parsestr(_text_of(part).lstrip("\r\n"))
    return None


def _message_id(headers: email.message.Message | None) -> str:
    if headers is None:
        return ""
    found = _MESSAGE_ID.search(_clean(headers.get("Message-ID", "")))
    return found.group(0) if found else ""


def _envelope_texts(msg: email.message.Message) -> list[str]:
    texts: list[str] = []
    for name in _ENVELOPE_HEADERS:
        texts.extend(_clean(v) for v in msg.get_all(name) or [])
    return texts


def _dsn_failures(msg: email.message.Message) -> tuple[Failure, ...]:
    failures: list[Failure] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is about the message, not a recipient
            if not isinstance(block, email.message.Message):
                continue
            action = _clean(block.get("Action", "")).lower()
            recipient = _address(_clean(block.get("Final-Recipient", "")))
            if not recipient:
                recipient = _address(_clean(block.get("Original-Recipient", "")))
            if not (action or recipient):
                continue
            diagnostic = _clean(block.get("Diagnostic-Code", ""))
            status = _status(_clean(block.get("Status", "")), diagnostic, action)
            failures.append(Failure(recipient, action or "failed", status, diagnostic[:1000]))
        break
    return tuple(failures)


def _plain_failures(msg: email.message.Message) -> tuple[Failure, ...] | None:
    """A plain-text notice's failures; None when it does not look like a bounce."""
    text = ""
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = _text_of(part)
            break
    cut = _SEPARATOR.search(text)
    notice = text[: cut.start()] if cut else text
    failed = [a.strip() for a in _clean(msg.get("X-Failed-Recipients", "")).split(",")]
    failed = [a for a in failed if "@" in a]
    sender = _clean(msg.get("From", "")).lower()
    looks_like = bool(
        failed
        or any(d in sender for d in _DAEMONS)
        or _BOUNCE_SUBJECT.search(_decoded(msg.get("Subject", "")))
    )
    if not looks_like:
        return None
    recipients = failed or _QMAIL_RECIPIENT.findall(notice) or [""]
    has_code = bool(
        _AFTER_REPLY.search(notice) or _QMAIL_CODE.search(notice) or _REPLY_LINE.search(notice)
    )
    subject = _decoded(msg.get("Subject", ""))
    if _DELAYED.search(subject + "\n" + notice) and not _PERMANENT.search(notice):
        action = "delayed"
    elif has_code or failed or _PERMANENT.search(notice):
        action = "failed"
    else:
        return ()  # a notice we cannot read a failure from (an auto-reply, a warning)
    status = _status("", notice, action)
    return tuple(Failure(r, action, status, _paragraph_after(notice, r)) for r in recipients)


def _paragraph_after(notice: str, recipient: str) -> str:
    """What a notice says about one recipient: the lines after its address up to the
    next blank line (qmail's and Exim's layout); else the whole notice."""
    at = notice.find(recipient) if recipient else -1
    if at >= 0:
        rest = notice[at + len(recipient) :].lstrip(">: \t\r\n")
        paragraph = re.split(r"\n[ \t]*\r?\n", rest, maxsplit=1)[0]
        if paragraph.strip():
            return _clean(paragraph)[:1000]
    return _clean(notice)[-1000:]


def _plain_original(msg: email.message.Message) -> email.message.Message | None:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = _text_of(part)
            cut = _SEPARATOR.search(text)
            if cut:
                return HeaderParser().parsestr(text[cut.end() :].lstrip("\r\n"))
            return None
    return None


def _report_part(msg: email.message.Message) -> tuple[email.message.Message, str] | None:
    for part in msg.walk():
        if part.get_content_type() == "multipart/report":
            return part, str(part.get_param("report-type") or "").lower()
    return None


def parse_report(raw: bytes, verp: VERPSigner | None) -> Report:
    """What one message at the bounce address says."""
    msg = email.message_from_bytes(raw)
    subject = _decoded(msg.get("Subject", ""))[:300]
    date = _date(msg)
    report = _report_part(msg)
    original: email.message.Message | None
    fields: dict[str, str] = {}
    failures: tuple[Failure, ...] = ()
    if report is not None and report[1] == "feedback-report":
        fmt: Format = "arf"
        for part in report[0].walk():
            if part.get_content_type() == "message/feedback-report":
                inner = part.get_payload()
                block = inner[0] if isinstance(inner, list) and inner else None
                if isinstance(block, email.message.Message):
                    fields = {k.lower(): _clean(v) for k, v in block.items()}
                break
        original = _original_headers(report[0])
    elif report is not None and report[1] == "delivery-status":
        fmt = "dsn"
        failures = _dsn_failures(report[0])
        original = _original_headers(report[0])
    else:
        plain = _plain_failures(msg)
        if plain is None:
            return Report("none", subject, date)
        fmt = "plain"
        failures = plain
        original = _original_headers(msg) or _plain_original(msg)
    verp_id = None
    if verp is not None:
        texts = _envelope_texts(msg)
        texts.append(fields.get("original-mail-from", ""))
        if original is not None:
            texts.extend(_clean(v) for v in original.get_all("Return-Path") or [])
        texts.append(raw.decode("utf-8", errors="replace"))
        verp_id = verp.find(texts)
    return Report(
        format=fmt,
        subject=subject,
        date=date,
        failures=failures,
        feedback_type=fields.get("feedback-type", "").lower(),
        user_agent=fields.get("user-agent", "")[:200],
        original_message_id=_message_id(original),
        verp_outbox_id=verp_id,
    )
