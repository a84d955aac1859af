"""Web and points/coupons templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_cart_abandonment(shop: BaseBackend) -> None:
    df = run(shop, "cart_abandonment", {"as_of": AS_OF})
    cols = ("month", "carts", "converted_carts", "abandoned_carts", "abandonment_rate")
    assert rows(df, *cols, "anonymous_cart_adds") == [
        ("2025-03-01", 1, 1, 0, 0.0, 0),
        ("2025-12-01", 3, 1, 2, 0.6667, 1),
    ]
    df = run(shop, "cart_abandonment", {"as_of": AS_OF, "days": 0})
    assert list(df.converted_carts) == [1, 0]
