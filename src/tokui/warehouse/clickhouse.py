"""ClickHouse as the warehouse: Ibis's clickhouse backend, made exact and SQL-standard.

Three things differ from the other engines, and each would silently change results:

- Ibis compiles `nunique()` to `uniq` and `quantile()` to `quantile`, both approximate
  (sampling / HyperLogLog). Tokui's compiler uses `uniqExact` and
  `quantileExactInclusive` (linear interpolation between the two nearest ranks, the
  definition DuckDB's `quantile_cont`, PostgreSQL's `percentile_cont` and Spark's
  `percentile` share), so counts and quartiles equal DuckDB's.
- An outer join fills unmatched columns with 0, '' and 1970-01-01 instead of NULL unless
  `join_use_nulls = 1`; every `fill_null` after a left join depends on the NULL.
- Dates and times use the server's time zone unless `session_timezone = 'UTC'`; stored
  times are UTC and the shop-local date is computed from them.
- A float rounds half to even, elsewhere half away from zero.
- `lag`/`lead` past the window's edge give 0 or 1970-01-01 instead of NULL, and a cast
  of floor(NaN) to an integer fails even on rows whose result is NULL; the compiler
  makes both behave as on the other engines.

Both settings go with every query of the connection. The embedded engine (chdb, through
clickhouse-connect's `chdb://` DSN) cannot receive Ibis's in-memory tables as "external
data" the way a server does over HTTP, so on chdb they are written to Memory tables
once and dropped when Ibis lets go of them.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

import clickhouse_connect
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.clickhouse import Backend as IbisClickHouse
from ibis.backends.sql.compilers.clickhouse import ClickHouseCompiler
from ibis.backends.sql.datatypes import ClickHouseType

SETTINGS: dict[str, Any] = {"join_use_nulls": 1, "session_timezone": "UTC"}


class ExactClickHouseCompiler(ClickHouseCompiler):  # type: ignore[misc]
    """ClickHouse SQL with exact distinct counts and quantiles."""

    SIMPLE_OPS: ClassVar[dict[type, str]] = {
        **ClickHouseCompiler.SIMPLE_OPS,
        ops.CountDistinct: "uniqExact",
    }

    def visit_Quantile(self, op: ops.Quantile, *, arg: Any, quantile: Any, where: Any) -> Any:
        return self._visit_quantile("quantileExactInclusive", arg, quantile, where)

    def visit_MultiQuantile(
        self, op: ops.MultiQuantile, *, arg: Any, quantile: Any, where: Any
    ) -> Any:
        return self._visit_quantile("quantilesExactInclusive", arg, quantile, where)

    def visit_LagLead(self, op: ops.Value, *, arg: Any, offset: Any, default: Any) -> Any:
        # lagInFrame/leadInFrame give the type's default (0, '', 1970-01-01) past the
        # frame's edge; for a Nullable argument that default is NULL, as in SQL's LAG.
        if default is None:
            arg = self.f.toNullable(arg)
        return super().visit_LagLead(op, arg=arg, offset=offset, default=default)

    visit_Lag = visit_Lead = visit_LagLead

    def _int_or_null(self, value: Any, dtype: dt.DataType) -> Any:
        # ClickHouse evaluates a function on NULL rows too (on a placeholder value) and
        # only masks the result: CAST(floor(0 / 0)) then fails on a row that is NULL
        # anyway. accurateCastOrNull turns NaN and infinity into NULL instead.
        return self.f.accurateCastOrNull(
            value, self.type_mapper.to_string(dtype.copy(nullable=False))
        )

    def visit_Round(self, op: ops.Round, *, arg: Any, digits: Any) -> Any:
        # ClickHouse rounds a float half to even (3902.5 -> 3902); DuckDB, Spark and
        # PostgreSQL (through numeric) half away from zero. The same arithmetic as
        # DuckDB's round: scale, round the magnitude half up, unscale.
        if not op.arg.dtype.is_floating():
            return super().visit_Round(op, arg=arg, digits=digits)
        scale = self.f.pow(10, digits) if digits is not None else sge.convert(1)
        scaled = sge.paren(arg) * scale
        result = self.f.sign(scaled) * self.f.floor(self.f.abs(scaled) + 0.5) / scale
        if op.dtype.is_integer():
            return self._int_or_null(result, op.dtype)
        return self.cast(result, op.dtype)

    def visit_Floor(self, op: ops.Floor, *, arg: Any) -> Any:
        return self._int_or_null(self.f.floor(arg), op.dtype)

    def visit_Ceil(self, op: ops.Ceil, *, arg: Any) -> Any:
        return self._int_or_null(self.f.ceil(arg), op.dtype)


_COMPILER = ExactClickHouseCompiler()


class ClickHouseBackend(IbisClickHouse):  # type: ignore[misc]
    """Ibis's ClickHouse backend with the exact compiler."""

    compiler = _COMPILER


class ChdbBackend(ClickHouseBackend):
    """The embedded engine: in-memory tables become Memory tables before a query."""

    def _collect_in_memory_tables(
        self, expr: Any, external_tables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        tables: dict[str, Any] = super()._collect_in_memory_tables(expr, external_tables)
        state = self.__dict__.setdefault("_tokui_memtables", _MemtableState())
        state.drop_released(self.con)
        for name, op in tables.items():
            if name not in state.loaded:
                self._materialise(name, op)
                state.loaded.add(name)
                if isinstance(op, ops.InMemoryTable):
                    weakref.finalize(op, state.release, name)
        return {}

    def _materialise(self, name: str, op: Any) -> None:
        mapper = self.compiler.type_mapper
        columns = ", ".join(
            f"{_ident(col)} {mapper.to_string(typ.copy(nullable=not typ.is_nested()))}"
            for col, typ in op.schema.items()
        )
        self.con.command(f"CREATE TABLE IF NOT EXISTS {_ident(name)} ({columns}) ENGINE = Memory")
        data = op.data.to_pyarrow(op.schema)
        if data.num_rows:
            self.con.insert_arrow(name, data)


class _MemtableState:
    """Memory tables made for in-memory tables; dropped after Ibis released them.

    The finalizer only notes the name: it may run inside another query on the same
    client, so the DROP waits for the next query.
    """

    def __init__(self) -> None:
        self.loaded: set[str] = set()
        self.released: list[str] = []
        self.lock = threading.Lock()

    def release(self, name: str) -> None:
        with self.lock:
            self.released.append(name)

    def drop_released(self, client: Any) -> None:
        with self.lock:
            names, self.released = self.released, []
        for name in names:
            self.loaded.discard(name)
            with contextlib.suppress(Exception):
                client.command(f"DROP TABLE IF EXISTS {_ident(name)}")


def _ident(name: str) -> str:
    return str(sg.to_identifier(name, quoted=True).sql("clickhouse"))


def connect(url: str) -> ClickHouseBackend:
    """A ClickHouse server (`clickhouse://user:password@host:8123/db`) or the embedded
    engine (`chdb:///path/to/dir`, `chdb://memory`)."""
    ibis.load_backend("clickhouse")  # registers ibis.options.clickhouse
    client = clickhouse_connect.get_client(dsn=url, settings=dict(SETTINGS))
    cls = ChdbBackend if url.startswith("chdb:") else ClickHouseBackend
    backend: ClickHouseBackend = cls.from_connection(client)
    return backend


def column_type(dtype: dt.DataType) -> str:
    """The ClickHouse type of a canonical column.

    Date is 1970-2149 in ClickHouse (a birth date before 1970 would not fit) and DateTime
    has whole seconds, so dates are Date32 and times DateTime64(6), like DuckDB's.
    """
    if dtype.is_date():
        name = "Date32"
    elif dtype.is_timestamp():
        name = "DateTime64(6)"
    else:
        return str(ClickHouseType.to_string(dtype))
    return f"Nullable({name})" if dtype.nullable else name
