"""When a wait step ends: after a duration, at a local time of day, or on the next
anniversary of a customer date (birthday, registration), in the shop's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from tokui.scenarios.definition import Wait


def _anniversary(value: Any, after: date) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    d: date = pd.Timestamp(value).date()
    for year in (after.year, after.year + 1):
        try:
            candidate = d.replace(year=year)
        except ValueError:  # 29 February in a common year: the 28th
            candidate = date(year, 2, 28)
        if candidate >= after:
            return candidate
    return None


def wait_target(
    step: Wait, started: datetime, customer: dict[str, Any], tz: ZoneInfo
) -> datetime | None:
    """The aware UTC moment the wait ends; None when the date field is empty."""
    if step.until_field is not None:
        local_start = started.astimezone(tz).date()
        day = _anniversary(customer.get(step.until_field), local_start)
        if day is None:
            return None
        day -= timedelta(days=step.days_before)
        at = time.fromisoformat(step.at_time) if step.at_time else time(0, 0)
        return max(started, datetime.combine(day, at, tzinfo=tz).astimezone(UTC))
    target = started + timedelta(days=step.days, hours=step.hours)
    if step.at_time:
        local = target.astimezone(tz)
        at = time.fromisoformat(step.at_time)
        candidate = datetime.combine(local.date(), at, tzinfo=tz)
        if candidate < local:
            candidate += timedelta(days=1)
        target = candidate.astimezone(UTC)
    return target
