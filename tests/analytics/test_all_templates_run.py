"""Every registered template runs with its default parameters on a simulated shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ibis
import pytest
from ibis.backends import BaseBackend

from tokui.analytics.registry import Template, templates
from tokui.analytics.run import build, run
from tokui.demo import SimConfig, generate


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    path: Path = tmp_path_factory.mktemp("sim") / "sim.duckdb"
    con = ibis.duckdb.connect(str(path))
    generate(con, SimConfig(customers=2000, years=1, seed=1))
    yield con
    con.disconnect()


@pytest.mark.parametrize("template", templates(), ids=lambda t: t.id)
def test_template_runs_on_simulated_shop(sim: BaseBackend, template: Template) -> None:
    df = run(sim, template, {})
    assert len(df) > 0, template.id
    assert list(df.columns) == list(build(sim, template, {}).columns)
    chart = template.chart
    for col in (chart.x, *chart.y, chart.color, chart.z):
        assert col is None or col in df.columns, (template.id, col)
    for key in template.order_by:
        assert key.split(" ")[0] in df.columns, (template.id, key)
