"""TOKUI_WAREHOUSE_URL for the distributed engines, and what Tokui changes in them."""

from __future__ import annotations

import gc
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from tokui.config import load_settings
from tokui.warehouse import bulk_load, connect, create_schema, upsert
from tokui.warehouse.load import LoadError
from tokui.warehouse.spark import session_config


def test_pyspark_url_names_the_session_configuration() -> None:
    conf = session_config(
        "pyspark:///srv/spark-warehouse?spark.master=spark://master:7077"
        "&spark.sql.shuffle.partitions=64"
    )
    assert conf == {
        "spark.master": "spark://master:7077",
        "spark.sql.shuffle.partitions": "64",
        "spark.sql.warehouse.dir": "/srv/spark-warehouse",
    }
    assert session_config("pyspark://") == {}


def test_pyspark_url_with_a_host_is_refused() -> None:
    with pytest.raises(ValueError, match="put the warehouse folder in the path"):
        session_config("pyspark://master:7077")


def test_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(ValueError, match="pyspark, clickhouse, chdb, bigquery, snowflake"):
        connect("mysql://shop@db/shop")


@pytest.mark.parametrize(
    ("url", "install"),
    [
        ("bigquery://my-project/tokui", "ibis-framework[bigquery]"),
        ("snowflake://u:p@account/DB/PUBLIC", "ibis-framework[snowflake]"),
    ],
)
def test_untested_backend_without_its_driver_says_what_to_install(url: str, install: str) -> None:
    with pytest.raises(ValueError, match=r"needs its driver .*" + install.replace("[", r"\[")):
        connect(url)


def test_settings_accept_the_new_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for url in ("pyspark:///srv/wh", "clickhouse://u:p@ch:8123/tokui", "chdb:///srv/chdb"):
        monkeypatch.setenv("TOKUI_WAREHOUSE_URL", url)
        settings = load_settings(tmp_path)
        assert settings.warehouse_url == url
        assert not settings.is_embedded_warehouse


def test_clickhouse_counts_and_quantiles_are_exact(clickhouse: BaseBackend) -> None:
    orders = clickhouse.table("orders")
    sql = str(
        clickhouse.compile(
            orders.aggregate(
                n=orders.customer_id.nunique(),
                q=orders.total.quantile(0.25),
                m=orders.total.median(),
            )
        )
    )
    assert "uniqExact(" in sql and "quantileExactInclusive(0.25)" in sql
    assert "uniq(" not in sql and "quantile(" not in sql


def test_clickhouse_exact_distinct_beyond_sampling(clickhouse: BaseBackend) -> None:
    # 200,000 distinct values: uniq (HyperLogLog-like) is off by hundreds here.
    n = 200_000
    t = ibis.memtable(pa.table({"v": pa.array([f"c{i}" for i in range(n)])}))
    assert clickhouse.execute(t.v.nunique()) == n
    q = ibis.memtable(pa.table({"x": pa.array([1.0, 2.0, 3.0, 4.0])}))
    # Linear interpolation between ranks, as DuckDB's quantile_cont: 1 + 0.75 * (2 - 1).
    assert clickhouse.execute(q.x.quantile(0.25)) == 1.75


def test_clickhouse_outer_joins_give_nulls(clickhouse: BaseBackend) -> None:
    left = ibis.memtable({"k": ["a", "b"]})
    right = ibis.memtable({"k": ["a"], "n": [5]})
    j = left.left_join(right, "k").select("k", "n").order_by("k").execute()
    assert j["n"].isna().tolist() == [False, True]


def test_clickhouse_rounds_half_away_from_zero(clickhouse: BaseBackend) -> None:
    t = ibis.memtable({"x": [2.5, 3902.5, -2.5, 0.125]})
    got = clickhouse.execute(t.select(r=t.x.round(0), r2=t.x.round(2)))
    assert got["r"].tolist() == [3.0, 3903.0, -3.0, 0.0]
    assert got["r2"].tolist() == [2.5, 3902.5, -2.5, 0.13]


def test_chdb_drops_memory_tables_it_no_longer_needs(clickhouse: BaseBackend) -> None:
    t = ibis.memtable({"x": [1, 2, 3]})
    assert clickhouse.execute(t.x.sum()) == 6
    name = t.op().name
    assert name in clickhouse.list_tables()
    del t
    gc.collect()
    clickhouse.execute(ibis.memtable({"y": [1]}).y.sum())  # the next query drops it
    assert name not in clickhouse.list_tables()


def test_append_only_engines_refuse_upserts(clickhouse: BaseBackend) -> None:
    frame = clickhouse.table("coupons").to_pyarrow()
    with pytest.raises(LoadError, match="coupons: imports that update rows by key need"):
        upsert(clickhouse, "coupons", frame)


def test_bulk_load_replace_on_clickhouse(clickhouse: BaseBackend, chdb_path: Path) -> None:
    # A database of its own in the same engine: the shop's tables must stay as loaded.
    clickhouse.create_database("bulk_load_test", force=True)
    con = connect(f"chdb://{chdb_path}?database=bulk_load_test")
    assert con.list_tables() == []
    create_schema(con)
    rows: dict[str, list[Any]] = {
        "coupon_id": ["A", "B"],
        "name": ["a", "b"],
        "discount_type": ["amount", "amount"],
        "discount_value": [100, 200],
        "created_at": [datetime(2025, 1, 1, 3, 0, 0, 250), datetime(1969, 12, 31)],
    }
    assert bulk_load(con, "coupons", pa.table(rows)) == 2
    assert con.table("coupons").count().execute() == 2
    assert (
        bulk_load(con, "coupons", pa.table({k: v[:1] for k, v in rows.items()}), replace=True) == 1
    )
    got = con.table("coupons").execute()
    assert got["coupon_id"].tolist() == ["A"]
    # Microseconds survive (DateTime64(6), not DateTime).
    assert got["created_at"].tolist() == [datetime(2025, 1, 1, 3, 0, 0, 250)]
    con.disconnect()
