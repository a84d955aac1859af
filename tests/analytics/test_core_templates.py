from __future__ import annotations

import pytest
from ibis.backends import BaseBackend

from tests.analytics.conftest import AS_OF
from tokui.analytics.registry import ParamError, get, templates
from tokui.analytics.run import run


def rows(df, *cols):  # type: ignore[no-untyped-def]
    return [tuple(r) for r in df[list(cols)].itertuples(index=False)]


def test_sales_by_customer(shop: BaseBackend) -> None:
    df = run(shop, "sales_by_customer", {"as_of": AS_OF})
    assert rows(df, "customer_id", "orders", "revenue") == [
        ("c5", 2, 80_000),
        ("c1", 3, 75_000),
        ("c4", 2, 30_000),
        ("c2", 1, 8_000),
        ("c3", 2, 7_000),
    ]
    c1 = df[df.customer_id == "c1"].iloc[0]
    assert str(c1.first_order)[:10] == "2025-01-10"
    assert c1.average_order_value == 25_000


def test_sales_by_customer_period_uses_local_dates(shop: BaseBackend) -> None:
    # o2 is 2025-03-09 16:00 UTC = 2025-03-10 in Japan: inside a period starting 03-10.
    df = run(shop, "sales_by_customer", {"start": "2025-03-10", "end": "2025-03-31"})
    assert rows(df, "customer_id", "revenue") == [("c1", 30_000)]


def test_rfm_thresholds(shop: BaseBackend) -> None:
    df = run(shop, "rfm", {"as_of": AS_OF})
    assert rows(df, "customer_id", "recency_days", "frequency", "monetary", "rfm_cell") == [
        ("c1", 121, 3, 75_000, "234"),
        ("c2", 213, 1, 8_000, "111"),
        ("c3", 133, 2, 7_000, "221"),
        ("c4", 274, 2, 30_000, "123"),
        ("c5", 152, 2, 80_000, "224"),
    ]


def test_rfm_quintiles_break_ties_by_customer(shop: BaseBackend) -> None:
    df = run(shop, "rfm", {"as_of": AS_OF, "method": "quintile"})
    assert rows(df, "customer_id", "r_score", "f_score", "m_score") == [
        ("c1", 5, 5, 4),
        ("c2", 2, 1, 2),
        ("c3", 4, 2, 1),
        ("c4", 1, 3, 3),
        ("c5", 3, 4, 5),
    ]


def test_rfm_grid(shop: BaseBackend) -> None:
    df = run(shop, "rfm_grid", {"as_of": AS_OF})
    assert rows(df, "r_score", "f_score", "customers", "revenue") == [
        (1, 1, 1, 8_000),
        (1, 2, 1, 30_000),
        (2, 2, 2, 87_000),
        (2, 3, 1, 75_000),
    ]


def test_cpm_ten_groups(shop: BaseBackend) -> None:
    df = run(shop, "cpm", {"as_of": AS_OF})
    assert len(df) == 10
    nonzero = [r for r in rows(df, "cpm_label", "customers", "revenue") if r[1]]
    assert nonzero == [
        ("初回現役客", 1, 8_000),
        ("よちよち現役客", 1, 7_000),
        ("コツコツ離脱客", 1, 30_000),
        ("流行現役客", 1, 80_000),
        ("優良現役客", 1, 75_000),
    ]


def test_cpm_thresholds_are_parameters(shop: BaseBackend) -> None:
    # With lapse at 120 days every customer has lapsed; with 300 none has.
    df = run(shop, "cpm_customers", {"as_of": AS_OF, "churn_days": 120})
    assert set(df.cpm_status) == {"lapsed"}
    df = run(shop, "cpm_customers", {"as_of": AS_OF, "churn_days": 300, "amount": 100_000})
    assert set(df.cpm_status) == {"active"}
    assert dict(rows(df, "customer_id", "cpm_group")) == {
        "c1": "steady",
        "c2": "first",
        "c3": "toddler",
        "c4": "steady",
        "c5": "steady",
    }


def test_decile(shop: BaseBackend) -> None:
    df = run(shop, "decile", {"as_of": AS_OF, "groups": 5})
    assert rows(df, "decile", "customers", "revenue", "revenue_share", "cumulative_share") == [
        (1, 1, 80_000, 0.4, 0.4),
        (2, 1, 75_000, 0.375, 0.775),
        (3, 1, 30_000, 0.15, 0.925),
        (4, 1, 8_000, 0.04, 0.965),
        (5, 1, 7_000, 0.035, 1.0),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"as_of": "yesterday"}, "as_of: 'yesterday' is not a valid date"),
        ({"method": "median"}, "method: 'median' is not one of quintile, thresholds"),
        ({"r_thresholds": "90,30"}, "r_thresholds: '90,30' is not a valid int_list"),
        ({"r_thresholds": "30; DROP TABLE orders"}, "r_thresholds"),
        ({"sort": "revenue"}, "unknown parameter(s) sort"),
    ],
)
def test_bad_parameters_are_rejected(shop: BaseBackend, params: dict, message: str) -> None:
    with pytest.raises(ParamError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(shop, "rfm", params)
    assert shop.table("orders").count().execute() == 12


def test_registry_metadata_complete() -> None:
    for t in templates():
        assert t.name_ja and t.name_en and t.description_ja and t.description_en, t.id
        assert get(t.id) is t
    assert [t.id for t in templates(search="CPM")][:1] == ["cpm"]
