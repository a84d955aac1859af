"""A lean SMTP sink for load tests: counts what it receives by Message-ID.

aiosmtpd (tests/messaging/conftest.py) is the reference server for behaviour tests; at a
100,000-message load its per-message work would dominate the run and measure the sink
rather than Tokui. This one speaks just enough SMTP for a client that delivers mail
(EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), reads nothing of a message but its
Message-ID header, and runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections import Counter

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.MULTILINE | re.IGNORECASE)
END_OF_DATA = b"\r\n.\r\n"


class _Session(asyncio.Protocol):
    def __init__(self, sink: CountingSink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while True:
            if self.in_data:
                # The DATA line's CRLF is consumed, so an empty body is ".\r\n" alone
                # (a body line starting with "." arrives dot-stuffed as "..").
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    end = self.buffer.find(END_OF_DATA)
                    skip = end + len(END_OF_DATA)
                if end == -1:
                    break
                self._message(bytes(self.buffer[:end]))
                del self.buffer[:skip]
                self.in_data = False
                replies.append(b"250 OK\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end == -1:
                break
            line = bytes(self.buffer[:line_end])
            del self.buffer[: line_end + 2]
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
            elif verb == b"DATA":
                self.in_data = True
                replies.append(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 bye\r\n")
                self._flush(replies)
                assert self.transport is not None
                self.transport.close()
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                replies.append(b"250 OK\r\n")
        self._flush(replies)

    def _flush(self, replies: list[bytes]) -> None:
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def _message(self, body: bytes) -> None:
        found = MESSAGE_ID.search(body, 0, 8192)
        self.sink.received[found.group(1).decode() if found else "(none)"] += 1


class CountingSink:
    """Start with `start()`, read `received` (Message-ID -> times), stop with `stop()`."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None

    def start(self) -> None:
        self.thread.start()

        async def serve() -> asyncio.Server:
            return await self.loop.create_server(lambda: _Session(self), sock=self.sock)

        self.server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)

    def total(self) -> int:
        return sum(self.received.values())

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
