"""A small shop for the messaging tests: three customers, one of them hostile.

Customer "x" carries XSS payloads in every free-text field; messages and pages must show
them as text. Reference time 2025-12-31 12:00 JST.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from ibis.backends import BaseBackend

from tokui.warehouse import bulk_load

XSS_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day + " 03:00")


def load_messaging_shop(con: BaseBackend) -> None:
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["c1", "c2", "x"],
                "email": ["taro@example.jp", "hanako@example.jp", "evil@example.jp"],
                "name": ["山田 太郎", "佐藤 花子", XSS_NAME],
                "name_kana": ["ヤマダ タロウ", "サトウ ハナコ", "<b>カナ</b>"],
                "prefecture": ["東京都", "大阪府", '"><svg onload=alert(2)>'],
                "registered_at": [_ts("2024-01-01")] * 3,
                "email_opt_in": [True, True, True],
                "line_opt_in": [False, False, False],
                "dm_opt_in": [False] * 3,
                "push_opt_in": [False] * 3,
                "time_zone": ["Asia/Tokyo"] * 3,
            }
        ),
    )
    bulk_load(
        con,
        "products",
        pd.DataFrame(
            {
                "product_id": ["rice"],
                "name": ["米 5kg"],
                "category": ["米"],
                "price": [2000],
                "is_subscription": [False],
                "is_gift": [False],
                "stock_status": ["in_stock"],
            }
        ),
    )
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": ["o1", "o2"],
                "customer_id": ["c1", "c1"],
                "ordered_at": [_ts("2025-10-01"), _ts("2025-12-01")],
                "status": ["completed"] * 2,
                "subtotal": [2000, 4000],
                "discount": 0,
                "shipping_fee": 0,
                "points_used": 0,
                "total": [2000, 4000],
                "points_earned": 0,
                "is_gift": False,
            }
        ),
    )
    bulk_load(
        con,
        "order_items",
        pd.DataFrame(
            {
                "order_id": ["o1", "o2"],
                "line_no": [1, 1],
                "product_id": ["rice", "rice"],
                "quantity": [1, 2],
                "unit_price": [2000, 2000],
                "amount": [2000, 4000],
            }
        ),
    )
    bulk_load(
        con,
        "point_transactions",
        pd.DataFrame(
            {
                "transaction_id": ["p1", "p2"],
                "customer_id": ["c1", "c1"],
                "occurred_at": [_ts("2025-10-01"), _ts("2025-12-01")],
                "kind": ["earn", "earn"],
                "points": [500, 700],
                "expires_on": [date(2026, 3, 31), date(2026, 6, 30)],
            }
        ),
    )
    bulk_load(
        con,
        "coupons",
        pd.DataFrame(
            {
                "coupon_id": ["k1", "k2"],
                "name": ["冬の感謝クーポン", "期限切れクーポン"],
                "discount_type": ["amount", "percent"],
                "discount_value": [500, 10],
                "min_order_amount": [3000, None],
                "created_at": [_ts("2025-11-01")] * 2,
            }
        ),
    )
    bulk_load(
        con,
        "coupon_grants",
        pd.DataFrame(
            {
                "grant_id": ["g1", "g2"],
                "coupon_id": ["k1", "k2"],
                "customer_id": ["c1", "c1"],
                "code": ["WINTER-500", "OLD-10"],
                "granted_at": [_ts("2025-11-01")] * 2,
                "expires_at": [_ts("2026-01-31"), _ts("2025-12-01")],
            }
        ),
    )
