"""One small simulated shop on DuckDB (the reference) and on each distributed engine.

Spark: one local session for the whole test run (two cores, UI off, two shuffle
partitions, bound to 127.0.0.1, nothing reached over the network), created on first
use and stopped at the end. ClickHouse: the embedded chdb engine in a temporary folder.
Both get the shop through Tokui's own create_schema and bulk_load, and their
customer_features through the same refresh step as DuckDB.

The engines' extras (tokui[spark], tokui[clickhouse]) are part of the test extra, so CI
always has them; TOKUI_REQUIRE_ENGINES=1 (set by .ci/run) turns a missing one into a
failure instead of a skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import ibis
import pytest
from ibis.backends import BaseBackend

from tokui.analytics.base import as_of_date
from tokui.demo import SimConfig, generate
from tokui.refresh.features import materialise_features
from tokui.warehouse import bulk_load, create_schema
from tokui.warehouse.schema import TABLES

SHOP = SimConfig(customers=500, years=1, seed=1)
REQUIRE_ENGINES = os.environ.get("TOKUI_REQUIRE_ENGINES") == "1"

SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # A tiny shop: compiling Java for each query costs more than it saves, so Spark
    # interprets its plans, and the driver JVM only uses the quick JIT tier. About a
    # third less CPU for the suite; the results are the same.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


def _needs(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        message = f"needs {module}: pip install 'tokui[{extra}]'"
        if REQUIRE_ENGINES:
            pytest.fail(message)
        pytest.skip(message)


def load_shop(source: BaseBackend, target: BaseBackend) -> None:
    """Copy every canonical table through Tokui's own loader."""
    create_schema(target)
    for name in TABLES:
        frame = source.table(name).to_pyarrow()
        if frame.num_rows:
            bulk_load(target, name, frame)


@pytest.fixture(scope="session")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    """The reference shop on DuckDB, with customer_features refreshed."""
    con = ibis.duckdb.connect(str(tmp_path_factory.mktemp("ref") / "shop.duckdb"))
    generate(con, SHOP)
    materialise_features(con, as_of_date(con, {}))
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def shop_as_of(duck: BaseBackend) -> date:
    day: date = as_of_date(duck, {})
    return day


@pytest.fixture(scope="session")
def spark(
    duck: BaseBackend, shop_as_of: date, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BaseBackend]:
    _needs("pyspark", "spark")
    from pyspark.sql import SparkSession

    from tokui.warehouse.spark import from_session

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    folder: Path = tmp_path_factory.mktemp("spark")
    builder = SparkSession.builder.appName("tokui-tests")
    for key, value in {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.local.dir": str(folder / "scratch"),
    }.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    con = from_session(session)
    load_shop(duck, con)
    materialise_features(con, shop_as_of)
    yield con
    session.stop()


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The embedded engine's folder: one per process (chdb refuses a second path)."""
    _needs("chdb", "clickhouse")
    folder = tmp_path_factory.mktemp("chdb")
    yield folder / "db"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def clickhouse(duck: BaseBackend, shop_as_of: date, chdb_path: Path) -> Iterator[BaseBackend]:
    from tokui.warehouse import connect

    con = connect(f"chdb://{chdb_path}")
    load_shop(duck, con)
    materialise_features(con, shop_as_of)
    yield con
    con.disconnect()
