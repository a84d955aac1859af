"""Hostile and random segment definitions: each is refused with a clear error or compiles
to a query that runs; none may raise anything else or change the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from pydantic import ValidationError

from tests.features.shop import AS_OF, load_shop
from tokui.refresh.features import materialise_features
from tokui.segments.compile import SegmentError, members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.preview import make_context
from tokui.warehouse import connect, create_schema

FIELDS = [
    "frequency",
    "monetary",
    "prefecture",
    "last_order",
    "persona",
    "email_opt_in",
    "age",
    "nope",
    "1=1",
    "frequency) OR (1=1",
    '"; DROP TABLE orders; --',
    "",
]
OPS = [
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "is_null",
    "not_null",
    "like",
    "OR",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["2025-01-01", "' OR 1=1 --", "東京都"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4))
leaf = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("compare"),
            "field": st.sampled_from(FIELDS),
            "op": st.sampled_from(OPS),
            "value": values,
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("days_ago"),
            "field": st.sampled_from(FIELDS),
            "within": st.one_of(st.none(), st.integers(-5, 400)),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("bought"),
            "category": st.one_of(st.none(), st.text(max_size=10)),
            "days": st.one_of(st.none(), st.integers(-1, 400)),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["subscription", "sql", "cart_no_order"]),
            "state": st.sampled_from(["ever", "never", "x"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("random_bucket"),
            "salt": st.text(max_size=8),
            "percent_to": st.integers(-1, 101),
        }
    ),
)
trees = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["and", "or"]), "conditions": st.lists(kids, max_size=3)}
        ),
        st.fixed_dictionaries({"type": st.just("not"), "condition": kids}),
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "w.duckdb"
    con = connect(f"duckdb://{path}")
    create_schema(con)
    load_shop(con)
    materialise_features(con, AS_OF)
    yield con
    con.disconnect()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_random_definitions_fail_cleanly_or_run(shop: BaseBackend, tree: Any) -> None:
    try:
        definition = SegmentDefinition.model_validate(
            {"key": "fuzz", "name_ja": "f", "name_en": "f", "condition": tree}
        )
        ids = members(make_context(shop), definition).customer_id.execute()
    except (ValidationError, SegmentError):
        pass
    else:
        assert set(ids) <= {"g", "n", "i", "s", "r"}
    assert shop.table("orders").count().execute() == 10
    assert shop.table("customer_features").count().execute() == 5
