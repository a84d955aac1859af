"""Token buckets: per-channel send rates of one worker process.

Providers cap sends per second (SES, LINE) and mailbox providers throttle bursts from
new IPs. The bucket refills at `rate` tokens per second up to `burst`; a send waits for
a token. With several workers each gets its own bucket: divide the provider's limit by
the number of workers (docs/messaging.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._now = now
        self._tokens = self.burst
        self._last = now()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self) -> float:
        """Take a token if there is one: 0.0; else the seconds until there will be."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    async def take(self) -> None:
        async with self._lock:
            while (wait := self.try_take()) > 0:
                await asyncio.sleep(wait)
