"""BigQuery and Snowflake: the SQL Tokui would send, compiled by Ibis and snapshot-tested.

Never run: Tokui's tests have no BigQuery or Snowflake (docs/backends.md says so). What
is checked: every template the capability table does not exclude compiles for the
dialect, each excluded one is refused with its declared reason, and the SQL equals the
snapshot in tests/backends/snapshots/<dialect>/, so a change in Tokui, Ibis or sqlglot
that changes the SQL shows up in review. Regenerate after a deliberate change with
TOKUI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/backends/test_compile_only.py
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any, cast

import ibis
import pytest
from ibis.backends import BaseBackend

from tests.backends.test_engines import definitions
from tokui.analytics.registry import ParamError, Template, templates
from tokui.analytics.run import build
from tokui.features.customer_features import customer_features_expr
from tokui.segments.compile import Context, compile_condition
from tokui.warehouse.backends import COMPILE_ONLY_BACKENDS

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TOKUI_UPDATE_SNAPSHOTS") == "1"
AS_OF = date(2026, 10, 31)  # fixed, so the SQL does not follow the shop's last order
CATALOGUE = templates()
MEMTABLE = re.compile(r"ibis_[a-z]+_memtable_[a-z0-9]+")
EXCEPT = re.compile(r"\b(EXCEPT|EXCLUDE) \(([^()]*)\)")


class CompileOnly:
    """Stands in for a warehouse Tokui only compiles for.

    Tables (and the few values a template looks up before it builds, such as the first
    subscription month) come from the DuckDB shop; `name` is the target, so the
    capability table applies exactly as on a real connection.
    """

    def __init__(self, name: str, source: BaseBackend) -> None:
        self.name = name
        self._source = source

    def table(self, name: str, **kwargs: Any) -> ibis.Table:
        return self._source.table(name, **kwargs)

    def list_tables(self, **kwargs: Any) -> list[str]:
        return list(self._source.list_tables(**kwargs))


def to_sql(expr: ibis.Expr, dialect: str) -> str:
    """The dialect's SQL, made stable: Ibis's random in-memory table names numbered, and
    the columns of `* EXCEPT (...)` sorted (Ibis keeps them in a set, whose order
    changes from one Python process to the next)."""
    sql = str(ibis.to_sql(expr, dialect=dialect))
    names: dict[str, str] = {}
    for found in MEMTABLE.findall(sql):
        names.setdefault(found, f"memtable_{len(names) + 1}")
    sql = MEMTABLE.sub(lambda m: names[m.group(0)], sql)
    sql = EXCEPT.sub(lambda m: f"{m.group(1)} ({', '.join(sorted(m.group(2).split(', ')))})", sql)
    return sql.rstrip() + "\n"


def check(dialect: str, name: str, sql: str) -> None:
    path = SNAPSHOTS / dialect / f"{name}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; generate with TOKUI_UPDATE_SNAPSHOTS=1"
    assert sql == path.read_text(encoding="utf-8"), f"{dialect} SQL of {name} changed"


@pytest.fixture(scope="module", params=COMPILE_ONLY_BACKENDS)
def target(request: pytest.FixtureRequest, duck: BaseBackend) -> BaseBackend:
    return cast(BaseBackend, CompileOnly(request.param, duck))


@pytest.mark.parametrize("template", CATALOGUE, ids=lambda t: t.id)
def test_template_sql(target: BaseBackend, template: Template) -> None:
    if target.name in template.unsupported:
        with pytest.raises(ParamError, match=re.escape(template.unsupported[target.name])):
            build(target, template, {"as_of": AS_OF})
        # The reason is true: Ibis cannot compile it for this dialect either.
        with pytest.raises(ibis.common.exceptions.OperationNotDefinedError):
            to_sql(template.build(target, template.resolve({"as_of": AS_OF})), target.name)
        return
    check(target.name, template.id, to_sql(build(target, template, {"as_of": AS_OF}), target.name))


def test_customer_features_sql(target: BaseBackend) -> None:
    check(
        target.name,
        "_customer_features",
        to_sql(customer_features_expr(target, AS_OF), target.name),
    )


def test_segments_sql(target: BaseBackend) -> None:
    defs = definitions()
    by_key = {d.key: d for d in defs}
    ctx = Context(target, target.table("customer_features"), AS_OF, by_key.get)
    flags = {}
    for d in defs:
        ctx._stack = [d.key]
        flags[d.key] = compile_condition(d.condition, ctx)
    expr = ctx.features.select("customer_id", **flags)
    check(target.name, "_segments", to_sql(expr, target.name))


def test_no_stale_snapshots() -> None:
    wanted = {t.id for t in CATALOGUE} | {"_customer_features", "_segments"}
    for dialect in COMPILE_ONLY_BACKENDS:
        unsupported = {t.id for t in CATALOGUE if dialect in t.unsupported}
        present = {p.stem for p in (SNAPSHOTS / dialect).glob("*.sql")}
        assert present == wanted - unsupported, dialect
