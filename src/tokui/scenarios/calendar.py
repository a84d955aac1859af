"""The Japanese gift and holiday calendar the seasonal trigger fires on.

Dates are the usual peak of each custom (they vary by region; shift them with the
trigger's days_before): お中元 by 15 July (the Kanto custom; Kansai runs to mid-August),
お歳暮 by 10 December, 正月 1 January, 母の日 the second Sunday of May, 敬老の日 the third
Monday of September.
"""

from __future__ import annotations

from datetime import date, timedelta


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def occasion_date(
    occasion: str, year: int, month: int | None = None, day: int | None = None
) -> date:
    if occasion == "ochugen":
        return date(year, 7, 15)
    if occasion == "oseibo":
        return date(year, 12, 10)
    if occasion == "shogatsu":
        return date(year, 1, 1)
    if occasion == "mothers_day":
        return _nth_weekday(year, 5, 6, 2)
    if occasion == "respect_for_aged_day":
        return _nth_weekday(year, 9, 0, 3)
    if occasion == "custom" and month is not None and day is not None:
        try:
            return date(year, month, day)
        except ValueError:  # 29 February in a common year
            return date(year, 2, 28)
    raise ValueError(f"unknown occasion {occasion!r}")
