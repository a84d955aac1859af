"""First loads into empty DuckDB tables: built apart with their key, swapped in at commit.

The threshold is lowered so the small real samples take the path big files take.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ibis.backends import BaseBackend

import tokui.ingest.run as run
import tokui.warehouse.load as load
from tokui.ingest import import_file
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import TABLES, create_schema

DATA = Path(__file__).parent / "data"
SAMPLES = [
    ("shopify_orders.csv", "shopify_orders"),
    ("eccube_orders.csv", "eccube_orders"),
    ("cdnow.csv", "generic_transactions"),
]


def _open(path: Path) -> BaseBackend:
    con = connect(f"duckdb://{path}")
    create_schema(con)
    return con


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[BaseBackend]:
    con = _open(tmp_path / "w.duckdb")
    yield con
    con.disconnect()


@pytest.fixture
def build_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "BUILD_MIN_ROWS", 1)


def snapshot(con: BaseBackend) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for name, spec in TABLES.items():
        rows = con.table(name).to_pyarrow().to_pylist()
        out[name] = sorted((tuple(r[c] for c in spec.column_names) for r in rows), key=repr)
    return out


def leftovers(con: BaseBackend) -> list[str]:
    return [t for t in con.list_tables() if t.startswith(load.BUILD_PREFIX)]


def keys_of(con: BaseBackend, table: str) -> list[list[str]]:
    rows = con.con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY' AND table_name = ?",
        [table],
    ).fetchall()
    return [list(r[0]) for r in rows]


def test_first_load_matches_the_ordinary_insert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows, counts, column types, nullability and keys either way."""
    real = load.build_table
    built_tables: list[str] = []

    def recording(raw: Any, spec: Any, table: Any, rows: Any = None) -> str:
        built_tables.append(spec.name)
        name: str = real(raw, spec, table, rows)
        return name

    monkeypatch.setattr(load, "build_table", recording)
    results = []
    for threshold in (10**12, 1):
        monkeypatch.setattr(run, "BUILD_MIN_ROWS", threshold)
        con = _open(tmp_path / f"w{threshold}.duckdb")
        counts = [import_file(con, None, DATA / f, p).counts() for f, p in SAMPLES]
        schemas = {t: con.table(t).schema() for t in ("customers", "orders", "order_items")}
        pks = {t: keys_of(con, t) for t in ("customers", "orders", "order_items")}
        results.append((snapshot(con), counts, schemas, pks, leftovers(con)))
        con.disconnect()
        if threshold > 1:
            assert built_tables == []
    ordinary, built = results
    assert built == ordinary
    # Only the first file found the tables empty.
    assert sorted(built_tables) == ["customers", "order_items", "orders"]
    assert built[1][0]["orders"] == {"inserted": 19, "updated": 0, "unchanged": 0, "rejected": 0}
    assert built[3]["order_items"] == [["order_id", "line_no"]]
    assert built[4] == []
    assert built[3]["orders"] == [["order_id"]]


def test_built_table_keeps_its_key_after_reopening(tmp_path: Path, build_always: None) -> None:
    path = tmp_path / "w.duckdb"
    con = _open(path)
    assert import_file(con, None, DATA / "cdnow.csv", "generic_transactions").ok
    con.disconnect()
    con = _open(path)
    with pytest.raises(Exception, match=r"(?i)duplicate key|primary key"):
        con.con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, status, subtotal, discount,"
            " shipping_fee, points_used, total, points_earned, is_gift) SELECT order_id,"
            " customer_id, ordered_at, status, subtotal, discount, shipping_fee, points_used,"
            " total, points_earned, is_gift FROM orders LIMIT 1"
        )
    assert con.table("orders").count().execute() == 20
    con.disconnect()


def test_reimport_after_first_load_changes_nothing(duck: BaseBackend, build_always: None) -> None:
    import_file(duck, None, DATA / "shopify_orders.csv", "shopify_orders")
    before = snapshot(duck)
    again = import_file(duck, None, DATA / "shopify_orders.csv", "shopify_orders")
    assert {t: (c.inserted, c.updated) for t, c in again.tables.items()} == {
        "customers": (0, 0),
        "orders": (0, 0),
        "order_items": (0, 0),
    }
    assert again.tables["order_items"].unchanged == 40
    assert snapshot(duck) == before


def test_dry_run_builds_nothing(duck: BaseBackend, build_always: None) -> None:
    r = import_file(duck, None, DATA / "shopify_orders.csv", "shopify_orders", dry_run=True)
    assert r.status == "dry_run"
    assert r.tables["order_items"].inserted == 40
    assert duck.table("orders").count().execute() == 0
    assert leftovers(duck) == []


def test_failure_after_building_leaves_the_warehouse_as_it_was(
    duck: BaseBackend, build_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customers already hold rows (merged in the transaction); orders and lines are
    empty (built apart). A failing merge rolls back the swaps and drops the builds."""
    import_file(duck, None, DATA / "shopify_customers.csv", "shopify_customers")
    before = snapshot(duck)
    real = run._merge_sql

    def failing(con: BaseBackend, spec: Any, stage: str) -> str:
        sql: str = real(con, spec, stage)
        return sql.replace("INSERT INTO", "INSERT INTO nope") if spec.name == "customers" else sql

    monkeypatch.setattr(run, "_merge_sql", failing)
    with pytest.raises(Exception):  # noqa: B017 - the backend's error, whatever its type
        import_file(duck, None, DATA / "shopify_orders.csv", "shopify_orders")
    assert snapshot(duck) == before
    assert leftovers(duck) == []
    assert keys_of(duck, "orders") == [["order_id"]]


def test_failed_build_drops_the_others(
    duck: BaseBackend, build_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = load.build_table

    def failing(raw: Any, spec: Any, table: Any, rows: Any = None) -> str:
        if spec.name == "customers":
            raise RuntimeError("disk full")
        name: str = real(raw, spec, table, rows)
        return name

    monkeypatch.setattr(load, "build_table", failing)
    before = snapshot(duck)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(duck, None, DATA / "shopify_orders.csv", "shopify_orders")
    assert snapshot(duck) == before
    assert leftovers(duck) == []


def test_swap_refuses_a_table_written_meanwhile(duck: BaseBackend) -> None:
    """A row that arrived between the check and the swap is never dropped."""
    import pyarrow as pa

    batch = load.conform(
        TABLES["coupons"],
        pa.table(
            {
                "coupon_id": ["c1"],
                "name": ["初回10%OFF"],
                "discount_type": ["percent"],
                "discount_value": [10],
                "created_at": pa.array([0], pa.timestamp("us")),
            }
        ),
    )
    build = load.build_table(duck.con, TABLES["coupons"], batch)
    load.bulk_load(duck, "coupons", batch)
    from tokui.warehouse.sql import transaction

    with (
        pytest.raises(load.LoadError, match="written to during the import"),
        transaction(duck) as execute,
    ):
        load.swap_in(execute, TABLES["coupons"], build)
    load.drop_build(duck, build)
    assert duck.table("coupons").count().execute() == 1
    assert leftovers(duck) == []


def test_key_order_clusters_by_the_first_bytes() -> None:
    import pyarrow as pa

    spec = TABLES["orders"]
    keys = ["b", "a10", "", "a1", "ab-longer-than-8-bytes", "a"]
    order = load.key_order(pa.table({"order_id": keys}), spec)
    assert [keys[i] for i in order] == ["", "a", "a1", "a10", "ab-longer-than-8-bytes", "b"]


def test_builds_left_by_a_dead_import_are_cleared(duck: BaseBackend, build_always: None) -> None:
    duck.con.execute(f'CREATE TABLE "{load.BUILD_PREFIX}orders_dead" (x INTEGER)')
    assert import_file(duck, None, DATA / "cdnow.csv", "generic_transactions").ok
    assert leftovers(duck) == []
    assert duck.table("orders").count().execute() == 20


def test_a_problem_in_a_later_table_drops_the_tables_built_early(
    duck: BaseBackend, build_always: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customers and orders start building as soon as they are mapped; a bad quantity
    in the lines, mapped after them, fails the file and nothing is left behind."""
    real = load.build_table
    started: list[str] = []

    def recording(raw: Any, spec: Any, table: Any, rows: Any = None) -> str:
        started.append(spec.name)
        name: str = real(raw, spec, table, rows)
        return name

    monkeypatch.setattr(load, "build_table", recording)
    path = tmp_path / "transactions.csv"
    path.write_text(
        "customer_id,date,amount,quantity,product_id,order_id\n"
        "C1,2024-01-05 10:00:00,980,1,P1,1\n"
        "C2,2024-01-06 11:30:00,1960,two,P2,2\n",
        encoding="utf-8",
    )
    before = snapshot(duck)
    result = import_file(duck, None, path, "generic_transactions")
    assert sorted(started) == ["customers", "orders"]
    assert result.status == "failed"
    assert [e.as_dict() for e in result.errors] == [
        {
            "file": "transactions.csv",
            "row": 3,
            "column": "quantity",
            "value": "two",
            "rule": "number_format",
            "message": "not a number: 'two' (for order_items.quantity)",
        },
        {
            "file": "transactions.csv",
            "row": 3,
            "column": "amount, quantity",
            "value": "1960, two",
            "rule": "number_format",
            "message": "not a number: 'two' (for order_items.unit_price)",
        },
    ]
    assert {t: c.inserted for t, c in result.tables.items()} == {
        "customers": 0,
        "orders": 0,
        "order_items": 0,
    }
    assert snapshot(duck) == before
    assert leftovers(duck) == []
