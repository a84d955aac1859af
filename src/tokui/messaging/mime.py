"""The bytes of one email: headers, multipart/alternative text and HTML, optional DKIM.

Written by hand rather than through email.message.EmailMessage because this is the hot
path of a bulk send and the stdlib builder costs several times more per message; the
tests parse every message back with the email package to hold this to the standard.
Headers are RFC 2047 encoded (UTF-8, base64 words), bodies UTF-8 in base64 with CRLF
line ends, as SMTP wants.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import Any

import dkim

# Headers a DKIM signature covers. RFC 8058 asks for List-Unsubscribe and
# List-Unsubscribe-Post to be signed, or receivers ignore the one-click promise.
DKIM_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"MIME-Version",
    b"Content-Type",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Reply-To",
)

_ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class AddressError(ValueError):
    pass


def check_address(value: str, what: str = "address") -> str:
    """A plain addr-spec (local@domain); anything else, notably CR/LF, is refused."""
    if not _ADDRESS.match(value):
        raise AddressError(f"{what} {value!r} is not an email address")
    return value


def message_id(outbox_id: int, idempotency_key: str, domain: str) -> str:
    """Fixed before the first attempt, so every retry carries the same Message-ID and
    receivers that deduplicate on it see one message."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
    return f"<{outbox_id}.{digest}@{domain}>"


# UTF-8 bytes per RFC 2047 encoded word: 42 bytes are 56 base64 characters, a 68-character
# word, so even the first line ("Subject: " and a word) stays within 78 characters.
_WORD_BYTES = 42


def _encode_header(value: str) -> str:
    """RFC 2047 "B" encoded words, folded; each word holds whole characters (a word may
    not split one): the longest run of whole characters within _WORD_BYTES. By hand:
    email.header.Header took an eighth of a bulk send's CPU."""
    if value.isascii():
        return value
    raw = value.encode("utf-8")
    words: list[str] = []
    start, end = 0, len(raw)
    while start < end:
        cut = start + _WORD_BYTES
        if cut < end:
            while raw[cut] & 0xC0 == 0x80:  # a continuation byte: inside a character
                cut -= 1
        words.append(base64.b64encode(raw[start:cut]).decode("ascii"))
        start = cut
    return "\r\n ".join(f"=?utf-8?b?{word}?=" for word in words)


_B64_LINE = 76  # characters of base64 per body line, as base64.encodebytes writes them


def _b64(text: str) -> bytes:
    """base64.encodebytes with CRLF line ends, byte for byte; encoded in one call and cut
    into lines, which is a third cheaper than encodebytes' 57-byte steps."""
    if not text:
        return b""
    encoded = binascii.b2a_base64(text.encode("utf-8"), newline=False)
    lines = [encoded[i : i + _B64_LINE] for i in range(0, len(encoded), _B64_LINE)]
    return b"\r\n".join(lines) + b"\r\n"


@lru_cache(maxsize=64)
def _from_header(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8")


_last_date: tuple[tuple[datetime, Any], str] | None = None


def _date_header(date: datetime) -> str:
    """format_datetime(date), kept for the second it is in: a bulk send dates thousands
    of messages with the same second. The key is the instant and its UTC offset, which
    is all the header shows."""
    global _last_date
    key = (date.replace(microsecond=0), date.utcoffset())
    if _last_date is None or _last_date[0] != key:
        _last_date = (key, format_datetime(date))
    return _last_date[1]


@dataclass(frozen=True)
class DKIMKey:
    domain: str
    selector: str
    private_key: bytes


def build_email(
    payload: Mapping[str, Any],
    *,
    from_address: str,
    from_name: str,
    to: str,
    message_id: str,
    date: datetime,
    reply_to: str = "",
    dkim_key: DKIMKey | None = None,
) -> bytes:
    check_address(to, "recipient")
    check_address(from_address, "sender")
    raw = [from_name, message_id, str(payload["subject"])]
    raw += [str(payload.get(k) or "") for k in ("list_unsubscribe", "list_unsubscribe_mailto")]
    if any("\r" in value or "\n" in value for value in raw):
        raise AddressError("a header value contains a line break")
    headers = [
        ("From", _from_header(from_name, from_address)),
        ("To", to),
        ("Subject", _encode_header(str(payload["subject"]))),
        ("Date", _date_header(date)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
    ]
    if reply_to:
        headers.append(("Reply-To", check_address(reply_to, "reply-to")))
    https_url = payload.get("list_unsubscribe")
    if https_url:
        targets = [f"<{https_url}>"]
        mailto = payload.get("list_unsubscribe_mailto")
        if mailto:
            targets.append(f"<{mailto}>")
        headers.append(("List-Unsubscribe", ", ".join(targets)))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    boundary = "tokui-" + secrets.token_hex(12)
    headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    part_head = "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    body = b"".join(
        [
            b"\r\n",
            f"--{boundary}\r\n".encode(),
            part_head.format("plain").encode(),
            _b64(str(payload["text"])),
            f"--{boundary}\r\n".encode(),
            part_head.format("html").encode(),
            _b64(str(payload["html"])),
            f"--{boundary}--\r\n".encode(),
        ]
    )
    message = head + body
    if dkim_key is not None:
        signature = dkim.sign(
            message,
            dkim_key.selector.encode(),
            dkim_key.domain.encode(),
            dkim_key.private_key,
            include_headers=[h for h in DKIM_HEADERS if h.decode() in dict(headers)],
            linesep=b"\r\n",
        )
        message = signature + message
    return message
