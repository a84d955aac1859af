"""Opening the warehouse from a settings URL."""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend

SUPPORTED_SCHEMES = (
    "duckdb",
    "postgres",
    "postgresql",
    "pyspark",
    "clickhouse",
    "chdb",
    "bigquery",
    "snowflake",
)
# Reached through Ibis but never run by Tokui's tests (docs/backends.md).
UNTESTED_SCHEMES = ("bigquery", "snowflake")
INSTALL = {
    "duckdb": "tokui",
    "postgres": "tokui",
    "postgresql": "tokui",
    "pyspark": "'tokui[spark]'",
    "clickhouse": "'tokui[clickhouse]'",
    "chdb": "'tokui[clickhouse]'",
    "bigquery": "'ibis-framework[bigquery]==12.0.0'",
    "snowflake": "'ibis-framework[snowflake]==12.0.0'",
}


class WarehouseLockedError(RuntimeError):
    """The embedded DuckDB file is open for writing by another process."""


DEFAULT_DUCKDB_MEMORY = "4GB"


def connect(
    url: str, read_only: bool = False, memory_limit: str | None = DEFAULT_DUCKDB_MEMORY
) -> BaseBackend:
    """Open the warehouse named by an Ibis URL.

    DuckDB allows one read-write process per file; a second one gets a clear message
    naming the way out instead of DuckDB's lock error. DuckDB would otherwise take up to
    80 % of the machine's memory; on a laptop that shares it with everything else we cap
    it (it spills to disk beyond the cap). The cap goes through DuckDB's config API.
    """
    scheme = url.split("://", 1)[0]
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(
            f"unsupported warehouse URL scheme {scheme!r}; "
            f"use one of {', '.join(SUPPORTED_SCHEMES)}"
        )
    if scheme == "duckdb":
        path = url.split("://", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            extra = {"memory_limit": memory_limit} if memory_limit else {}
            return ibis.duckdb.connect(path or ":memory:", read_only=read_only, **extra)
        except Exception as exc:
            if "lock" in str(exc).lower():
                raise WarehouseLockedError(
                    f"the warehouse {path} is in use by another process (is `tokui serve` "
                    "running?). Stop it first, or send the work through the server's API."
                ) from exc
            raise
    if scheme == "postgresql":
        url = "postgres://" + url.split("://", 1)[1]
    try:
        if scheme == "pyspark":
            from tokui.warehouse import spark

            return spark.connect(url)
        if scheme in ("clickhouse", "chdb"):
            from tokui.warehouse import clickhouse

            return clickhouse.connect(url)
        return ibis.connect(url)
    except ImportError as exc:
        raise ValueError(
            f"the {scheme} warehouse needs its driver ({exc.name or 'a module'} is missing): "
            f"pip install {INSTALL[scheme]}"
        ) from exc
