"""More rows on top of the hand-made shop in tests/features/shop.py.

tests/features/shop.py is shared with other tests and stays untouched; this adds what
the template families need (multi-line orders, subscription deliveries, product views,
carts, coupons, an expiry) around one more customer, b, who buys bundles.
All times are UTC at 03:00, so the shop-local (JST) date equals the UTC date.

The whole shop as of 2025-12-31 (completed orders, total, lines):
  g  2024-12-10 10,000 gift x2 | 2025-06-01 2,000 rice | 2025-12-10 5,000 gift
  n  2025-11-11    900 veg_new x3
  i  2025-01-01  2,000 rice | 04-01 2,000 rice2 | 07-01 4,000 rice x2 | 10-01 300 veg_new
  s  2025-01-05  8,000 rice_p | 02-04 8,000 rice_p
  b  2025-03-15  7,000 rice 2,000 + gift 5,000 | 05-20 10,000 rice_p 8,000 + rice 2,000
Categories: rice, rice2, rice_p = 米; gift = ギフト; veg_new = 野菜.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pandas as pd
from ibis.backends import BaseBackend

from tests.features.shop import load_shop
from tokui.warehouse import bulk_load, connect, create_schema

AS_OF = "2025-12-31"


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day + " 03:00")


def load_extra(con: BaseBackend) -> None:
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["b"],
                "registered_at": [_ts("2025-03-01")],
                "email_opt_in": [True],
                "line_opt_in": [True],
                "dm_opt_in": [False],
                "push_opt_in": [False],
                "time_zone": ["Asia/Tokyo"],
                "acquisition_channel": ["line"],
            }
        ),
    )
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": ["ob1", "ob2"],
                "customer_id": ["b", "b"],
                "ordered_at": [_ts("2025-03-15"), _ts("2025-05-20")],
                "status": ["completed", "completed"],
                "subtotal": [7_000, 10_000],
                "discount": 0,
                "shipping_fee": 0,
                "points_used": 0,
                "total": [7_000, 10_000],
                "points_earned": 0,
                "is_gift": False,
            }
        ),
    )
    lines = [
        ("ob1", 1, "rice", 1, 2000, 2_000),
        ("ob1", 2, "gift", 1, 5000, 5_000),
        ("ob2", 1, "rice_p", 1, 8000, 8_000),
        ("ob2", 2, "rice", 1, 2000, 2_000),
    ]
    bulk_load(
        con,
        "order_items",
        pd.DataFrame(
            {
                "order_id": [x[0] for x in lines],
                "line_no": [x[1] for x in lines],
                "product_id": [x[2] for x in lines],
                "quantity": [x[3] for x in lines],
                "unit_price": [x[4] for x in lines],
                "amount": [x[5] for x in lines],
            }
        ),
    )
    # s1 (i, active) and s2 (s, cancelled 2025-03-01, no reason) come from the shared shop.
    bulk_load(
        con,
        "subscriptions",
        pd.DataFrame(
            {
                "subscription_id": ["s3"],
                "customer_id": ["b"],
                "product_id": ["rice"],
                "quantity": [1],
                "unit_price": [2000],
                "cycle_unit": ["month"],
                "cycle_interval": [1],
                "status": ["cancelled"],
                "started_at": [_ts("2025-03-15")],
                "cancelled_at": [_ts("2025-06-20")],
                "cancel_reason": ["量が多く余ってしまう"],
            }
        ),
    )
    deliveries = [
        ("s1", 1, "2025-01-01", "shipped"),
        ("s1", 2, "2025-02-01", "shipped"),
        ("s1", 3, "2025-03-01", "skipped"),
        ("s1", 4, "2025-04-01", "shipped"),
        ("s1", 5, "2026-01-01", "scheduled"),
        ("s2", 1, "2025-01-05", "shipped"),
        ("s2", 2, "2025-02-05", "shipped"),
        ("s2", 3, "2025-03-05", "cancelled"),
        ("s3", 1, "2025-03-15", "shipped"),
        ("s3", 2, "2025-04-15", "skipped"),
        ("s3", 3, "2025-05-15", "shipped"),
        ("s3", 4, "2025-07-15", "cancelled"),
    ]
    bulk_load(
        con,
        "subscription_deliveries",
        pd.DataFrame(
            {
                "subscription_id": [d[0] for d in deliveries],
                "delivery_number": [d[1] for d in deliveries],
                "scheduled_on": [date.fromisoformat(d[2]) for d in deliveries],
                "status": [d[3] for d in deliveries],
                "shipped_at": [_ts(d[2]) if d[3] == "shipped" else None for d in deliveries],
                "amount": [2000 if d[3] == "shipped" else None for d in deliveries],
            }
        ),
    )
    events = [
        # event_id, day, type, customer, product
        ("w1", "2025-03-10", "product_view", "b", "gift"),
        ("w2", "2025-03-12", "product_view", "b", "rice"),
        ("w3", "2025-11-01", "product_view", "n", "rice"),
        ("w4", "2025-11-02", "product_view", None, "rice"),
        ("w5", "2025-05-01", "product_view", "g", "rice_p"),
        ("w6", "2025-03-14", "product_view", "b", "gift"),
        ("w7", "2025-03-15", "cart_add", "b", "gift"),
        ("w8", "2025-03-15", "cart_add", "b", "rice"),
        ("w9", "2025-12-09", "cart_add", "g", "gift"),
        ("w10", "2025-12-01", "cart_add", "i", "rice"),
        ("w11", "2025-12-05", "cart_add", None, "rice"),
    ]
    bulk_load(
        con,
        "web_events",
        pd.DataFrame(
            {
                "event_id": [e[0] for e in events],
                "occurred_at": [_ts(e[1]) for e in events],
                "event_type": [e[2] for e in events],
                "customer_id": [e[3] for e in events],
                "product_id": [e[4] for e in events],
            }
        ),
    )
    bulk_load(
        con,
        "point_transactions",
        pd.DataFrame(
            {
                "transaction_id": ["p4", "p5"],
                "customer_id": ["g", "b"],
                "occurred_at": [_ts("2025-12-11"), _ts("2025-03-15")],
                "kind": ["expire", "earn"],
                "points": [-60, 70],
                "expires_on": [None, date(2026, 3, 15)],
            }
        ),
    )
    bulk_load(
        con,
        "coupons",
        pd.DataFrame(
            {
                "coupon_id": ["cp1", "cp2"],
                "name": ["初回10%OFF", "送料無料"],
                "discount_type": ["percent", "free_shipping"],
                "discount_value": [10, 0],
                "created_at": [_ts("2024-12-01")] * 2,
            }
        ),
    )
    grants = [
        ("g1", "cp1", "b", "2025-03-01", "2025-03-15", "ob1"),
        ("g2", "cp1", "n", "2025-11-01", None, None),
        ("g3", "cp1", "i", "2025-01-01", None, None),
        ("g4", "cp2", "g", "2025-12-01", "2025-12-10", "og3"),
    ]
    bulk_load(
        con,
        "coupon_grants",
        pd.DataFrame(
            {
                "grant_id": [x[0] for x in grants],
                "coupon_id": [x[1] for x in grants],
                "customer_id": [x[2] for x in grants],
                "code": [x[0].upper() for x in grants],
                "granted_at": [_ts(x[3]) for x in grants],
                "used_at": [_ts(x[4]) if x[4] else None for x in grants],
                "order_id": [x[5] for x in grants],
            }
        ),
    )


def open_shop(warehouse_url: str) -> Iterator[BaseBackend]:
    """The shared hand-made shop plus the rows above, for a pytest fixture to yield from."""
    con = connect(warehouse_url)
    create_schema(con)
    load_shop(con)
    load_extra(con)
    yield con
    con.disconnect()
