"""Product templates on the hand-made shop (tests/analytics/shop_extra.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.analytics.shop_extra import AS_OF, open_shop
from tokui.analytics.run import run
from tokui.warehouse import bulk_load, connect, create_schema


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


# Baskets for the cross-sell edge cases (UTC times; JST is 9 hours later). Purchases up
# to 2025-12-31 JST: c1 P Q R | c2 P P Q (P twice: one order) | c3 P | c4 no lines |
# c7 Q R | c9 R at 23:59 JST. Left out: c5 cancelled, c6 no customer, c8 at 00:00 JST
# on 2026-01-01. 6 orders; P in 3, Q in 3, R in 3; PQ in 2, QR in 2, PR in 1.
BASKETS = [
    ("c1", "x", "2025-03-01 03:00", "completed", "PQR"),
    ("c2", "x", "2025-04-01 03:00", "completed", "PPQ"),
    ("c3", "y", "2025-05-01 03:00", "completed", "P"),
    ("c4", "y", "2025-06-01 03:00", "completed", ""),
    ("c5", "y", "2025-07-01 03:00", "cancelled", "PQ"),
    ("c6", None, "2025-08-01 03:00", "completed", "QR"),
    ("c7", "z", "2025-09-01 03:00", "completed", "QR"),
    ("c8", "z", "2025-12-31 15:00", "completed", "PR"),
    ("c9", "z", "2025-12-31 14:59", "completed", "R"),
]
CATEGORY = {"P": "米", "Q": "米", "R": "野菜"}


@pytest.fixture
def baskets(warehouse_url: str) -> Iterator[BaseBackend]:
    con = connect(warehouse_url)
    create_schema(con)
    orders = pd.DataFrame(
        {
            "order_id": [b[0] for b in BASKETS],
            "customer_id": [b[1] for b in BASKETS],
            "ordered_at": [pd.Timestamp(b[2]) for b in BASKETS],
            "status": [b[3] for b in BASKETS],
            "subtotal": 1_000,
            "discount": 0,
            "shipping_fee": 0,
            "points_used": 0,
            "total": 1_000,
            "points_earned": 0,
            "is_gift": False,
        }
    )
    bulk_load(con, "orders", orders)
    lines = [(b[0], n, item) for b in BASKETS for n, item in enumerate(b[4], start=1)]
    bulk_load(
        con,
        "order_items",
        pd.DataFrame(
            {
                "order_id": [x[0] for x in lines],
                "line_no": [x[1] for x in lines],
                "product_id": [x[2] for x in lines],
                "category": [CATEGORY[x[2]] for x in lines],
                "quantity": 1,
                "unit_price": 500,
                "amount": 500,
            }
        ),
    )
    yield con
    con.disconnect()


RULE_COLS = (
    "rule_no",
    "antecedent",
    "consequent",
    "pair_orders",
    "antecedent_orders",
    "consequent_orders",
    "support",
    "confidence",
    "lift",
)


def test_cross_sell_counts_each_order_once_over_all_orders(baskets: BaseBackend) -> None:
    df = run(baskets, "cross_sell_product", {"as_of": AS_OF, "min_orders": 1})
    # lift PQ = QR = 2 * 6 / (3 * 3); PR = 1 * 6 / (3 * 3); equal lifts and pair counts
    # are ordered by antecedent, then consequent.
    assert rows(df, *RULE_COLS) == [
        (1, "P", "Q", 2, 3, 3, 0.3333, 0.6667, 1.3333),
        (2, "Q", "P", 2, 3, 3, 0.3333, 0.6667, 1.3333),
        (3, "Q", "R", 2, 3, 3, 0.3333, 0.6667, 1.3333),
        (4, "R", "Q", 2, 3, 3, 0.3333, 0.6667, 1.3333),
        (5, "P", "R", 1, 3, 3, 0.1667, 0.3333, 0.6667),
        (6, "R", "P", 1, 3, 3, 0.1667, 0.3333, 0.6667),
    ]
    df = run(baskets, "cross_sell_product", {"as_of": AS_OF, "min_orders": 2, "top": 3})
    assert rows(df, "rule_no", "antecedent", "consequent") == [
        (1, "P", "Q"),
        (2, "Q", "P"),
        (3, "Q", "R"),
    ]


def test_cross_sell_by_category(baskets: BaseBackend) -> None:
    # 米 in c1 c2 c3 c7, 野菜 in c1 c7 c9; both in c1 c7; lift 2 * 6 / (4 * 3)
    df = run(baskets, "cross_sell_category", {"as_of": AS_OF, "min_orders": 1})
    assert rows(df, *RULE_COLS) == [
        (1, "米", "野菜", 2, 4, 3, 0.3333, 0.5, 1.0),
        (2, "野菜", "米", 2, 3, 4, 0.3333, 0.6667, 1.0),
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
