"""Points and coupons templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_points_monthly(shop: BaseBackend) -> None:
    df = run(shop, "points_monthly", {"as_of": AS_OF})
    assert rows(df, "month", "earned", "used", "expired", "net", "balance") == [
        ("2024-12-01", 100, 0, 0, 100, 100),
        ("2025-03-01", 70, 0, 0, 70, 170),
        ("2025-06-01", 0, 40, 0, -40, 130),
        ("2025-12-01", 50, 0, 60, -10, 120),
    ]
    # A period selects the months it touches; balances still count all earlier history.
    df = run(shop, "points_monthly", {"as_of": AS_OF, "start": "2025-06-15"})
    assert rows(df, "month", "balance") == [("2025-06-01", 130), ("2025-12-01", 120)]


def test_coupon_redemption(shop: BaseBackend) -> None:
    df = run(shop, "coupon_redemption", {"as_of": AS_OF})
    cols = ("coupon_id", "granted", "used", "redemption_rate", "orders", "revenue")
    assert rows(df, *cols) == [("cp1", 3, 1, 0.3333, 1, 7_000), ("cp2", 1, 1, 1.0, 1, 5_000)]
    df = run(shop, "coupon_redemption", {"as_of": "2025-12-05"})
    assert rows(df, *cols) == [("cp1", 3, 1, 0.3333, 1, 7_000), ("cp2", 1, 0, 0.0, 0, 0)]
