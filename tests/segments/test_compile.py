"""Segment conditions on the hand-made shop of tests/features/shop.py (as of 2025-12-31).

Customers: g (gift giver, 3 orders), n (one order of new potatoes, carts on 12-21),
i (4 orders, mostly rice, active subscription), s (2 premium orders, cancelled
subscription, dormant), r (registered, never bought).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend
from pydantic import ValidationError

from tests.conftest import fresh_pg_url
from tests.features.shop import load_shop
from tokui.clock import FixedClock
from tokui.refresh.features import materialise_features
from tokui.segments.compile import Context, SegmentError, members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.preview import make_context, overlap, preview
from tokui.warehouse import connect, create_schema

CLOCK = FixedClock(datetime(2025, 12, 31, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BaseBackend]:
    """One shop per backend for the whole module: the tests only read it."""
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path_factory.mktemp('seg') / 'w.duckdb'}"
    else:
        url = fresh_pg_url(request.getfixturevalue("pg_database"))
    con = connect(url)
    create_schema(con)
    load_shop(con)
    materialise_features(con, CLOCK.now().date())
    yield con
    con.disconnect()


def seg(condition: dict[str, Any], key: str = "t") -> SegmentDefinition:
    return SegmentDefinition.model_validate(
        {"key": key, "name_ja": "テスト", "name_en": "Test", "condition": condition}
    )


def who(con: BaseBackend, condition: dict[str, Any], **ctx_args: Any) -> set[str]:
    ctx = make_context(con, **ctx_args)
    return set(members(ctx, seg(condition)).customer_id.execute())


def cmp(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"type": "compare", "field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cmp("frequency", "ge", 3), {"g", "i"}),
        (cmp("frequency", "eq", 0), {"r"}),
        (cmp("prefecture", "in", ["東京都", "北海道"]), {"g", "i"}),
        (cmp("prefecture", "not_in", ["東京都"]), {"n", "i", "s", "r"}),
        (cmp("monetary", "between", [1000, 10_000]), {"i"}),
        (cmp("persona", "is_null"), {"r"}),
        (cmp("persona", "eq", "gift_giver"), {"g"}),
        (cmp("email_opt_in", "eq", True), {"g", "n", "s"}),
        (cmp("last_order", "ge", "2025-11-01"), {"g", "n"}),
        ({"type": "days_ago", "field": "last_order", "within": 30}, {"g"}),
        ({"type": "days_ago", "field": "last_order", "more_than": 180}, {"s"}),
        ({"type": "bought", "category": "米"}, {"g", "i", "s"}),
        ({"type": "bought", "category": "米", "days": 90}, set()),
        ({"type": "bought", "category": "米", "min_count": 3}, {"i"}),
        ({"type": "bought", "product_id": "veg_new"}, {"n", "i"}),
        ({"type": "viewed_not_bought", "category": "野菜", "days": 30}, {"n"}),
        ({"type": "viewed_not_bought", "category": "野菜", "days": 60}, set()),
        ({"type": "cart_no_order", "days": 30}, {"n"}),
        ({"type": "subscription", "state": "ever"}, {"i", "s"}),
        ({"type": "subscription", "state": "never"}, {"g", "n", "r"}),
        ({"type": "subscription", "state": "active"}, {"i"}),
        ({"type": "subscription", "state": "cancelled"}, {"s"}),
        ({"type": "not", "condition": cmp("frequency", "ge", 3)}, {"n", "s", "r"}),
        # age is unknown for i and r: NOT(age >= 40) keeps them, as a marketer expects
        ({"type": "not", "condition": cmp("age", "ge", 40)}, {"n", "i", "r"}),
        (
            {
                "type": "or",
                "conditions": [
                    cmp("persona", "eq", "novelty_seeker"),
                    {
                        "type": "and",
                        "conditions": [
                            {"type": "subscription", "state": "ever"},
                            cmp("monetary", "gt", 10_000),
                        ],
                    },
                ],
            },
            {"n", "s"},
        ),
        ({"type": "random_bucket", "salt": "x", "percent_to": 100}, {"g", "n", "i", "s", "r"}),
    ],
)
def test_conditions(shop: BaseBackend, condition: dict[str, Any], expected: set[str]) -> None:
    assert who(shop, condition) == expected


def test_in_segment_and_cycles(shop: BaseBackend) -> None:
    saved = {
        "subs": seg({"type": "subscription", "state": "ever"}, "subs"),
        "loop-a": seg({"type": "in_segment", "segment": "loop-b"}, "loop-a"),
        "loop-b": seg({"type": "in_segment", "segment": "loop-a"}, "loop-b"),
    }
    cond = {
        "type": "and",
        "conditions": [
            {"type": "in_segment", "segment": "subs"},
            cmp("frequency", "ge", 3),
        ],
    }
    assert who(shop, cond, resolve=saved.get) == {"i"}
    ctx = make_context(shop, resolve=saved.get)
    with pytest.raises(SegmentError, match="cycle: loop-a → loop-b → loop-a"):
        members(ctx, saved["loop-a"])
    with pytest.raises(SegmentError, match="no segment 'nope'"):
        who(shop, {"type": "in_segment", "segment": "nope"})


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (cmp("favourite_colour", "eq", "red"), r"condition\.field: unknown field"),
        (cmp("frequency; DROP TABLE orders", "eq", 1), "unknown field"),
        (cmp("prefecture", "lt", "東京都"), r"condition\.op: lt does not apply to string"),
        (cmp("frequency", "eq", "3"), r"condition\.value: '3' is not a number"),
        (cmp("frequency", "eq", True), "is not a number"),
        (cmp("last_order", "ge", "last week"), "is not a date"),
        (
            {"type": "and", "conditions": [cmp("frequency", "ge", 1), cmp("gender", "in", [1])]},
            r"condition\.conditions\[1\]\.value\[0\]: 1 is not text",
        ),
        ({"type": "days_ago", "field": "prefecture", "within": 3}, "is not a date field"),
    ],
)
def test_bad_definitions_name_the_place(
    shop: BaseBackend, condition: dict[str, Any], message: str
) -> None:
    with pytest.raises(SegmentError, match=message):
        who(shop, condition)


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "compare", "field": "frequency", "op": "like", "value": 1},
        {"type": "compare", "field": "frequency", "op": "in", "value": []},
        {"type": "compare", "field": "frequency", "op": "between", "value": [1]},
        {"type": "compare", "field": "frequency", "op": "is_null", "value": 1},
        {"type": "bought", "category": "米", "product_id": "rice"},
        {"type": "random_bucket", "salt": "x", "percent_from": 50, "percent_to": 10},
        {"type": "in_segment", "segment": "../../etc"},
        {"type": "sql", "text": "1=1"},
        {"type": "and", "conditions": []},
        {"type": "bought", "category": "\x00"},
        {"type": "compare", "field": "prefecture", "op": "eq", "value": "東京\n"},
        {"type": "compare", "field": "prefecture", "op": "in", "value": ["a", "\x7f"]},
        {"type": "random_bucket", "salt": "a\x00", "percent_to": 10},
    ],
)
def test_malformed_trees_are_rejected(condition: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        seg(condition)


def test_depth_is_bounded() -> None:
    node: dict[str, Any] = cmp("frequency", "ge", 1)
    for _ in range(10):
        node = {"type": "not", "condition": node}
    with pytest.raises(ValidationError, match="nest 11 deep"):
        seg(node)


def test_values_stay_values(shop: BaseBackend) -> None:
    hostile = "東京都' OR '1'='1"
    assert who(shop, cmp("prefecture", "eq", hostile)) == set()
    assert shop.table("orders").count().execute() == 10


def test_preview_and_overlap(shop: BaseBackend) -> None:
    ctx = make_context(shop)
    p = preview(ctx, seg(cmp("frequency", "ge", 2)), sample=2)
    assert (p.members, p.customers) == (3, 5)
    assert p.sample.customer_id.tolist() == ["g", "i"]
    assert p.sample.columns[0] == "customer_id" and "_members" not in p.sample.columns
    # No member: no sample row to carry the counts, which must still be right.
    none = preview(ctx, seg(cmp("frequency", "ge", 99)), sample=2)
    assert (none.members, none.customers, len(none.sample)) == (0, 5, 0)
    counted = preview(ctx, seg(cmp("frequency", "ge", 2)), sample=0)
    assert (counted.members, counted.customers, len(counted.sample)) == (3, 5, 0)
    m = overlap(
        ctx,
        [
            seg(cmp("frequency", "ge", 2), "rep"),
            seg({"type": "subscription", "state": "ever"}, "sub"),
        ],
    )
    assert m.loc["rep", "rep"] == 3
    assert m.loc["sub", "sub"] == 2
    assert m.loc["rep", "sub"] == m.loc["sub", "rep"] == 2  # i and s


def test_random_buckets_are_stable_and_proportional(shop: BaseBackend) -> None:
    import ibis

    from tokui.features.hashing import stable_hash

    ids = [f"C{i:07d}" for i in range(20_000)]
    features = ibis.memtable(
        pd.DataFrame({"customer_id": ids, "customer_hash": [stable_hash(i) for i in ids]})
    )
    ctx = Context(shop, features, CLOCK.now().date())

    def bucket(salt: str, lo: int, hi: int) -> set[str]:
        cond = {"type": "random_bucket", "salt": salt, "percent_from": lo, "percent_to": hi}
        return set(shop.execute(members(ctx, seg(cond)).customer_id))

    ten = bucket("holdout-2026", 0, 10)
    # 10 % of 20,000 = 2,000; binomial sd ≈ 42, so ±200 is ~5 sd
    assert abs(len(ten) - 2000) < 200
    assert ten == bucket("holdout-2026", 0, 10)  # stable
    rest = bucket("holdout-2026", 10, 100)
    assert not ten & rest and len(ten | rest) == 20_000  # a partition
    other = bucket("another-test", 0, 10)
    # an independent 10 % overlaps the first in about 1 % (200), not in 0 or 2,000
    assert 100 < len(ten & other) < 330
