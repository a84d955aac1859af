from __future__ import annotations

from pathlib import Path

import pytest

from tokui.warehouse import TABLES, connect, create_schema
from tokui.warehouse.schema import create_table_sql

DOCS = Path(__file__).parents[2] / "docs" / "data-model.md"


def test_creates_every_table_with_declared_types_and_keys(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    created = create_schema(con)
    assert sorted(created) == sorted(TABLES)
    for name, spec in TABLES.items():
        schema = con.table(name).schema()
        assert list(schema.names) == spec.column_names
        for col in spec.columns:
            assert schema[col.name].nullable == col.nullable, (name, col.name)
    # a second run creates nothing and keeps data
    assert create_schema(con) == []
    con.disconnect()


def test_primary_key_is_enforced(warehouse_url: str) -> None:
    import pandas as pd

    from tokui.warehouse import bulk_load
    from tokui.warehouse.load import LoadError

    con = connect(warehouse_url)
    create_schema(con)
    row = {
        "coupon_id": ["c1"],
        "name": ["初回10%OFF"],
        "discount_type": ["percent"],
        "discount_value": [10],
        "created_at": [pd.Timestamp("2026-01-01")],
    }
    bulk_load(con, "coupons", pd.DataFrame(row))
    with pytest.raises(Exception, match=r"(?i)constraint|duplicate|unique"):
        bulk_load(con, "coupons", pd.DataFrame(row))
    with pytest.raises(LoadError, match="appears 2 times"):
        bulk_load(con, "coupons", pd.concat([pd.DataFrame(row)] * 2))
    assert con.table("coupons").count().execute() == 1
    con.disconnect()


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_ddl_quotes_identifiers(dialect: str) -> None:
    sql = create_table_sql(TABLES["order_items"], dialect)
    assert 'PRIMARY KEY ("order_id", "line_no")' in sql
    assert '"quantity" INT' in sql


def test_data_model_doc_is_current() -> None:
    from tokui.warehouse.docs import render

    text = DOCS.read_text(encoding="utf-8")
    assert text == render(), "regenerate: python -m tokui.warehouse.docs > docs/data-model.md"
    for spec in TABLES.values():
        assert f"## {spec.name}" in text, spec.name
        for col in spec.columns:
            assert f"| `{col.name}` |" in text, (spec.name, col.name)
