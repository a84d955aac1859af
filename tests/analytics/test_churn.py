"""Churn and dormancy templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_recency_distribution(shop: BaseBackend) -> None:
    # recency: g 21, n 50, i 91, b 225, s 330
    df = run(shop, "recency_distribution", {"as_of": AS_OF})
    assert rows(df, "bucket", "count", "cumulative_share") == [
        ("0-30", 1, 0.2),
        ("31-60", 1, 0.4),
        ("61-90", 0, 0.4),
        ("91-180", 1, 0.6),
        ("181-365", 2, 1.0),
        ("366+", 0, 1.0),
    ]


def test_dormant_share(shop: BaseBackend) -> None:
    df = run(shop, "dormant_share", {"as_of": AS_OF, "thresholds": "50,90,180,365"})
    cols = ("threshold_days", "dormant_customers", "dormant_one_time", "dormant_repeat")
    assert rows(df, *cols, "dormant_revenue", "dormant_share") == [
        (50, 4, 1, 3, 42_200, 0.8),
        (90, 3, 0, 3, 41_300, 0.6),
        (180, 2, 0, 2, 33_000, 0.4),
        (365, 0, 0, 0, 0, 0.0),
    ]


def test_churn_risk(shop: BaseBackend) -> None:
    df = run(shop, "churn_risk", {"as_of": AS_OF})
    cols = ("customer_id", "mean_interval_days", "recency_days", "risk_ratio")
    assert rows(df, *cols) == [("s", 30.0, 330, 11.0), ("b", 66.0, 225, 3.4091)]
    # i: 273 days over 3 intervals = 91.0, recency 91 -> ratio exactly 1 (not > 1)
    df = run(shop, "churn_risk", {"as_of": AS_OF, "k": 0.9})
    assert list(df.customer_id) == ["s", "b", "i"]
