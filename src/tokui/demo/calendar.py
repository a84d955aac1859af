"""The shop's year: seasonal demand by persona, and turning simulated days into times.

Time inside the simulator is a float number of days since the first simulated day,
counted in Japan time (the shop's clock); the warehouse stores naive UTC timestamps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from tokui.demo.config import PERSONAS

JST_OFFSET = timedelta(hours=9)

# Demand of every customer by month: gift seasons, summer, the New Year.
MONTH_DEMAND = {
    1: 1.10,
    2: 0.85,
    3: 0.95,
    4: 0.90,
    5: 1.00,
    6: 0.95,
    7: 1.20,
    8: 1.10,
    9: 0.95,
    10: 0.95,
    11: 1.00,
    12: 1.35,
}

# Gift windows (month, first day, last day, multiplier) for gift givers:
# お中元, お歳暮, 母の日, 父の日, 敬老の日.
GIFT_WINDOWS = (
    (7, 1, 31, 3.2),
    (8, 1, 10, 2.0),
    (11, 25, 30, 2.5),
    (12, 1, 25, 3.2),
    (5, 1, 12, 2.5),
    (6, 5, 18, 1.8),
    (9, 5, 18, 2.0),
)
GIFT_OFF_SEASON = 0.55


def is_gift_season(d: date) -> bool:
    return any(m == d.month and lo <= d.day <= hi for m, lo, hi, _ in GIFT_WINDOWS)


def _day_factor(d: date, persona: str) -> float:
    f = MONTH_DEMAND[d.month]
    if (d.month == 12 and d.day >= 26) or (d.month == 1 and d.day <= 3):
        # 正月: おせち and New Year food are bought late December; the first days are quiet.
        f *= 1.3 if d.month == 12 else 0.6
    if persona == "gift_giver":
        mult = [w for m, lo, hi, w in GIFT_WINDOWS if m == d.month and lo <= d.day <= hi]
        f *= mult[0] if mult else GIFT_OFF_SEASON
    return f


class Calendar:
    """Per-day demand multipliers for each persona over the simulated period."""

    def __init__(self, start: date, days: int) -> None:
        self.start = start
        self.days = days
        self.dates = [start + timedelta(days=i) for i in range(days)]
        self.demand = np.array(
            [[_day_factor(d, p) for d in self.dates] for p in PERSONAS], dtype=np.float64
        )
        self.peak = self.demand.max(axis=1)
        # cumulative[k, i] = integral of demand from day 0 to the start of day i
        self.cumulative = np.concatenate(
            [np.zeros((len(PERSONAS), 1)), np.cumsum(self.demand, axis=1)], axis=1
        )
        self.gift_season = np.array([is_gift_season(d) for d in self.dates])
        self.month = np.array([d.month for d in self.dates], dtype=np.int8)
        self.start_utc = np.datetime64(datetime.combine(start, datetime.min.time()) - JST_OFFSET)

    def integral(self, persona: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Integral of persona demand from t0 to t1 (float days), for arrays."""
        return np.asarray(self._cum_at(persona, t1) - self._cum_at(persona, t0))

    def _cum_at(self, persona: np.ndarray, t: np.ndarray) -> np.ndarray:
        t = np.clip(t, 0.0, float(self.days))
        day = np.minimum(np.floor(t).astype(np.int64), self.days - 1)
        return np.asarray(self.cumulative[persona, day] + (t - day) * self.demand[persona, day])

    def day_of(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip(np.floor(t).astype(np.int64), 0, self.days - 1))

    def to_utc(self, t: np.ndarray) -> np.ndarray:
        """Float days (Japan time) to naive-UTC datetime64[us], whole seconds."""
        seconds = np.round(np.asarray(t, dtype=np.float64) * 86_400).astype(np.int64)
        return np.asarray(self.start_utc.astype("datetime64[s]") + seconds.astype("timedelta64[s]"))

    def to_date(self, t: np.ndarray) -> np.ndarray:
        """Float days to the local (Japan) calendar date."""
        days = np.floor(np.asarray(t, dtype=np.float64)).astype(np.int64)
        return np.asarray(np.datetime64(self.start, "D") + days.astype("timedelta64[D]"))


def daytime(rng: np.random.Generator, n: int, evening: bool = True) -> np.ndarray:
    """A time of day (fraction of a day) for online orders: lunch and evening peaks."""
    hours = np.arange(24)
    weights = np.array(
        [2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 5, 4, 4, 4, 5, 6, 7, 8, 9, 8, 5],
        dtype=np.float64,
    )
    if not evening:
        weights = np.ones(24)
    h = rng.choice(hours, size=n, p=weights / weights.sum())
    return (h + rng.random(n)) / 24.0
