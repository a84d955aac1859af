"""Repeat and F2 templates on the hand-made shop (tests/analytics/shop_extra.py).

Days to the next purchase: g 173, 192; i 90, 91, 92; s 30; b 66.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.analytics.shop_extra import AS_OF, open_shop
from tokui.analytics.run import run


@pytest.fixture
def shop(warehouse_url: str) -> Iterator[BaseBackend]:
    yield from open_shop(warehouse_url)


def rows(df: pd.DataFrame, *cols: str) -> list[tuple[Any, ...]]:
    out = []
    for r in df[list(cols)].itertuples(index=False):
        out.append(tuple(str(v)[:10] if isinstance(v, pd.Timestamp) else v for v in r))
    return out


def test_f2_conversion_within_days(shop: BaseBackend) -> None:
    df = run(shop, "f2_conversion", {"as_of": AS_OF})
    cols = ("first_month", "new_customers", "f2_customers", "f2_rate", "fully_observed")
    # i converts on day 90 exactly (inclusive); n's month is not yet 90 days old.
    assert rows(df, *cols) == [
        ("2024-12-01", 1, 0, 0.0, True),
        ("2025-01-01", 2, 2, 1.0, True),
        ("2025-03-01", 1, 1, 1.0, True),
        ("2025-11-01", 1, 0, 0.0, False),
    ]
    df = run(shop, "f2_conversion", {"as_of": AS_OF, "days": 89})
    assert list(df.f2_customers) == [0, 1, 1, 0]


def test_f_conversion_funnel(shop: BaseBackend) -> None:
    df = run(shop, "f_conversion_funnel", {"as_of": AS_OF})
    cols = ("order_no", "customers", "next_customers", "conversion_rate", "avg_days_to_next")
    got = rows(df, *cols)
    assert got[:3] == [(1, 5, 4, 0.8, 89.75), (2, 4, 2, 0.5, 141.5), (3, 2, 1, 0.5, 92.0)]
    assert got[3][:4] == (4, 1, 0, 0.0) and pd.isna(got[3][4])
    assert len(run(shop, "f_conversion_funnel", {"as_of": AS_OF, "max_n": 2})) == 2


def test_f2_interval_buckets(shop: BaseBackend) -> None:
    df = run(shop, "f2_interval", {"as_of": AS_OF})
    assert rows(df, "bucket", "count", "share", "cumulative_share") == [
        ("0-7", 0, 0.0, 0.0),
        ("8-14", 0, 0.0, 0.0),
        ("15-30", 1, 0.25, 0.25),
        ("31-60", 0, 0.0, 0.25),
        ("61-90", 2, 0.5, 0.75),
        ("91-180", 1, 0.25, 1.0),
        ("181-365", 0, 0.0, 1.0),
        ("366+", 0, 0.0, 1.0),
    ]


def test_repeat_interval_custom_buckets(shop: BaseBackend) -> None:
    df = run(shop, "repeat_interval", {"as_of": AS_OF, "buckets": "30,90,180"})
    assert rows(df, "bucket", "count", "share") == [
        ("0-30", 1, 0.1429),
        ("31-90", 2, 0.2857),
        ("91-180", 3, 0.4286),
        ("181+", 1, 0.1429),
    ]
