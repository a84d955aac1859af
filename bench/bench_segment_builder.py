"""The web segment builder's live count, and a segment page, on the simulated shop.

Target (issue: features and segments): a count and a sample in under 1 s on 1,000,000
customers. Measures what one live-count request does on the server (read the posted
form, validate it against the whitelisted fields and the DSL, compile, count) and what
a segment's page computes (count and sample, then its overlap with every ready segment).
Usage: python bench/bench_segment_builder.py [N]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

# `python bench/x.py` puts bench/ on the path.
from common import shop, working_copy

from tokui.refresh.features import materialise_features
from tokui.segments.fields import builder_fields
from tokui.segments.library import library
from tokui.segments.preview import count_members, make_context, overlap_with, preview
from tokui.warehouse import connect
from tokui.web.i18n import translate
from tokui.web.segment_form import read_meta, read_tree, to_definition

RUNS = 5

# Two levels: prefecture AND (ever subscribed OR bought in 30 days) AND NOT gift giver,
# AND rice bought in the last year.
FORM = {
    "key": ["bench"],
    "name_ja": ["bench"],
    "n.type": ["and"],
    "n.0.type": ["compare"],
    "n.0.field": ["prefecture"],
    "n.0.op": ["in"],
    "n.0.values": ["東京都", "神奈川県", "大阪府", "北海道"],
    "n.1.type": ["or"],
    "n.1.0.type": ["subscription"],
    "n.1.0.state": ["ever"],
    "n.1.1.type": ["days_ago"],
    "n.1.1.field": ["last_order"],
    "n.1.1.mode": ["within"],
    "n.1.1.days": ["30"],
    "n.2.type": ["compare"],
    "n.2.negate": ["1"],
    "n.2.field": ["persona"],
    "n.2.op": ["eq"],
    "n.2.value": ["gift_giver"],
    "n.3.type": ["bought"],
    "n.3.target": ["category"],
    "n.3.category": ["米"],
    "n.3.days": ["365"],
}


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    bench = shop(customers)
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(working_copy(bench, Path(tmp)))
        materialise_features(con, bench.config.end_date)
        definitions = library()

        def t(key: str, **values: object) -> str:
            return translate("ja", key, **values)

        live, members = [], 0
        for _ in range(RUNS):
            t0 = time.perf_counter()
            fields = builder_fields(con)
            out = to_definition(read_tree(FORM), read_meta(FORM), fields, t)
            assert out.definition is not None, out.errors
            ctx = make_context(con, resolve=definitions.get)
            members = count_members(ctx, out.definition)
            live.append(time.perf_counter() - t0)

        assert out.definition is not None
        pages, overlaps = [], []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            ctx = make_context(con, resolve=definitions.get)
            preview(ctx, out.definition, sample=20)
            pages.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            overlap_with(ctx, out.definition, list(definitions.values()))
            overlaps.append(time.perf_counter() - t0)
        con.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    n = len(definitions)
    print(
        "`python bench/bench_segment_builder.py` — on the cached simulated shop "
        f"(bench/common.py); median of {RUNS} runs.\n"
    )
    print(
        "| customers | members | live count s (form → DSL → count) | count + sample of 20 s | "
        f"overlap with {n} ready segments s | peak RSS GiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {customers:,} | {members:,} | {median(live):.3f} | {median(pages):.3f} | "
        f"{median(overlaps):.3f} | {peak:.2f} |"
    )


if __name__ == "__main__":
    main()
