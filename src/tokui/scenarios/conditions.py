"""Segment conditions for a set of customers (entry segment filters, condition steps),
compiled by the segment language over customer_features."""

from __future__ import annotations

from collections.abc import Sequence

from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.segments.compile import compile_condition
from tokui.segments.dsl import Condition, SegmentDefinition
from tokui.segments.preview import make_context
from tokui.segments.store import all_definitions
from tokui.state.db import session_scope
from tokui.warehouse.subset import only

EVERYONE = 200_000  # more ids than this: evaluate for every customer, then intersect


def definitions(sessions: sessionmaker[Session]) -> dict[str, SegmentDefinition]:
    with session_scope(sessions) as db:
        return all_definitions(db)


def matching(
    con: BaseBackend,
    segments: dict[str, SegmentDefinition],
    condition: Condition,
    ids: Sequence[str],
    where: str,
    start: str | None = None,
) -> set[str]:
    """Which of `ids` the condition holds for, on the latest customer_features."""
    if not ids:
        return set()
    ctx = make_context(con, segments.get)
    many = len(ids) > EVERYONE
    if not many:
        ctx.features = only(ctx.features, "customer_id", ids)
    ctx._stack = [start] if start else []
    m = ctx.features.filter(compile_condition(condition, ctx, where))
    found = {str(x) for x in m.customer_id.to_pyarrow().to_pylist()}
    # For a large share of the customers (a broadcast) the condition over all of them
    # and a set intersection beat shipping the ids to the warehouse.
    return found & set(ids) if many else found


def segment_members(
    con: BaseBackend, segments: dict[str, SegmentDefinition], key: str, ids: Sequence[str]
) -> set[str]:
    definition = segments.get(key)
    if definition is None:
        return set()
    return matching(con, segments, definition.condition, ids, f"segment {key}", key)
