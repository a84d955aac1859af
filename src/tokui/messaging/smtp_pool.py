"""A small pool of persistent SMTP connections (aiosmtplib).

Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs several round trips, more than
sending one message, so connections are kept and reused. A connection that raised is
closed and dropped rather than reused, because its protocol state is unknown; one idle
for a while is checked with NOOP before use, since servers close idle sessions. A
connection belongs to the event loop that opened it: one left from another loop (a
caller that runs each delivery cycle in its own asyncio.run) is dropped, not reused.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosmtplib

from tokui.messaging.settings import EmailSettings

IDLE_CHECK_SECONDS = 30.0


class SMTPPool:
    def __init__(self, settings: EmailSettings, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.tls_context = tls_context
        self._idle: list[tuple[aiosmtplib.SMTP, float, asyncio.AbstractEventLoop]] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        self.opened = 0  # connections opened over the pool's life (tests, benchmarks)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username or None,
            password=s.password or None,
            timeout=s.timeout_seconds,
            use_tls=s.security == "ssl",
            start_tls=s.security == "starttls",
            validate_certs=s.validate_certs,
            tls_context=self.tls_context,
        )

    async def _open(self) -> aiosmtplib.SMTP:
        client = self._client()
        await client.connect()
        self.opened += 1
        return client

    async def _take(self) -> aiosmtplib.SMTP:
        loop = asyncio.get_running_loop()
        while self._idle:
            client, since, opened_in = self._idle.pop()
            if opened_in is not loop:
                _forget(client)
                continue
            if not client.is_connected:
                continue
            if time.monotonic() - since > IDLE_CHECK_SECONDS:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    await _quietly_close(client)
                    continue
            return client
        return await self._open()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        async with self._slots:
            client = await self._take()
            try:
                yield client
            except BaseException:
                await _quietly_close(client)
                raise
            self._idle.append((client, time.monotonic(), asyncio.get_running_loop()))

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        loop = asyncio.get_running_loop()
        for client, _, opened_in in idle:
            if opened_in is not loop:
                _forget(client)
                continue
            with suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            await _quietly_close(client)


async def _quietly_close(client: aiosmtplib.SMTP) -> None:
    with suppress(Exception):
        client.close()


def _forget(client: aiosmtplib.SMTP) -> None:
    """A connection of another event loop, which (closed, as a rule) can no longer run
    the transport's close: the TCP session is shut down directly, the socket itself is
    released with the transport."""
    transport = client.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with suppress(Exception):
        client.close()
