"""Rank changes between refreshes, and the rank rules the last refresh applied.

customer_features is replaced at every refresh, so the rank a customer had before is gone
by the time a scenario asks "who moved up?". The refresh therefore compares the ranks it
is about to replace with the new ones and appends each change to `rank_changes`
(customer, refresh date, old rank, new rank, up or down). Up and down follow the order of
the rank rules: the first rule is the highest rank and the default the lowest. A customer
new since the last refresh counts as having had the default rank; the very first refresh
records nothing (there is nothing to compare with).

`rank_rules` keeps the rules of the last refresh (one row, JSON), so the rank-keep
trigger projects ranks with the shop's own rules (a workspace ranks.yaml), not the
shipped defaults.
"""

from __future__ import annotations

from datetime import date

import ibis
from ibis.backends import BaseBackend

from tokui.features.ranks import RankRules, load_rank_rules

RANK_CHANGES = "rank_changes"
RANK_RULES = "rank_rules"
PREVIOUS = "_tokui_previous_ranks"

CHANGE_SCHEMA = ibis.schema(
    {
        "customer_id": "!string",
        "as_of": "!date",
        "old_rank": "!string",
        "new_rank": "!string",
        "direction": "!string",
    }
)
RULES_SCHEMA = ibis.schema({"as_of": "!date", "rules": "!string"})


def levels(rules: RankRules) -> dict[str, int]:
    """Rank -> level: the default is 0, the first (highest) rule len(ranks)."""
    out = {rules.default: 0}
    n = len(rules.ranks)
    for i, r in enumerate(rules.ranks):
        out.setdefault(r.rank, n - i)
    return out


def level_expr(rank: ibis.Value, rules: RankRules) -> ibis.Value:
    """The level of a rank column; NULL for a rank the rules do not know."""
    cases = [(rank == name, level) for name, level in levels(rules).items()]
    return ibis.cases(*cases, else_=ibis.null("int64"))


def _temp(con: BaseBackend) -> bool:
    # Ibis cannot make temporary tables on Spark; there the work tables are ordinary
    # ones, dropped at the end of record_changes like the temporary ones.
    return bool(con.name != "pyspark")


def ensure_tables(con: BaseBackend) -> None:
    if RANK_CHANGES not in con.list_tables():
        con.create_table(RANK_CHANGES, schema=CHANGE_SCHEMA)


def keep_previous(con: BaseBackend, features: str) -> ibis.Table | None:
    """The ranks about to be replaced, copied aside (None on a first refresh)."""
    if features not in con.list_tables():
        return None
    f = con.table(features)
    if "computed_rank" not in f.columns:
        return None
    old = f.select("customer_id", old_rank=f.computed_rank)
    return con.create_table(PREVIOUS, old, temp=_temp(con), overwrite=True)


def record_changes(
    con: BaseBackend, previous: ibis.Table | None, features: str, rules: RankRules, as_of: date
) -> int:
    """Append the rank changes from `previous` to the new features; the number added.
    A refresh run twice for one date adds no duplicate."""
    ensure_tables(con)
    _save_rules(con, rules, as_of)
    if previous is None:
        return 0
    new = con.table(features).select("customer_id", new_rank="computed_rank")
    joined = new.left_join(previous, "customer_id").drop("customer_id_right")
    joined = joined.mutate(old_rank=joined.old_rank.fill_null(rules.default))
    joined = joined.mutate(
        old_level=level_expr(joined.old_rank, rules), new_level=level_expr(joined.new_rank, rules)
    )
    moved = joined.filter(
        joined.old_level.notnull()
        & joined.new_level.notnull()
        & (joined.old_level != joined.new_level)
    )
    changes = moved.select(
        "customer_id",
        as_of=ibis.literal(as_of),
        old_rank=moved.old_rank,
        new_rank=moved.new_rank,
        direction=ibis.ifelse(moved.new_level > moved.old_level, "up", "down"),
    )
    existing = con.table(RANK_CHANGES)
    changes = changes.anti_join(existing, ["customer_id", "as_of", "new_rank"])
    staged = con.create_table("_tokui_rank_changes", changes, temp=_temp(con), overwrite=True)
    n = int(staged.count().execute())
    if n:
        con.insert(RANK_CHANGES, staged.select(*CHANGE_SCHEMA.names))
    con.drop_table(staged.get_name(), force=True)
    con.drop_table(PREVIOUS, force=True)
    return n


def _save_rules(con: BaseBackend, rules: RankRules, as_of: date) -> None:
    row = ibis.memtable({"as_of": [as_of], "rules": [rules.model_dump_json()]}, schema=RULES_SCHEMA)
    con.create_table(RANK_RULES, row, overwrite=True)


def saved_rules(con: BaseBackend) -> RankRules:
    """The rules of the last refresh; the shipped defaults before any."""
    if RANK_RULES in con.list_tables():
        rows = con.table(RANK_RULES).rules.to_pyarrow().to_pylist()
        if rows:
            return RankRules.model_validate_json(str(rows[0]))
    return load_rank_rules()
