"""The whole catalogue on a simulated shop: every template runs with its default
parameters on every supported backend, and the backends agree row for row.

The shop is simulated once into DuckDB and copied table by table into PostgreSQL, so
both hold the same rows. A template that a backend cannot run must say so in
`Template.unsupported`; then running it there must fail with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.conftest import fresh_pg_url
from tokui.analytics.registry import BACKENDS, ParamError, Template, templates
from tokui.analytics.run import build, run
from tokui.demo import SimConfig, generate
from tokui.warehouse import bulk_load, connect, create_schema
from tokui.warehouse.schema import TABLES

CATALOGUE = templates()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    path: Path = tmp_path_factory.mktemp("sim") / "sim.duckdb"
    con = ibis.duckdb.connect(str(path))
    generate(con, SimConfig(customers=2000, years=1, seed=1))
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def sim_pg(sim: BaseBackend, pg_database: str) -> Iterator[BaseBackend]:
    con = connect(fresh_pg_url(pg_database))
    create_schema(con)
    for name in TABLES:
        frame = sim.table(name).to_pyarrow()
        if frame.num_rows:
            bulk_load(con, name, frame)
    yield con
    con.disconnect()


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime | date):
        return str(v)[:19]
    if isinstance(v, float):
        return round(v, 6) + 0.0
    if hasattr(v, "item"):  # numpy scalars
        return _cell(v.item())
    return v


def rows(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(_cell(v) for v in r) for r in df.itertuples(index=False)]


def test_catalogue_is_large_and_covers_every_category() -> None:
    from tokui.analytics.registry import CATEGORIES

    assert len(CATALOGUE) >= 100
    assert {t.category for t in CATALOGUE} == set(CATEGORIES)
    for t in CATALOGUE:
        assert set(t.unsupported) <= set(BACKENDS), t.id
        assert t.backends(), t.id


@pytest.mark.parametrize("template", CATALOGUE, ids=lambda t: t.id)
def test_template_runs_on_simulated_shop(sim: BaseBackend, template: Template) -> None:
    if "duckdb" in template.unsupported:
        with pytest.raises(ParamError, match=template.unsupported["duckdb"]):
            run(sim, template, {})
        return
    df = run(sim, template, {})
    assert len(df) > 0, template.id
    assert list(df.columns) == list(build(sim, template, {}).columns)
    chart = template.chart
    for col in (chart.x, *chart.y, chart.color, chart.z):
        assert col is None or col in df.columns, (template.id, col)
    for key in template.order_by:
        assert key.split(" ")[0] in df.columns, (template.id, key)


@pytest.mark.parametrize("template", CATALOGUE, ids=lambda t: t.id)
def test_postgres_gives_the_same_rows(
    sim: BaseBackend, sim_pg: BaseBackend, template: Template
) -> None:
    if "postgres" in template.unsupported:
        with pytest.raises(ParamError, match=template.unsupported["postgres"]):
            run(sim_pg, template, {})
        return
    expected = run(sim, template, {})
    got = run(sim_pg, template, {})
    assert list(got.columns) == list(expected.columns)
    assert rows(got) == rows(expected), template.id
