"""Refresh step: materialise customer_features as of the shop's today."""

from __future__ import annotations

from datetime import date

from ibis.backends import BaseBackend

from tokui.clock import local_today
from tokui.features.customer_features import FEATURES, customer_features_expr
from tokui.features.hashing import ensure_customer_hashes
from tokui.features.rank_history import keep_previous, record_changes
from tokui.features.ranks import RankRules, load_rank_rules, rank_expr
from tokui.refresh.pipeline import RefreshContext, refresh_step
from tokui.segments.compile import Context


@refresh_step("customer_features", "Customer 360 features (RFM, CPM, lifecycle, persona...)")
def refresh_customer_features(ctx: RefreshContext) -> int:
    return materialise_features(ctx.warehouse, local_today(ctx.clock), load_rank_rules(ctx.home))


def materialise_features(con: BaseBackend, as_of: date, ranks: RankRules | None = None) -> int:
    ensure_customer_hashes(con)
    expr = customer_features_expr(con, as_of)
    # Rank rules are segment conditions over the features themselves.
    rules = ranks or load_rank_rules()
    expr = expr.mutate(computed_rank=rank_expr(Context(con, expr, as_of), rules))
    # The ranks being replaced are kept aside for the rank-change history (rank-up).
    previous = keep_previous(con, FEATURES)
    table = con.create_table(FEATURES, expr, overwrite=True)
    record_changes(con, previous, FEATURES, rules, as_of)
    return int(table.count().execute())
