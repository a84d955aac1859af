"""The builder's form <-> DSL conversion and the definition in words, without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend

from tests.features.shop import load_shop
from tokui.refresh.features import materialise_features
from tokui.segments.compile import members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.fields import BuilderField, builder_fields
from tokui.segments.library import library
from tokui.segments.preview import make_context
from tokui.warehouse import connect, create_schema
from tokui.web.i18n import translate
from tokui.web.segment_form import (
    Node,
    apply_action,
    errors_by_node,
    from_condition,
    map_segment_error,
    read_meta,
    read_tree,
    to_definition,
    to_form,
)
from tokui.web.segment_text import describe

DROP_TEXT = "'; DROP TABLE customers; --"


@pytest.fixture(scope="module")
def shop() -> Iterator[BaseBackend]:
    con = connect("duckdb://")
    create_schema(con)
    load_shop(con)
    materialise_features(con, date(2025, 12, 31))
    yield con
    con.disconnect()


def t(key: str, **values: object) -> str:
    return translate("en", key, **values)


def seg(condition: dict[str, Any]) -> SegmentDefinition:
    return SegmentDefinition.model_validate(
        {"key": "x", "name_ja": "x", "name_en": "x", "condition": condition}
    )


def test_every_ready_segment_round_trips_through_the_form(shop: BaseBackend) -> None:
    fields = builder_fields(shop)
    definitions = library()
    ctx = make_context(shop, resolve=definitions.get)
    for key, d in definitions.items():
        meta = {"key": d.key, "name_ja": d.name_ja, "name_en": d.name_en, "description": ""}
        data = to_form(from_condition(d.condition), meta)
        out = to_definition(read_tree(data), read_meta(data), fields, t)
        assert out.errors == {}, key
        assert out.definition is not None
        again = set(members(ctx, out.definition).customer_id.execute())
        assert again == set(members(ctx, d).customer_id.execute()), key


def test_nested_not_and_groups_round_trip(shop: BaseBackend) -> None:
    fields = builder_fields(shop)
    condition = {
        "type": "or",
        "conditions": [
            {"type": "not", "condition": {"type": "not", "condition": _cmp("frequency", "ge", 3)}},
            {
                "type": "not",
                "condition": {
                    "type": "and",
                    "conditions": [
                        _cmp("prefecture", "in", ["東京都", "北海道"]),
                        _cmp("monetary", "between", [1000, 10_000]),
                        _cmp("email_opt_in", "eq", True),
                        _cmp("last_order", "ge", "2025-11-01"),
                        {"type": "bought", "category": "米", "days": 365, "min_count": 2},
                        {"type": "random_bucket", "salt": "s", "percent_to": 50},
                    ],
                },
            },
        ],
    }
    d = seg(condition)
    data = to_form(from_condition(d.condition), read_meta({"key": ["x"], "name_ja": ["x"]}))
    out = to_definition(read_tree(data), read_meta(data), fields, t)
    assert out.errors == {}
    assert out.definition is not None
    got, want = out.definition.condition.model_dump(), d.condition.model_dump()
    # The root OR is the builder's root group, the NOT over a group stays as it was...
    assert got["type"] == "or" and got["conditions"][1] == want["conditions"][1]
    # ...and NOT NOT x comes back as NOT (AND [NOT x]): the same people.
    assert got["conditions"][0] == {
        "type": "not",
        "condition": {"type": "and", "conditions": [want["conditions"][0]["condition"]]},
    }
    ctx = make_context(shop)
    assert set(members(ctx, out.definition).customer_id.execute()) == set(
        members(ctx, d).customer_id.execute()
    )


def _cmp(field: str, op: str, value: Any = None) -> dict[str, Any]:
    result = {"type": "compare", "field": field, "op": op}
    if value is not None:
        result["value"] = value
    return result


def test_actions_add_and_remove() -> None:
    fields = {"frequency": BuilderField("frequency", "number", True)}
    root = Node("and")
    root = apply_action(root, "add:n", {"n.add_type": ["cart_no_order"]}, fields)
    root = apply_action(root, "group:n", {}, fields)
    assert [c.type for c in root.children] == ["cart_no_order", "and"]
    assert root.children[1].children[0].inputs["field"] == "frequency"
    root = apply_action(root, "remove:n.0", {}, fields)
    assert [c.type for c in root.children] == ["and"]
    # Unknown types, bad paths and removing the root change nothing.
    for action, data in (("add:n", {"n.add_type": ["sql"]}), ("remove:n", {}), ("add:x", {})):
        root = apply_action(root, action, data, fields)
        assert [c.type for c in root.children] == ["and"]


def test_dsl_error_paths_map_to_form_nodes() -> None:
    paths = {
        "condition": "n",
        "condition.conditions[1]": "n.1",
        "condition.conditions[1].condition": "n.1",
    }
    assert map_segment_error("condition.conditions[1].value[0]: 1 is not text", paths) == (
        "n.1.value",
        "1 is not text",
    )
    assert map_segment_error("condition.conditions[1].condition.op: lt ...", paths) == (
        "n.1.op",
        "lt ...",
    )
    assert map_segment_error("condition.conditions[1]<other>.field: unknown", paths) == (
        "n.1",
        "unknown",
    )
    assert map_segment_error("customer_features is empty", paths) == (
        "_form",
        "customer_features is empty",
    )
    assert errors_by_node({"n.1.value": ["a"], "n.1": ["b"], "key": ["c"]}) == {
        "n.1": ["a", "b"],
        "key": ["c"],
    }


def test_read_tree_ignores_orphans_and_bounds_size() -> None:
    data = {
        "n.type": ["and"],
        "n.0.type": ["cart_no_order"],
        "n.0.days": ["3"],
        "n.5.3.type": ["compare"],  # its parent n.5 does not exist
        "n.0.evil": ["x"],
    }
    root = read_tree(data)
    assert len(root.children) == 1
    assert root.children[0].inputs == {"days": "3"}
    many = {"n.type": ["and"], **{f"n.{i}.type": ["cart_no_order"] for i in range(500)}}
    assert len(read_tree(many).children) == 200


def test_describe_in_both_languages() -> None:
    d = library()["churn-risk"]
    assert describe(d.condition, "ja") == (
        "購入回数が2以上 AND ライフサイクルが「休眠」 AND CPM状態が「現役」"
    )
    assert describe(d.condition, "en") == (
        "Orders ≥ 2 AND Lifecycle stage is Dormant AND CPM status is Active"
    )
    condition = seg(
        {
            "type": "or",
            "conditions": [
                {"type": "bought", "category": "米", "days": 90, "min_count": 2},
                {"type": "not", "condition": {"type": "in_segment", "segment": "high-value"}},
                {"type": "days_ago", "field": "last_order", "more_than": 180},
            ],
        }
    ).condition
    assert describe(condition, "ja", {"high-value": "優良顧客"}) == (
        "直近90日にカテゴリ「米」を2回以上購入した OR NOT (セグメント「優良顧客」のメンバー)"
        " OR 最終購入日が180日より前"
    )


_NAMES = st.sampled_from(
    [
        "n.type",
        "n.0.type",
        "n.1.type",
        "n.0.0.type",
        "n.0.field",
        "n.0.op",
        "n.0.value",
        "n.0.value2",
        "n.0.values",
        "n.0.negate",
        "n.0.days",
        "n.0.mode",
        "n.0.target",
        "n.0.category",
        "n.0.product_id",
        "n.0.state",
        "n.0.segment",
        "n.0.salt",
        "n.0.percent_from",
        "n.0.percent_to",
        "n.1.field",
        "n.0.0.field",
        "key",
        "name_ja",
        "n.99999.type",
        "x",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "and",
            "or",
            "not",
            "compare",
            "days_ago",
            "bought",
            "viewed_not_bought",
            "cart_no_order",
            "subscription",
            "in_segment",
            "random_bucket",
            "frequency",
            "prefecture",
            "last_order",
            "email_opt_in",
            "ge",
            "in",
            "between",
            "is_null",
            "within",
            "category",
            "product_id",
            "ever",
            "1",
            "-5",
            "1e400",
            "nan",
            "2025-02-30",
            "true",
            "米",
            DROP_TEXT,
            "",
        ]
    ),
    st.text(max_size=20),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(_NAMES, st.lists(_VALUES, min_size=1, max_size=3), max_size=14))
def test_any_posted_form_gives_a_definition_or_named_errors(data: dict[str, list[str]]) -> None:
    fields = {
        "frequency": BuilderField("frequency", "number", True),
        "prefecture": BuilderField("prefecture", "category"),
        "last_order": BuilderField("last_order", "date"),
        "email_opt_in": BuilderField("email_opt_in", "boolean"),
    }
    out = to_definition(read_tree(data), read_meta(data), fields, t)
    assert (out.definition is None) == bool(out.errors)
    for where, messages in out.errors.items():
        assert messages and all(isinstance(m, str) and m for m in messages)
        assert where in ("key", "name_ja", "name_en", "description", "_form") or where.startswith(
            "n"
        ), where
    if out.definition is not None:
        # Whatever was accepted names only whitelisted fields.
        text = out.definition.model_dump_json()
        for part in text.split('"field":"')[1:]:
            assert part.split('"')[0] in fields
