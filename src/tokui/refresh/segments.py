"""Refresh step: snapshot every segment's members and record entries and exits."""

from __future__ import annotations

from tokui.clock import local_today
from tokui.refresh.pipeline import RefreshContext, refresh_step
from tokui.segments.preview import make_context
from tokui.segments.snapshot import snapshot
from tokui.segments.store import all_definitions


@refresh_step("segments", "Segment memberships, entries and exits")
def refresh_segments(ctx: RefreshContext) -> int:
    with ctx.sessions() as session:
        definitions = all_definitions(session)
    seg_ctx = make_context(ctx.warehouse, resolve=definitions.get, as_of=local_today(ctx.clock))
    sizes = snapshot(seg_ctx, list(definitions.values()))
    return sum(sizes.values())
