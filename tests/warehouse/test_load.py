from __future__ import annotations

import pandas as pd
import pytest

from tokui.warehouse import bulk_load, connect, create_schema, upsert
from tokui.warehouse.load import LoadError


def _products(rows: list[tuple[str, str, int, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "category": ["米"] * len(rows),
            "price": [r[2] for r in rows],
            "is_subscription": [False] * len(rows),
            "is_gift": [r[3] for r in rows],
            "stock_status": ["in_stock"] * len(rows),
        }
    )


def _table(con, name: str, key: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return con.table(name).order_by(key).execute().reset_index(drop=True)


def test_upsert_is_idempotent_and_incremental(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    create_schema(con)
    first = _products(
        [("p1", "魚沼産コシヒカリ 5kg", 4200, False), ("p2", "新米 2kg", 1800, False)]
    )
    s1 = upsert(con, "products", first)
    assert (s1.inserted, s1.updated, s1.unchanged) == (2, 0, 0)
    before = _table(con, "products", "product_id")

    s2 = upsert(con, "products", first)
    assert (s2.inserted, s2.updated, s2.unchanged) == (0, 0, 2)
    pd.testing.assert_frame_equal(_table(con, "products", "product_id"), before)

    later = _products(
        [
            ("p1", "魚沼産コシヒカリ 5kg", 4200, False),
            ("p2", "新米 2kg", 1980, True),
            ("p3", "玄米 5kg", 3500, False),
        ]
    )
    s3 = upsert(con, "products", later)
    assert (s3.inserted, s3.updated, s3.unchanged) == (1, 1, 1)
    after = _table(con, "products", "product_id")
    assert after["price"].tolist() == [4200, 1980, 3500]
    assert after["is_gift"].tolist() == [False, True, False]
    con.disconnect()


def test_null_to_value_counts_as_change(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    create_schema(con)
    df = _products([("p1", "味噌 1kg", 980, False)])
    upsert(con, "products", df)
    df["subcategory"] = ["味噌"]
    stats = upsert(con, "products", df)
    assert (stats.inserted, stats.updated) == (0, 1)
    assert con.table("products").subcategory.execute().tolist() == ["味噌"]
    con.disconnect()


def test_composite_key_upsert(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    create_schema(con)
    items = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2"],
            "line_no": [1, 2, 1],
            "product_id": ["p1", "p2", "p1"],
            "quantity": [1, 2, 1],
            "unit_price": [100, 200, 100],
            "amount": [100, 400, 100],
        }
    )
    assert upsert(con, "order_items", items).inserted == 3
    items.loc[1, "quantity"] = 3
    items.loc[1, "amount"] = 600
    stats = upsert(con, "order_items", items)
    assert (stats.inserted, stats.updated, stats.unchanged) == (0, 1, 2)
    total = con.table("order_items").amount.sum().execute()
    assert total == 800
    con.disconnect()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stock_status": ["sold"]}, r"products\.stock_status: row 1 has 'sold'"),
        ({"price": ["abc"]}, r"products\.price: cannot read values"),
        ({"name": [None]}, r"products\.name: empty value in row 1"),
        ({"colour": ["red"]}, r"unknown columns: colour"),
    ],
)
def test_bad_batch_changes_nothing(warehouse_url: str, change: dict, message: str) -> None:
    con = connect(warehouse_url)
    create_schema(con)
    upsert(con, "products", _products([("p0", "既存の商品", 100, False)]))
    bad = _products([("p1", "はちみつ", 1200, False)])
    for k, v in change.items():
        bad[k] = v
    with pytest.raises(LoadError, match=message):
        upsert(con, "products", bad)
    assert con.table("products").product_id.execute().tolist() == ["p0"]
    con.disconnect()


def test_bulk_load_replace(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    create_schema(con)
    assert bulk_load(con, "products", _products([("a", "A", 1, False), ("b", "B", 2, False)])) == 2
    bulk_load(con, "products", _products([("c", "C", 3, True)]), replace=True)
    assert con.table("products").product_id.execute().tolist() == ["c"]
    con.disconnect()
