"""A warehouse made before the customers' address columns existed gets them from
create_schema (`tokui init` again), keeps its rows, and loads by column name, so the
added columns at the end of the table take the right values."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from tokui.warehouse import bulk_load, connect, create_schema, upsert
from tokui.warehouse.schema import TABLES, create_table_sql, dialect_of
from tokui.warehouse.sql import transaction

NEW = ("address1", "address2")


def test_old_customers_table_gains_the_address_columns(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    spec = TABLES["customers"]
    old = replace(spec, columns=tuple(c for c in spec.columns if c.name not in NEW))
    with transaction(con) as execute:
        execute(create_table_sql(old, dialect_of(con)))
    base = {
        "registered_at": [pd.Timestamp("2024-01-01 03:00")],
        "email_opt_in": [True],
        "line_opt_in": [False],
        "dm_opt_in": [True],
        "push_opt_in": [False],
        "time_zone": ["Asia/Tokyo"],
    }
    con.insert("customers", pd.DataFrame({"customer_id": ["c0"], **base}))
    created = create_schema(con)
    assert "customers" not in created
    assert list(con.table("customers").columns)[-2:] == list(NEW)
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {"customer_id": ["c1"], "postal_code": ["1000005"], "address1": ["千代田区丸の内"],
             "address2": ["1-1-1"], "phone": ["03-0000-0000"], **base}
        ),
    )  # fmt: skip
    upsert(
        con,
        "customers",
        pd.DataFrame(
            {"customer_id": ["c2"], "address1": ["大阪市北区"], "address2": ["2-2"], **base}
        ),
    )
    rows = {
        r["customer_id"]: (r["postal_code"], r["address1"], r["address2"], r["phone"])
        for r in con.table("customers").to_pyarrow().to_pylist()
    }
    assert rows == {
        "c0": (None, None, None, None),
        "c1": ("1000005", "千代田区丸の内", "1-1-1", "03-0000-0000"),
        "c2": (None, "大阪市北区", "2-2", None),
    }
    assert create_schema(con) == []  # nothing more to add
    con.disconnect()
