"""The warehouse engines Tokui targets, and how each one is tested (docs/backends.md).

"runtime" engines run the whole analysis catalogue, customer_features and segment
compilation in CI and must give DuckDB's rows; "compile" engines only have their
generated SQL snapshot-tested: Tokui has never run it there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WarehouseBackend:
    name: str  # Ibis's backend name (`con.name`), the key of Template.unsupported
    title: str
    tested: str  # runtime or compile
    example_url: str
    extra: str  # what to install beside tokui


WAREHOUSE_BACKENDS: tuple[WarehouseBackend, ...] = (
    WarehouseBackend("duckdb", "DuckDB", "runtime", "duckdb:///srv/tokui/warehouse.duckdb", ""),
    WarehouseBackend(
        "postgres", "PostgreSQL", "runtime", "postgres://tokui:secret@db:5432/tokui", ""
    ),
    WarehouseBackend(
        "pyspark",
        "Apache Spark",
        "runtime",
        "pyspark:///srv/spark-warehouse?spark.master=spark://spark-master:7077",
        "tokui[spark]",
    ),
    WarehouseBackend(
        "clickhouse",
        "ClickHouse",
        "runtime",
        "clickhouse://tokui:secret@clickhouse:8123/tokui",
        "tokui[clickhouse]",
    ),
    WarehouseBackend(
        "bigquery",
        "BigQuery",
        "compile",
        "bigquery://my-project/tokui",
        "ibis-framework[bigquery]==12.0.0",
    ),
    WarehouseBackend(
        "snowflake",
        "Snowflake",
        "compile",
        "snowflake://user:secret@account/TOKUI/PUBLIC?warehouse=COMPUTE_WH",
        "ibis-framework[snowflake]==12.0.0",
    ),
)

BACKENDS: tuple[str, ...] = tuple(b.name for b in WAREHOUSE_BACKENDS)
RUNTIME_BACKENDS: tuple[str, ...] = tuple(
    b.name for b in WAREHOUSE_BACKENDS if b.tested == "runtime"
)
COMPILE_ONLY_BACKENDS: tuple[str, ...] = tuple(
    b.name for b in WAREHOUSE_BACKENDS if b.tested == "compile"
)
