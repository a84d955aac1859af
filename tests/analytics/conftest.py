"""A hand-made shop whose analysis results are computed by hand in the tests.

Order times are UTC; the shop-local (JST) date is 9 hours later, and one order sits
across midnight on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tokui.warehouse import bulk_load, connect, create_schema

ORDERS = [
    # order_id, customer_id, ordered_at (UTC), status, total, subscription_id
    ("o1", "c1", "2025-01-10 03:00", "completed", 5_000, None),
    ("o2", "c1", "2025-03-09 16:00", "completed", 30_000, None),  # JST 2025-03-10 01:00
    ("o3", "c1", "2025-09-01 02:00", "completed", 40_000, None),
    ("o4", "c2", "2025-06-01 05:00", "completed", 8_000, None),
    ("o5", "c3", "2025-08-01 05:00", "completed", 3_000, None),
    ("o6", "c3", "2025-08-20 05:00", "completed", 4_000, None),
    ("o7", "c4", "2024-12-01 05:00", "completed", 10_000, None),
    ("o8", "c4", "2025-04-01 05:00", "completed", 20_000, None),
    ("o9", "c5", "2025-05-01 05:00", "completed", 50_000, None),
    ("o10", "c5", "2025-08-01 05:00", "completed", 30_000, None),
    ("o11", "c6", "2025-07-01 05:00", "cancelled", 9_999, None),
    ("o12", None, "2025-07-02 05:00", "completed", 1_234, None),
]
AS_OF = "2025-12-31"


def orders_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [r[0] for r in ORDERS],
            "customer_id": [r[1] for r in ORDERS],
            "ordered_at": [datetime.fromisoformat(r[2]) for r in ORDERS],
            "status": [r[3] for r in ORDERS],
            "subtotal": [r[4] for r in ORDERS],
            "discount": [0] * len(ORDERS),
            "shipping_fee": [0] * len(ORDERS),
            "points_used": [0] * len(ORDERS),
            "total": [r[4] for r in ORDERS],
            "points_earned": [0] * len(ORDERS),
            "subscription_id": [r[5] for r in ORDERS],
            "is_gift": [False] * len(ORDERS),
        }
    )


@pytest.fixture
def shop(warehouse_url: str) -> Iterator[BaseBackend]:
    con = connect(warehouse_url)
    create_schema(con)
    bulk_load(con, "orders", orders_frame())
    yield con
    con.disconnect()
