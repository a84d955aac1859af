"""Cohort templates on the hand-made shop (tests/analytics/shop_extra.py)."""

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


def test_cohort_retention_grid(shop: BaseBackend) -> None:
    df = run(shop, "cohort_retention", {"as_of": AS_OF})
    # cohorts 2024-12 (g), 2025-01 (i, s), 2025-03 (b), 2025-11 (n); months up to 2025-12
    assert len(df) == 13 + 12 + 10 + 2
    bought = [r for r in rows(df, "cohort_month", "months_since", "customers", "revenue") if r[2]]
    assert bought == [
        ("2024-12-01", 0, 1, 10_000),
        ("2024-12-01", 6, 1, 2_000),
        ("2024-12-01", 12, 1, 5_000),
        ("2025-01-01", 0, 2, 10_000),
        ("2025-01-01", 1, 1, 8_000),
        ("2025-01-01", 3, 1, 2_000),
        ("2025-01-01", 6, 1, 4_000),
        ("2025-01-01", 9, 1, 300),
        ("2025-03-01", 0, 1, 7_000),
        ("2025-03-01", 2, 1, 10_000),
        ("2025-11-01", 0, 1, 900),
    ]
    jan = df[df.cohort_month == pd.Timestamp("2025-01-01")]
    assert list(jan.retention_rate[:4]) == [1.0, 0.5, 0.0, 0.5]


def test_cohort_period_selects_cohorts_and_max_months(shop: BaseBackend) -> None:
    df = run(
        shop,
        "cohort_revenue",
        {"as_of": AS_OF, "start": "2025-01-01", "end": "2025-01-31", "max_months": 3},
    )
    assert rows(df, "cohort_month", "months_since", "cohort_size", "revenue") == [
        ("2025-01-01", 0, 2, 10_000),
        ("2025-01-01", 1, 2, 8_000),
        ("2025-01-01", 2, 2, 0),
        ("2025-01-01", 3, 2, 2_000),
    ]


def test_cohort_summary(shop: BaseBackend) -> None:
    df = run(shop, "cohort_summary", {"as_of": AS_OF})
    cols = ("cohort_month", "new_customers", "first_day_revenue", "repeat_customers")
    assert rows(df, *cols, "revenue", "repeat_rate", "revenue_per_customer") == [
        ("2024-12-01", 1, 10_000, 1, 17_000, 1.0, 17_000),
        ("2025-01-01", 2, 10_000, 2, 24_300, 1.0, 12_150),
        ("2025-03-01", 1, 7_000, 1, 17_000, 1.0, 17_000),
        ("2025-11-01", 1, 900, 0, 900, 0.0, 900),
    ]
