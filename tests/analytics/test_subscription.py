"""Subscription templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_continuation_censors_live_subscriptions(shop: BaseBackend) -> None:
    df = run(shop, "subscription_continuation", {"as_of": AS_OF})
    got = rows(df, "delivery_count", "subscriptions", "continued", "censored")
    assert got == [(1, 3, 3, 0), (2, 3, 1, 0), (3, 1, 0, 1)]
    assert list(df.continuation_rate[:2]) == [1.0, 0.3333] and pd.isna(df.continuation_rate[2])
    assert list(df.retention_from_first) == [1.0, 1.0, 0.3333]
    assert len(run(shop, "subscription_continuation", {"as_of": AS_OF, "product_id": "x"})) == 0


def test_survival_by_start_month(shop: BaseBackend) -> None:
    df = run(shop, "subscription_survival", {"as_of": AS_OF, "max_months": 3})
    assert rows(df, "start_month", "months_since_start", "started", "surviving") == [
        ("2025-01-01", 0, 2, 2),
        ("2025-01-01", 1, 2, 2),
        ("2025-01-01", 2, 2, 1),
        ("2025-01-01", 3, 2, 1),
        ("2025-03-01", 0, 1, 1),
        ("2025-03-01", 1, 1, 1),
        ("2025-03-01", 2, 1, 1),
        ("2025-03-01", 3, 1, 0),
    ]


def test_cancel_reasons(shop: BaseBackend) -> None:
    df = run(shop, "subscription_cancel_reasons", {"as_of": AS_OF})
    cols = ("reason", "cancellations", "avg_deliveries", "avg_days_active", "share")
    assert sorted(rows(df, *cols)) == [
        ("(未回答)", 1, 2.0, 55.0, 0.5),
        ("量が多く余ってしまう", 1, 2.0, 97.0, 0.5),
    ]
    df = run(shop, "subscription_cancel_reasons", {"as_of": AS_OF, "start": "2025-06-01"})
    assert rows(df, "reason", "cancellations") == [("量が多く余ってしまう", 1)]


def test_skip_rate(shop: BaseBackend) -> None:
    df = run(shop, "subscription_skip_rate", {"as_of": AS_OF})
    assert rows(df, "delivery_number", "deliveries", "skipped", "skip_rate") == [
        (1, 3, 0, 0.0),
        (2, 3, 1, 0.3333),
        (3, 2, 1, 0.5),
        (4, 1, 0, 0.0),
    ]


def test_active_monthly(shop: BaseBackend) -> None:
    df = run(shop, "subscription_active_monthly", {"as_of": AS_OF})
    got = rows(df, "month", "active_start", "started", "cancelled", "active_end")
    assert len(got) == 12
    assert got[:3] == [
        ("2025-01-01", 0, 2, 0, 2),
        ("2025-02-01", 2, 0, 0, 2),
        ("2025-03-01", 2, 1, 1, 2),
    ]
    assert got[5] == ("2025-06-01", 2, 0, 1, 1) and got[11] == ("2025-12-01", 1, 0, 0, 1)
    assert pd.isna(df.churn_rate[0]) and df.churn_rate[2] == 0.5
