"""Put a table read from the state DB and a warehouse expression on one engine.

Measurement joins what the state DB knows (who was enrolled, held out, sent, clicked)
with what the warehouse knows (orders). The two live in different databases, so one
side has to move; the smaller one does. The state-DB side is already in memory (an
Arrow table read through SQLAlchemy): when it is the smaller, it goes into the warehouse
as an Ibis memtable and the join runs there; when the warehouse side is smaller (a
short period of orders against a large send log), the warehouse rows are fetched once
and both sides meet in an in-process DuckDB. Either way the join itself is one set-based
expression, the same code on every engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa


@dataclass(frozen=True)
class Placed:
    local: ibis.Table
    remote: ibis.Table
    where: str  # "warehouse" or "local"


def colocate(local: pa.Table, remote: ibis.Table, force: str | None = None) -> Placed:
    """`local` (rows from the state DB) and `remote` (a warehouse expression) on one engine.

    `force` ("warehouse" or "local") overrides the size rule, for tests.
    """
    where = force
    if where is None:
        remote_rows = int(remote.count().to_pyarrow().as_py())
        where = "warehouse" if local.num_rows <= remote_rows else "local"
    if where == "warehouse":
        return Placed(ibis.memtable(local), remote, where)
    con = ibis.duckdb.connect()
    fetched = remote.to_pyarrow()
    return Placed(
        con.create_table("state_side", local), con.create_table("warehouse_side", fetched), where
    )
