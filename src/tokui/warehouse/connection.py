"""Opening the warehouse from a settings URL."""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend

SUPPORTED_SCHEMES = ("duckdb", "postgres", "postgresql")


class WarehouseLockedError(RuntimeError):
    """The embedded DuckDB file is open for writing by another process."""


def connect(url: str, read_only: bool = False) -> BaseBackend:
    """Open the warehouse named by an Ibis URL.

    DuckDB allows one read-write process per file; a second one gets a clear message
    naming the way out instead of DuckDB's lock error.
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
            return ibis.duckdb.connect(path or ":memory:", read_only=read_only)
        except Exception as exc:
            if "lock" in str(exc).lower():
                raise WarehouseLockedError(
                    f"the warehouse {path} is in use by another process (is `tokui serve` "
                    "running?). Stop it first, or send the work through the server's API."
                ) from exc
            raise
    if scheme == "postgresql":
        url = "postgres://" + url.split("://", 1)[1]
    return ibis.connect(url)
