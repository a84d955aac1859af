"""Injected time.

Every component asks a clock for "now" instead of reading the system time, so tests,
backtests and the demo simulator can run the engine over simulated days.
Timestamps are stored in UTC (naive, by convention); the shop's local zone is used only
for calendar logic and display.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)


def utc_naive(moment: datetime) -> datetime:
    """The storage form of a timestamp: UTC without tzinfo."""
    if moment.tzinfo is None:
        raise ValueError("refusing to guess the zone of a naive datetime")
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_today(clock: Clock, tz: ZoneInfo = DEFAULT_TZ) -> date:
    return clock.now().astimezone(tz).date()
