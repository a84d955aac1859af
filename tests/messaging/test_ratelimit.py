"""The token bucket and the backoff schedule, on a fake clock."""

from __future__ import annotations

import random
from datetime import timedelta

from tokui.messaging.outbox import RetryPolicy
from tokui.messaging.ratelimit import TokenBucket


def test_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, now=lambda: now[0])
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert round(bucket.try_take(), 6) == 0.1  # empty: one token every 0.1 s
    now[0] = 0.25  # 2.5 tokens back
    assert [bucket.try_take() for _ in range(2)] == [0.0, 0.0]
    assert round(bucket.try_take(), 6) == 0.05
    now[0] = 100.0  # never more than the burst
    assert [bucket.try_take() == 0.0 for _ in range(4)] == [True, True, True, False]


def test_backoff_doubles_with_equal_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base=timedelta(seconds=30), cap=timedelta(hours=1))
    rng = random.Random(3)
    for attempt, full in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (12, 3600)]:
        delays = [policy.delay(attempt, rng).total_seconds() for _ in range(200)]
        assert min(delays) >= full / 2 and max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # really spread, not constant
