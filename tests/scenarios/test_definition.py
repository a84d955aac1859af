"""Scenario definitions: validation errors that name the step and field, YAML round
trips, stable split and holdout buckets, wait timing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.scenarios.shop import scenario
from tokui.clock import DEFAULT_TZ
from tokui.scenarios import store
from tokui.scenarios.definition import DefinitionError, Wait, parse_definition
from tokui.scenarios.engine import bucket, message_key
from tokui.scenarios.library import load_library
from tokui.scenarios.timing import wait_target


def error(**overrides: Any) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_definition(scenario(**overrides))
    return str(info.value)


def test_errors_name_the_step_and_field() -> None:
    steps = [
        {"id": "a", "type": "wait", "days": 1},
        {"id": "mail", "type": "send", "channel": "fax", "template": "x"},
    ]
    assert error(steps=steps).startswith("steps[1] (mail).channel: Input should be 'email'")
    steps = [{"id": "mail", "type": "send", "channel": "email", "template": "Bad Key"}]
    assert error(steps=steps).startswith("steps[0] (mail).template: String should match")
    steps = [{"id": "w", "type": "wait"}]
    assert error(steps=steps) == ("steps[0] (w): give days, hours, at_time or until_field")


def test_graph_errors() -> None:
    steps = [{"id": "a", "type": "end", "next": "zz"}]
    assert error(steps=steps) == "steps[0] (a).next: no step 'zz'"
    steps = [{"id": "a", "type": "end"}, {"id": "b", "type": "end", "next": "a"}]
    assert error(steps=steps) == ("steps[1] (b).next: 'a' is not after this step")
    steps = [{"id": "a", "type": "end"}, {"id": "a", "type": "end"}]
    assert error(steps=steps) == "steps[1] (a).id: duplicate step id"


def test_condition_uses_the_segment_language() -> None:
    bad = {"type": "compare", "field": "frequency", "op": "in", "value": 3}
    steps = [{"id": "c", "type": "condition", "condition": bad}]
    assert "steps[0] (c).condition.compare: in needs a non-empty list" in error(steps=steps)


def test_entry_and_trigger_errors() -> None:
    assert "entry: reentry after_days needs reentry_days >= 1" in error(
        entry={"reentry": "after_days"}
    )
    naive = {"type": "broadcast", "at": "2026-01-05T10:00:00"}
    assert "give the time zone" in error(trigger=naive)
    assert "trigger: Input tag 'rain' found" in error(trigger={"type": "rain"})
    no_day = {"type": "seasonal", "occasion": "custom", "month": 2}
    assert "trigger.seasonal: month and day go with occasion custom" in error(trigger=no_day)
    bad_day = {"type": "seasonal", "occasion": "custom", "month": 2, "day": 30}
    assert "trigger.seasonal: day is out of range for month" in error(trigger=bad_day)


def test_yaml_round_trip_and_bad_yaml() -> None:
    for ready in load_library():
        text = store.to_yaml(ready.definition)
        assert store.from_yaml(text) == ready.definition
    with pytest.raises(DefinitionError, match=r"^x.yaml: not valid YAML"):
        store.from_yaml("key: [", "x.yaml")
    with pytest.raises(DefinitionError, match=r"^x.yaml: steps\[0\] \(m\).template"):
        store.from_yaml(
            "key: k\nname_ja: a\nname_en: a\ntrigger: {type: registered}\n"
            "steps: [{id: m, type: send, channel: email}]\n",
            "x.yaml",
        )


def test_buckets_are_stable_and_follow_the_weights() -> None:
    ids = [f"c{i}" for i in range(20_000)]
    first = [bucket("split:ab", "s", c) for c in ids]
    assert first == [bucket("split:ab", "s", c) for c in ids]
    # Another scenario or step shuffles people independently.
    other = [bucket("split:ab", "t", c) for c in ids]
    assert sum((a < 0.5) == (b < 0.5) for a, b in zip(first, other, strict=True)) == pytest.approx(
        10_000, abs=300
    )
    share = Counter("a" if p < 0.25 else "b" for p in first)
    assert share["a"] == pytest.approx(5_000, abs=250)  # 1:3 weights


def test_message_keys_stay_within_the_outbox_limit() -> None:
    short = message_key("cart", 2, "mail", "cart:2026-01-05T01:00:00", "c1")
    assert short == "sc:cart:v2:mail:cart:2026-01-05T01:00:00"
    long = message_key("k" * 64, 2, "s" * 32, "o" * 80, "c" * 64)
    assert len(long) + 1 + 64 <= 200 and long.startswith("sc:" + "k" * 64 + ":v2:")


def test_wait_timing() -> None:
    start = datetime(2026, 1, 5, 3, tzinfo=UTC)  # 12:00 JST
    at_ten = Wait(id="w", days=1, at_time="10:00")
    assert wait_target(at_ten, start, {}, DEFAULT_TZ) == datetime(2026, 1, 7, 1, tzinfo=UTC)
    same_day = Wait(id="w", at_time="15:00")
    assert wait_target(same_day, start, {}, DEFAULT_TZ) == datetime(2026, 1, 5, 6, tzinfo=UTC)
    birthday = Wait(id="w", until_field="birth_date", days_before=2, at_time="10:00")
    customer = {"birth_date": date(1990, 3, 1)}
    assert wait_target(birthday, start, customer, DEFAULT_TZ) == datetime(
        2026, 2, 27, 1, tzinfo=UTC
    )
    passed = {"birth_date": date(1990, 1, 2)}  # this year's is over: next year's
    assert wait_target(birthday, start, passed, DEFAULT_TZ) == datetime(2026, 12, 31, 1, tzinfo=UTC)
    assert wait_target(birthday, start, {"birth_date": None}, DEFAULT_TZ) is None
