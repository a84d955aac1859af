"""LTV templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_ltv_curve(shop: BaseBackend) -> None:
    df = run(shop, "ltv_curve", {"as_of": AS_OF, "start": "2025-01-01", "end": "2025-01-31"})
    assert rows(df, "months_since", "cumulative_revenue", "ltv")[:4] == [
        (0, 10_000, 5_000),
        (1, 18_000, 9_000),
        (2, 18_000, 9_000),
        (3, 20_000, 10_000),
    ]
    assert rows(df, "months_since", "ltv")[-3:] == [(9, 12_150), (10, 12_150), (11, 12_150)]


def test_ltv_by_channel(shop: BaseBackend) -> None:
    df = run(shop, "ltv_by_channel", {"as_of": AS_OF})
    got = rows(df, "channel", "customers", "revenue", "ltv", "matured_customers", "ltv_matured")
    # only g's first purchase (2024-12-10) is 365 days old by 2025-12-31
    assert got[0] == ("(不明)", 4, 42_200, 10_550, 1, 17_000)
    assert got[1][:5] == ("line", 1, 17_000, 17_000, 0) and pd.isna(got[1][5])


def test_ltv_by_first_category_and_product(shop: BaseBackend) -> None:
    df = run(shop, "ltv_by_first_category", {"as_of": AS_OF})
    assert sorted(rows(df, "category", "customers", "revenue", "ltv")) == [
        ("ギフト", 2, 34_000, 17_000),
        ("米", 2, 24_300, 12_150),
        ("野菜", 1, 900, 900),
    ]
    df = run(shop, "ltv_by_first_product", {"as_of": AS_OF, "horizon_days": 90})
    assert sorted(rows(df, "product_id", "customers", "revenue")) == [
        ("gift", 2, 27_000),
        ("rice", 1, 4_000),
        ("rice_p", 1, 16_000),
        ("veg_new", 1, 900),
    ]
