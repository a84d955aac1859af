"""Apache Spark as the warehouse, through Ibis's pyspark backend.

The URL is Ibis's own: `pyspark://` with an optional warehouse folder as the path and
any Spark configuration as query parameters, e.g.

    pyspark:///srv/spark-warehouse?spark.master=spark://spark-master:7077

Static settings (the master, memory, the catalog) only take effect when the session is
created, so the session is built here with all of them rather than by Ibis (which sets
them on a running session, where Spark refuses the static ones). The tables must be in
the session's catalog: a Hive metastore on a cluster, or
`spark.sql.catalogImplementation=hive` for a local metastore that outlives the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

import ibis
import ibis.expr.operations as ops
from ibis.backends.pyspark import Backend as IbisPySpark
from ibis.backends.pyspark.datatypes import PySparkSchema


class SparkBackend(IbisPySpark):  # type: ignore[misc]
    """Ibis's pyspark backend, with in-memory tables handed to Spark as Arrow.

    Ibis goes through pandas with schema checks off: under pandas 3 a missing text
    becomes the string "nan" and an integer column with a gap turns to floats that Spark
    reads as NULL, silently. Spark 4 takes Arrow tables as they are.
    """

    def _register_in_memory_table(self, op: ops.InMemoryTable) -> None:
        data = op.data.to_pyarrow(op.schema)
        frame = self._session.createDataFrame(data, schema=PySparkSchema.from_ibis(op.schema))
        frame.createOrReplaceTempView(op.name)


def session_config(url: str) -> dict[str, str]:
    """The Spark configuration a `pyspark://` URL names."""
    parsed = urlparse(url)
    conf = dict(parse_qsl(parsed.query, keep_blank_values=True))
    path = unquote(parsed.path)
    if parsed.netloc:
        raise ValueError(
            f"pyspark URL {url!r}: put the warehouse folder in the path (pyspark:///folder) "
            "and the master in the query (?spark.master=...)"
        )
    if path and path != "/":
        conf.setdefault("spark.sql.warehouse.dir", str(Path(path).absolute()))
    return conf


def connect(url: str) -> SparkBackend:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("tokui")
    for key, value in session_config(url).items():
        builder = builder.config(key, value)
    return from_session(builder.getOrCreate())


def from_session(session: Any) -> SparkBackend:
    """Tokui's Spark backend over a running SparkSession."""
    ibis.load_backend("pyspark")  # registers ibis.options.pyspark, which compiling reads
    backend: SparkBackend = SparkBackend().connect(session)
    return backend
