"""A small pool of persistent SMTP connections (aiosmtplib).

Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs several round trips, more than
sending one message, so connections are kept and reused. A connection that raised is
closed and dropped rather than reused, because its protocol state is unknown; one idle
for a while is checked with NOOP before use, since servers close idle sessions.
"""

from __future__ import annotations

import asyncio
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
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
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
        while self._idle:
            client, since = self._idle.pop()
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
            self._idle.append((client, time.monotonic()))

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _ in idle:
            with suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            await _quietly_close(client)


async def _quietly_close(client: aiosmtplib.SMTP) -> None:
    with suppress(Exception):
        client.close()
