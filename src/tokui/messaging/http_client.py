"""One httpx.AsyncClient per event loop for the HTTP channels.

An AsyncClient's pooled connections belong to the event loop that opened them. The
worker, the web app's "send test" and the CLI each run their own loop, so a channel
object that outlives a loop must not hand the old client to the new one: it makes a new
client instead (the old loop's connections went with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx


class LoopClient:
    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        self.factory = factory
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = self.factory()
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()
