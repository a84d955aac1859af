"""The whole catalogue, customer_features and segments on Spark and ClickHouse: every
result row equals DuckDB's.

A template an engine cannot run must be declared (tokui.analytics.capabilities) and
then fail there with the declared reason; none is declared for these two engines, and
test_capabilities pins that. Spark runs the templates three at a time (one session,
several jobs in flight) so its per-query overhead overlaps; results are then compared
one test per template.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.analytics.test_all_templates_run import rows
from tokui.analytics.registry import ParamError, Template, templates
from tokui.analytics.run import run
from tokui.features.customer_features import FEATURES
from tokui.segments.compile import compile_condition, members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.library import library
from tokui.segments.preview import make_context

# One worker runs every test here, so one Spark session and one chdb folder serve them all
# (make test distributes with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("engines")

CATALOGUE = templates()
ENGINES = ("pyspark", "clickhouse")

# Beside the library: one definition per kind of condition, on this shop's categories
# and products (checked below to select some customers but not all).
EXTRA_SEGMENTS: dict[str, dict[str, Any]] = {
    "bought-meat-180d": {"type": "bought", "category": "肉", "days": 180},
    "bought-product-twice": {"type": "bought", "product_id": "P00215", "min_count": 1},
    "viewed-sweets-not-bought": {"type": "viewed_not_bought", "category": "スイーツ", "days": 60},
    "cart-no-order": {"type": "cart_no_order", "days": 30},
    "subscription-active": {"type": "subscription", "state": "active"},
    "subscription-cancelled": {"type": "subscription", "state": "cancelled"},
    "bucket-a": {"type": "random_bucket", "salt": "test-a", "percent_to": 30},
    "not-gift-giver": {
        "type": "not",
        "condition": {"type": "compare", "field": "persona", "op": "eq", "value": "gift_giver"},
    },
    "recent-access": {"type": "days_ago", "field": "last_access_at", "within": 14},
    "loyal-or-high-m": {
        "type": "or",
        "conditions": [
            {"type": "compare", "field": "m_score", "op": "ge", "value": 4},
            {"type": "compare", "field": "lifecycle_stage", "op": "in", "value": ["loyal"]},
        ],
    },
    "in-high-value-and-female": {
        "type": "and",
        "conditions": [
            {"type": "in_segment", "segment": "high-value"},
            {"type": "compare", "field": "gender", "op": "eq", "value": "female"},
        ],
    },
    "registered-between": {
        "type": "compare",
        "field": "registered_on",
        "op": "between",
        "value": ["2025-12-01", "2026-03-31"],
    },
}


def definitions() -> list[SegmentDefinition]:
    extra = [
        SegmentDefinition.model_validate(
            {"key": key, "name_ja": key, "name_en": key, "condition": condition}
        )
        for key, condition in EXTRA_SEGMENTS.items()
    ]
    return [*library().values(), *extra]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> BaseBackend:
    con: BaseBackend = request.getfixturevalue(
        "spark" if request.param == "pyspark" else "clickhouse"
    )
    return con


Outcome = tuple[pd.DataFrame | None, BaseException | None]


def _run_all(con: BaseBackend, params: dict[str, Any], workers: int) -> dict[str, Outcome]:
    def one(t: Template) -> Outcome:
        try:
            return run(con, t, params), None
        except Exception as exc:
            return None, exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip([t.id for t in CATALOGUE], pool.map(one, CATALOGUE), strict=True))


@pytest.fixture(scope="module")
def expected(duck: BaseBackend, shop_as_of: date) -> dict[str, Outcome]:
    return _run_all(duck, {"as_of": shop_as_of}, workers=1)


@pytest.fixture(scope="module")
def results(engine: BaseBackend, shop_as_of: date) -> dict[str, Outcome]:
    # The reference date is passed, not looked up: one query less per template.
    return _run_all(engine, {"as_of": shop_as_of}, workers=3 if engine.name == "pyspark" else 1)


@pytest.mark.parametrize("template", CATALOGUE, ids=lambda t: t.id)
def test_template_gives_duckdb_rows(
    engine: BaseBackend,
    expected: dict[str, Outcome],
    results: dict[str, Outcome],
    template: Template,
) -> None:
    got, error = results[template.id]
    if engine.name in template.unsupported:
        assert isinstance(error, ParamError)
        assert template.unsupported[engine.name] in str(error)
        return
    if error is not None:
        raise error
    want, _ = expected[template.id]
    assert want is not None and got is not None
    assert len(want) > 0, template.id  # a comparison of two empty results proves nothing
    assert list(got.columns) == list(want.columns)
    assert rows(got) == rows(want), template.id


def _table(con: BaseBackend, name: str, columns: list[str]) -> pd.DataFrame:
    return con.table(name).select(*columns).order_by("customer_id").execute()


def test_customer_features_equal_duckdb(duck: BaseBackend, engine: BaseBackend) -> None:
    want_table = duck.table(FEATURES)
    assert sorted(engine.table(FEATURES).columns) == sorted(want_table.columns)
    columns = list(want_table.columns)
    want, got = _table(duck, FEATURES, columns), _table(engine, FEATURES, columns)
    assert len(want) == 500
    assert rows(got) == rows(want)


def _flags(con: BaseBackend) -> pd.DataFrame:
    """Per customer, one column per segment: member or not (one query for all)."""
    defs = definitions()
    by_key = {d.key: d for d in defs}
    ctx = make_context(con, resolve=by_key.get)
    f = ctx.features
    cols: dict[str, Callable[..., Any] | Any] = {}
    for d in defs:
        ctx._stack = [d.key]
        cols[d.key] = compile_condition(d.condition, ctx)
    return f.select("customer_id", **cols).order_by("customer_id").execute()


def test_segments_select_the_same_customers(duck: BaseBackend, engine: BaseBackend) -> None:
    want, got = _flags(duck), _flags(engine)
    assert list(got.columns) == list(want.columns)
    for key in EXTRA_SEGMENTS:
        assert 0 < int(want[key].sum()) < len(want), key  # selects some, not all
    assert rows(got) == rows(want)


def test_members_query_on_engine(duck: BaseBackend, engine: BaseBackend) -> None:
    definition = library()["gift-givers"]
    want = set(members(make_context(duck), definition).customer_id.execute())
    got = set(members(make_context(engine), definition).customer_id.execute())
    assert want and got == want
