"""A lean SMTP server for bench_email: receives every message, checks all of them.

aiosmtpd reads a message line by line through an asyncio stream and calls its handler
per command; on one core it takes fewer messages per second than Tokui sends, so a
benchmark against it measures the sink. This one is an asyncio.Protocol that parses
the commands in whatever pieces they arrive (pipelined or not, RFC 2920 advertised),
finds the end of a message's data with one search, and answers every command of a
received chunk in one write. It speaks the part of SMTP a client that delivers mail
uses: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with the sequence rules (503 out of
order) and dot-unstuffing of the content.

During the run it checks each message's envelope against its headers (To is the RCPT
address, a Message-ID is present) and keeps the message. After the run, outside the
timed part, `verify` parses every kept message with the email package and checks it
against the customer it was sent to (bench_email's addresses name the customer:
user{i}@example.jp is 顧客 {i}号): the subject, the text part and the HTML part name
them, the HTML part carries a signed click link and the open pixel, Message-IDs are
unique and every recipient got exactly one message.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections import Counter
from typing import Any

END_OF_DATA = b"\r\n.\r\n"
EHLO_REPLY = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n"
_HEADER = re.compile(rb"^(To|Message-ID):[ \t]*([^\r\n]*)", re.MULTILINE | re.IGNORECASE)
_ADDRESS = re.compile(rb"<([^>]*)>")
_CUSTOMER = re.compile(r"^user(\d+)@example\.jp$")


class Sink:
    """What all sessions received: (recipient, message) pairs and early problems."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.problems: list[str] = []

    def verify(self) -> dict[str, Any]:
        """Every kept message parsed and checked; a summary with the first problems."""
        problems = list(self.problems)
        ids: Counter[str] = Counter()
        per_rcpt: Counter[str] = Counter()
        for rcpt, raw in self.received:
            per_rcpt[rcpt] += 1
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            ids[str(msg["Message-ID"])] += 1
            found = _CUSTOMER.match(rcpt)
            if found is None:
                problems.append(f"unexpected recipient {rcpt}")
                continue
            name = f"顧客 {int(found.group(1))}号"
            text = msg.get_body(("plain",))
            html = msg.get_body(("html",))
            if text is None or html is None:
                problems.append(f"{rcpt}: no text or no HTML part")
                continue
            text_s, html_s = text.get_content(), html.get_content()
            checks = {
                "subject": name in str(msg["Subject"]),
                "text": name in text_s,
                "html": name in html_s,
                "click link": "/t/c/" in html_s,
                "open pixel": "/t/o/" in html_s,
                "List-Unsubscribe": "/t/u/" in str(msg["List-Unsubscribe"]),
            }
            bad = [what for what, ok in checks.items() if not ok]
            if bad:
                problems.append(f"{rcpt}: no {', '.join(bad)}")
        problems += [f"Message-ID {i} received {n} times" for i, n in ids.items() if n > 1]
        problems += [f"{r} received {n} messages" for r, n in per_rcpt.items() if n > 1]
        return {
            "received": len(self.received),
            "recipients": len(per_rcpt),
            "bytes": sum(len(raw) for _, raw in self.received),
            "problems": len(problems),
            "first_problems": problems[:5],
        }


class Session(asyncio.Protocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.in_data = False
        self.sender: bytes | None = None
        self.rcpts: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        quit_ = False
        while not quit_:
            if self.in_data:
                # The DATA line's CRLF is consumed, so an empty message is ".\r\n".
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    end = self.buffer.find(END_OF_DATA)
                    skip = end + len(END_OF_DATA)
                if end == -1:
                    break
                replies.append(self._message(bytes(self.buffer[: end + 2 if end else 0])))
                del self.buffer[:skip]
                self.in_data = False
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end == -1:
                break
            line = bytes(self.buffer[:line_end])
            del self.buffer[: line_end + 2]
            reply, quit_ = self._command(line)
            replies.append(reply)
        assert self.transport is not None
        if replies:
            self.transport.write(b"".join(replies))
        if quit_:
            self.transport.close()

    def _command(self, line: bytes) -> tuple[bytes, bool]:
        verb = line[:4].upper()
        if verb == b"EHLO":
            self._reset()
            return EHLO_REPLY, False
        if verb == b"HELO":
            self._reset()
            return b"250 sink\r\n", False
        if verb == b"MAIL":
            if self.sender is not None:
                return b"503 nested MAIL\r\n", False
            found = _ADDRESS.search(line)
            if line[4:11].upper() != b" FROM:<" or found is None:
                return b"501 syntax: MAIL FROM:<address>\r\n", False
            self.sender = found.group(1)
            return b"250 OK\r\n", False
        if verb == b"RCPT":
            if self.sender is None:
                return b"503 need MAIL first\r\n", False
            found = _ADDRESS.search(line)
            if line[4:9].upper() != b" TO:<" or found is None:
                return b"501 syntax: RCPT TO:<address>\r\n", False
            self.rcpts.append(found.group(1))
            return b"250 OK\r\n", False
        if verb == b"DATA":
            if not self.rcpts:
                return b"503 need RCPT first\r\n", False
            self.in_data = True
            return b"354 end with <CRLF>.<CRLF>\r\n", False
        if verb == b"RSET":
            self._reset()
            return b"250 OK\r\n", False
        if verb == b"NOOP":
            return b"250 OK\r\n", False
        if verb == b"QUIT":
            return b"221 bye\r\n", True
        return b"500 unknown command\r\n", False

    def _reset(self) -> None:
        self.sender = None
        self.rcpts = []

    def _message(self, content: bytes) -> bytes:
        if content.startswith(b".."):
            content = content[1:]
        content = content.replace(b"\r\n..", b"\r\n.")
        rcpts = [r.decode("ascii") for r in self.rcpts]
        self._reset()
        head = content[: content.find(b"\r\n\r\n")]
        headers = {k.lower(): v for k, v in _HEADER.findall(head)}
        if len(rcpts) != 1 or headers.get(b"to", b"").decode() != rcpts[0]:
            self.sink.problems.append(f"envelope {rcpts} but To {headers.get(b'to')!r}")
        if b"message-id" not in headers:
            self.sink.problems.append(f"no Message-ID in a message to {rcpts}")
        for rcpt in rcpts:
            self.sink.received.append((rcpt, content))
        return b"250 OK\r\n"


def serve(port: int, conn: Any, check: bool = True) -> None:
    """Run in a child process: listen on 127.0.0.1:port and answer requests on the pipe
    `conn`: "cpu" (the process's CPU seconds so far), "stop" (then the last answer is
    sink.verify(), or the count of messages when `check` is false). Sends "ready" first."""

    async def main() -> Sink:
        sink = Sink()
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()
        server = await loop.create_server(lambda: Session(sink), "127.0.0.1", port)

        def request() -> None:
            what = conn.recv()
            if what == "cpu":
                conn.send(time.process_time())
            elif not stopped.done():
                stopped.set_result(None)

        loop.add_reader(conn.fileno(), request)
        conn.send("ready")
        await stopped
        loop.remove_reader(conn.fileno())
        server.close()
        return sink

    sink = asyncio.run(main())
    conn.send(sink.verify() if check else {"received": len(sink.received)})
    conn.close()
