"""Segment preview: member count, a sample, and overlaps, straight from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.features.customer_features import FEATURES
from tokui.segments.compile import Context, Resolver, SegmentError, compile_condition, members
from tokui.segments.dsl import SegmentDefinition

SAMPLE_COLUMNS = (
    "customer_id",
    "gender",
    "age",
    "prefecture",
    "frequency",
    "monetary",
    "recency_days",
    "lifecycle_stage",
    "persona",
    "subscription_status",
)


@dataclass(frozen=True)
class Preview:
    members: int
    customers: int
    sample: pd.DataFrame

    @property
    def share(self) -> float:
        return self.members / self.customers if self.customers else 0.0


def features_table(con: BaseBackend) -> ibis.Table:
    if FEATURES not in con.list_tables():
        raise SegmentError("customer_features does not exist yet; run `tokui refresh` first")
    return con.table(FEATURES)


def make_context(
    con: BaseBackend, resolve: Resolver | None = None, as_of: date | None = None
) -> Context:
    f = features_table(con)
    if as_of is None:
        value = f.as_of.max().execute()
        as_of = pd.Timestamp(value).date() if value is not None and not pd.isna(value) else None
    if as_of is None:
        raise SegmentError("customer_features is empty; import or generate data first")
    return Context(con, f, as_of, resolve or (lambda _key: None))


def preview(ctx: Context, definition: SegmentDefinition, sample: int = 20) -> Preview:
    m = members(ctx, definition)
    cols = [c for c in SAMPLE_COLUMNS if c in m.schema()]
    first = m.select(*cols).order_by("customer_id").limit(sample)
    if sample > 0:
        # One round trip: the sample rows, each carrying the member and customer counts.
        sizes = m.aggregate(_members=m.count()).cross_join(
            ctx.features.aggregate(_customers=ctx.features.count())
        )
        rows = first.cross_join(sizes).order_by("customer_id").execute()
        if len(rows):
            count, total = int(rows["_members"].iloc[0]), int(rows["_customers"].iloc[0])
            return Preview(count, total, rows[cols].reset_index(drop=True))
        # No row means no member: only the customer count is still to fetch.
    else:
        rows = first.execute()
    count = 0 if sample > 0 else int(m.count().execute())
    return Preview(count, int(ctx.features.count().execute()), rows[cols])


def overlap(ctx: Context, definitions: list[SegmentDefinition]) -> pd.DataFrame:
    """Members shared by each pair of segments (the diagonal is each segment's size)."""
    flags = {d.key: ibis.ifelse(compile_condition(d.condition, ctx), 1, 0) for d in definitions}
    f = ctx.features.mutate(**{f"_s{i}": v for i, v in enumerate(flags.values())})
    keys = list(flags)
    aggs = {}
    for i in range(len(keys)):
        for j in range(i, len(keys)):
            aggs[f"p{i}_{j}"] = (f[f"_s{i}"] * f[f"_s{j}"]).sum()
    row = f.aggregate(**aggs).execute().iloc[0]
    matrix = pd.DataFrame(0, index=keys, columns=keys, dtype="int64")
    for i in range(len(keys)):
        for j in range(i, len(keys)):
            value = int(row[f"p{i}_{j}"] or 0)
            matrix.iloc[i, j] = value
            matrix.iloc[j, i] = value
    return matrix


def count_members(ctx: Context, definition: SegmentDefinition) -> int:
    """Only the member count: what a builder asks on every edit, one aggregate query."""
    return int(members(ctx, definition).count().execute())


def overlap_with(
    ctx: Context, definition: SegmentDefinition, others: list[SegmentDefinition]
) -> dict[str, tuple[int, int]]:
    """For each other segment: (members shared with `definition`, its own size).

    One pass over the features instead of the full matrix of `overlap`, for a page that
    shows one segment against all the rest.
    """
    if not others:
        return {}
    flags = {}
    ctx._stack = [definition.key]
    flags["_this"] = ibis.ifelse(compile_condition(definition.condition, ctx), 1, 0)
    for i, other in enumerate(others):
        ctx._stack = [other.key]
        flags[f"_o{i}"] = ibis.ifelse(compile_condition(other.condition, ctx), 1, 0)
    f = ctx.features.mutate(**flags)
    aggs = {}
    for i in range(len(others)):
        aggs[f"both{i}"] = (f._this * f[f"_o{i}"]).sum()
        aggs[f"size{i}"] = f[f"_o{i}"].sum()
    row = f.aggregate(**aggs).execute().iloc[0]
    return {
        o.key: (int(row[f"both{i}"] or 0), int(row[f"size{i}"] or 0)) for i, o in enumerate(others)
    }
