"""Product templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_product_sales_abc(shop: BaseBackend) -> None:
    df = run(shop, "product_sales_abc", {"as_of": AS_OF})
    cols = ("rank_no", "product_id", "revenue", "quantity", "orders", "customers")
    assert rows(df, *cols, "revenue_share", "cumulative_share", "abc_rank") == [
        (1, "rice_p", 24_000, 3, 3, 2, 0.4054, 0.4054, "A"),
        (2, "gift", 20_000, 4, 3, 2, 0.3378, 0.7432, "A"),
        (3, "rice", 12_000, 6, 5, 3, 0.2027, 0.9459, "B"),
        (4, "rice2", 2_000, 1, 1, 1, 0.0338, 0.9797, "C"),
        (5, "veg_new", 1_200, 4, 2, 2, 0.0203, 1.0, "C"),
    ]


def test_category_sales_abc(shop: BaseBackend) -> None:
    df = run(shop, "category_sales_abc", {"as_of": AS_OF, "a_share": 0.5})
    assert rows(df, "category", "revenue", "orders", "customers", "abc_rank") == [
        ("米", 38_000, 8, 4, "A"),
        ("ギフト", 20_000, 3, 2, "B"),
        ("野菜", 1_200, 2, 2, "C"),
    ]


def test_entry_products_and_categories(shop: BaseBackend) -> None:
    df = run(shop, "entry_product_f2", {"as_of": AS_OF})
    assert sorted(rows(df, "product_id", "new_customers", "f2_customers", "f2_rate")) == [
        ("gift", 2, 1, 0.5),
        ("rice", 2, 2, 1.0),
        ("rice_p", 1, 1, 1.0),
        ("veg_new", 1, 0, 0.0),
    ]
    df = run(shop, "entry_category_f2", {"as_of": AS_OF})
    assert sorted(rows(df, "category", "new_customers", "f2_customers", "repeat_rate")) == [
        ("ギフト", 2, 1, 1.0),
        ("米", 3, 3, 1.0),
        ("野菜", 1, 0, 0.0),
    ]


def test_cross_sell_rules(shop: BaseBackend) -> None:
    df = run(shop, "cross_sell_product", {"as_of": AS_OF, "min_orders": 1})
    # 12 orders; gift in 3, rice in 5, rice_p in 3; ob1 = gift+rice, ob2 = rice_p+rice
    assert rows(df, "antecedent", "consequent", "pair_orders", "support", "confidence", "lift") == [
        ("gift", "rice", 1, 0.0833, 0.3333, 0.8),
        ("rice", "gift", 1, 0.0833, 0.2, 0.8),
        ("rice", "rice_p", 1, 0.0833, 0.2, 0.8),
        ("rice_p", "rice", 1, 0.0833, 0.3333, 0.8),
    ]
    assert len(run(shop, "cross_sell_product", {"as_of": AS_OF})) == 0
    df = run(shop, "cross_sell_category", {"as_of": AS_OF, "min_orders": 1})
    assert sorted(rows(df, "antecedent", "consequent", "confidence", "lift")) == [
        ("ギフト", "米", 0.3333, 0.5),
        ("米", "ギフト", 0.125, 0.5),
    ]


def test_purchase_flow(shop: BaseBackend) -> None:
    df = run(shop, "purchase_flow_product", {"as_of": AS_OF})
    assert sorted(rows(df, "from_item", "to_item", "customers", "share_of_from")) == [
        ("gift", "rice", 1, 0.5),
        ("gift", "rice_p", 1, 0.5),
        ("rice", "rice2", 1, 1.0),
        ("rice_p", "rice_p", 1, 1.0),
        ("veg_new", "(2回目なし)", 1, 1.0),
    ]
    df = run(shop, "purchase_flow_category", {"as_of": AS_OF})
    assert sorted(rows(df, "from_item", "to_item", "customers")) == [
        ("ギフト", "米", 2),
        ("米", "米", 2),
        ("野菜", "(2回目なし)", 1),
    ]


def test_product_view_conversion(shop: BaseBackend) -> None:
    df = run(shop, "product_view_conversion", {"as_of": AS_OF})
    cols = ("product_id", "views", "anonymous_views", "viewers", "buyers", "conversion_rate")
    assert sorted(rows(df, *cols)) == [
        ("gift", 2, 0, 1, 1, 1.0),
        ("rice", 3, 1, 2, 1, 0.5),
        ("rice_p", 1, 0, 1, 0, 0.0),
    ]
