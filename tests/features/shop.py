"""A hand-made shop for the features and segment tests.

Reference date 2025-12-31 (JST). Order times are UTC at 03:00, so the local date equals
the UTC date.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from ibis.backends import BaseBackend

from tokui.warehouse import bulk_load

AS_OF = date(2025, 12, 31)


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day + " 03:00")


def load_shop(con: BaseBackend) -> None:
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["g", "n", "i", "s", "r"],
                "gender": ["female", "male", "female", "male", None],
                "birth_date": [date(1980, 6, 1), date(1999, 12, 31), None, date(1960, 1, 1), None],
                "prefecture": ["東京都", "大阪府", "北海道", "福岡県", "沖縄県"],
                "registered_at": [_ts("2024-01-01")] * 5,
                "email_opt_in": [True, True, False, True, False],
                "line_opt_in": [False, True, False, False, False],
                "dm_opt_in": [False] * 5,
                "push_opt_in": [False] * 5,
                "line_user_id": [None, "U1", None, None, None],
                "time_zone": ["Asia/Tokyo"] * 5,
            }
        ),
    )
    bulk_load(
        con,
        "products",
        pd.DataFrame(
            {
                # category averages: 米 (2000+2000+8000)/3 = 4000; ギフト 5000; 野菜 300
                "product_id": ["rice", "rice2", "rice_p", "gift", "veg_new"],
                "name": ["米 5kg", "米 2kg", "特選米", "お歳暮セット", "新じゃが"],
                "category": ["米", "米", "米", "ギフト", "野菜"],
                "price": [2000, 2000, 8000, 5000, 300],
                "is_subscription": [False] * 5,
                "is_gift": [False, False, False, True, False],
                "launched_on": [date(2020, 1, 1)] * 4 + [date(2025, 11, 1)],
                "stock_status": ["in_stock"] * 5,
            }
        ),
    )
    orders = [
        # g: two gift orders in Dec 2024 and Dec 2025, one rice order
        ("og1", "g", "2024-12-10", 10_000),
        ("og2", "g", "2025-06-01", 2_000),
        ("og3", "g", "2025-12-10", 5_000),
        # n: one order of the new potatoes 10 days after launch
        ("on1", "n", "2025-11-11", 900),
        # i: four rice orders
        ("oi1", "i", "2025-01-01", 2_000),
        ("oi2", "i", "2025-04-01", 2_000),
        ("oi3", "i", "2025-07-01", 4_000),
        ("oi4", "i", "2025-10-01", 300),
        # s: premium rice twice, long ago (dormant)
        ("os1", "s", "2025-01-05", 8_000),
        ("os2", "s", "2025-02-04", 8_000),
    ]
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": [o[0] for o in orders],
                "customer_id": [o[1] for o in orders],
                "ordered_at": [_ts(o[2]) for o in orders],
                "status": ["completed"] * len(orders),
                "subtotal": [o[3] for o in orders],
                "discount": 0,
                "shipping_fee": 0,
                "points_used": 0,
                "total": [o[3] for o in orders],
                "points_earned": 0,
                "is_gift": False,
            }
        ),
    )
    lines = [
        ("og1", 1, "gift", 2, 5000, 10_000),
        ("og2", 1, "rice", 1, 2000, 2_000),
        ("og3", 1, "gift", 1, 5000, 5_000),
        ("on1", 1, "veg_new", 3, 300, 900),
        ("oi1", 1, "rice", 1, 2000, 2_000),
        ("oi2", 1, "rice2", 1, 2000, 2_000),
        ("oi3", 1, "rice", 2, 2000, 4_000),
        ("oi4", 1, "veg_new", 1, 300, 300),
        ("os1", 1, "rice_p", 1, 8000, 8_000),
        ("os2", 1, "rice_p", 1, 8000, 8_000),
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
    bulk_load(
        con,
        "subscriptions",
        pd.DataFrame(
            {
                "subscription_id": ["s1", "s2"],
                "customer_id": ["i", "s"],
                "product_id": ["rice", "rice"],
                "quantity": [1, 1],
                "unit_price": [2000, 2000],
                "cycle_unit": ["month", "month"],
                "cycle_interval": [1, 1],
                "status": ["active", "cancelled"],
                "started_at": [_ts("2025-01-01"), _ts("2025-01-05")],
                "cancelled_at": [None, _ts("2025-03-01")],
            }
        ),
    )
    bulk_load(
        con,
        "point_transactions",
        pd.DataFrame(
            {
                "transaction_id": ["p1", "p2", "p3"],
                "customer_id": ["g", "g", "g"],
                "occurred_at": [_ts("2024-12-10"), _ts("2025-06-01"), _ts("2025-12-10")],
                "kind": ["earn", "use", "earn"],
                "points": [100, -40, 50],
                "expires_on": [date(2025, 12, 10), None, date(2026, 12, 10)],
            }
        ),
    )
    bulk_load(
        con,
        "web_events",
        pd.DataFrame(
            {
                "event_id": [f"e{i}" for i in range(5)],
                "occurred_at": [
                    _ts("2025-12-20"),
                    _ts("2025-12-20"),
                    _ts("2025-12-21"),
                    _ts("2025-10-01"),
                    _ts("2025-12-30"),
                ],
                "event_type": [
                    "product_view",
                    "favorite",
                    "cart_add",
                    "category_view",
                    "product_view",
                ],
                "customer_id": ["n", "n", "n", "n", None],
                "category": ["野菜", "野菜", "野菜", "米", "米"],
            }
        ),
    )
