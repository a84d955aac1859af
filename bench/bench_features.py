"""customer_features refresh, segment snapshots and previews on the simulated shop.

Targets (issue: features and segments): `tokui refresh` of customer_features on 1,000,000
customers in under 60 s; a segment preview (count and sample) in under 1 s. Also reports
how well the persona rules recover the simulator's hidden persona, with the confusion
matrix. Usage: python bench/bench_features.py [N]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import pandas as pd

# `python bench/x.py` puts bench/ on the path.
from common import shop, working_copy

from tokui.refresh.features import materialise_features
from tokui.segments.library import library
from tokui.segments.preview import make_context, overlap, preview
from tokui.segments.snapshot import snapshot
from tokui.warehouse import connect

PERSONAS = ["gift_giver", "novelty_seeker", "ingredient_lover", "self_reward"]


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    bench = shop(customers)
    as_of = bench.config.end_date
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(working_copy(bench, Path(tmp)))
        t0 = time.perf_counter()
        rows = materialise_features(con, as_of)
        t_features = time.perf_counter() - t0

        definitions = library()
        ctx = make_context(con, resolve=definitions.get, as_of=as_of)
        t0 = time.perf_counter()
        snapshot(ctx, list(definitions.values()))
        t_snapshot = time.perf_counter() - t0

        timings = []
        for definition in definitions.values():
            t0 = time.perf_counter()
            preview(ctx, definition)
            timings.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        overlap(ctx, list(definitions.values()))
        t_overlap = time.perf_counter() - t0

        derived = (
            con.table("customer_features")
            .select("customer_id", "persona", "frequency")
            .execute()
            .rename(columns={"persona": "derived"})
        )
        con.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    n = len(timings)
    print("`python bench/bench_features.py` — on the cached simulated shop (bench/common.py).\n")
    print(
        f"| customers | features s | snapshot of {n} ready segments s | "
        f"preview median s | preview max s | overlap {n}×{n} s | peak RSS GiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {rows:,} | {t_features:.1f} | {t_snapshot:.1f} | {median(timings):.2f} | "
        f"{max(timings):.2f} | {t_overlap:.2f} | {peak:.2f} |"
    )

    truth = pd.read_parquet(bench.truth / "customers.parquet", columns=["customer_id", "persona"])
    both = truth.merge(derived, on="customer_id")
    regulars = both[both.frequency >= 3]
    named = regulars[regulars.derived != "general"]
    accuracy = (regulars.persona == regulars.derived).mean()
    precision = (named.persona == named.derived).mean()
    print(
        f"\nPersona rules against the hidden persona, customers with 3+ orders "
        f"({len(regulars):,}): {accuracy:.1%} named correctly; {len(named) / len(regulars):.1%} "
        f"named at all, and of those {precision:.1%} correctly.\n"
    )
    matrix = pd.crosstab(regulars.persona, regulars.derived).reindex(
        index=PERSONAS, columns=[*PERSONAS, "general"], fill_value=0
    )
    print("| hidden \\ derived | " + " | ".join(matrix.columns) + " |")
    print("|---|" + "---:|" * len(matrix.columns))
    for persona, row in matrix.iterrows():
        print(f"| {persona} | " + " | ".join(f"{int(v):,}" for v in row) + " |")


if __name__ == "__main__":
    main()
