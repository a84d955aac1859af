"""The dry run on the hand-made shop (tests/scenarios/shop.py): entries at the moment
their trigger fired, and no second entry while a journey of the scenario is still on."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.scenarios.shop import scenario
from tokui.clock import FixedClock
from tokui.scenarios.definition import parse_definition
from tokui.scenarios.dryrun import dry_run
from tokui.workspace import Workspace


def test_entries_come_at_the_moment_the_trigger_fired(sws: Workspace) -> None:
    # c2's cart add at 01:00 UTC, abandoned for an hour: enters at 02:00 (11:00 JST) and
    # gets the LINE message then; c3's cart was followed by an order.
    d = parse_definition(
        scenario(steps=[{"id": "line", "type": "send", "channel": "line", "template": "sc-line"}])
    )
    r = dry_run(sws, d, FixedClock(datetime(2026, 1, 6, 3, tzinfo=UTC)), days=2)
    at = datetime(2026, 1, 5, 2, tzinfo=UTC)
    assert r.entered == [("c2", "cart:2026-01-05T01:00:00", at)]
    assert [(m.customer_id, m.step_id, m.channel, m.at) for m in r.messages] == [
        ("c2", "line", "line", at)
    ]


def test_no_second_entry_while_the_journey_is_on(sws: Workspace) -> None:
    """Weekly on Tuesdays (2026-01-06, 01-13, 01-20, 01-27), re-entry always, a journey
    of 10 days: each customer enters on the 6th (00:00 JST), is still on the journey on
    the 13th, and enters again on the 20th; the 27th is past the end of the replay."""
    d = parse_definition(
        scenario(
            trigger={"type": "weekly", "weekday": 1},
            entry={"reentry": "always"},
            steps=[{"id": "wait", "type": "wait", "days": 10}, {"id": "end", "type": "end"}],
        )
    )
    r = dry_run(sws, d, FixedClock(datetime(2026, 1, 25, 3, tzinfo=UTC)), days=21)
    got = sorted((c, o) for c, o, _ in r.entered)
    days = ("weekly:2026-01-06", "weekly:2026-01-20")
    assert got == [(c, o) for c in ("c1", "c2", "c3") for o in days]
    assert r.outcomes == {"completed": 3, "still_active": 3}
