"""The weekly PDCA report on the hand-made shop: the rules' suggestions and the HTML."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF, S1, T0
from tokui.measure.report import build_report, render_report, week_of
from tokui.measure.stats import sample_size_per_arm
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.state.db import session_scope


def test_week_of_is_the_local_monday() -> None:
    monday, start, end = week_of(date(2026, 1, 8))
    assert monday == date(2026, 1, 5)
    assert (start.isoformat(), end.isoformat()) == ("2026-01-04T15:00:00", "2026-01-11T15:00:00")


def test_suggestions_and_html(stores: Stores) -> None:
    if stores.kind != "embedded":
        pytest.skip("the report reads the same functions tested on both stores")
    with session_scope(stores.sessions) as db:
        # A name with markup: the report must show it as text.
        store.save(db, parse_definition({**S1, "name_ja": "<script>alert(1)</script>"}), T0)
        report = build_report(stores.con, db, date(2026, 1, 5), AS_OF.replace(tzinfo=UTC))
    sections = {s.key: s for s in report.scenarios}
    assert list(sections) == ["ab", "ab3", "s1", "s2"]
    rules = {k: [(g.level, g.key) for g in s.suggestions] for k, s in sections.items()}
    assert rules["ab"][0] == ("act", "ab_promote")
    assert sections["ab"].suggestions[0].values == {"step": "split", "arm": "b", "p": "0.028"}
    # ab3: chi-squared p = 0.058; 14,751 per arm would be needed, 10 are there.
    assert rules["ab3"] == [("info", "ab_keep")]
    more = sample_size_per_arm(0.1, 0.01) - 10
    assert more == 14_741
    assert sections["ab3"].suggestions[0].values == {"step": "split", "more": f"{more:,}"}
    # s1: 10 against 10 is too few to judge; 1 of 9 unsubscribed, 1 of 10 bounced.
    assert rules["s1"] == [
        ("info", "uplift_wait"),
        ("info", "uplift_wait"),
        ("warn", "unsubscribe_high"),
        ("warn", "bounce_high"),
    ]
    assert sections["s1"].this_week["messages"] == 10 and sections["s1"].last_week == {}

    ja = render_report(report, "ja")
    en = render_report(report, "en")
    assert "週次PDCAレポート" in ja and "Weekly PDCA report" in en
    assert "パターン b が有意に良い結果です (p=0.028)" in ja
    assert "arm b is significantly better (p=0.028). Promote it." in en
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ja and "<script>" not in ja
    assert "Unsubscribe rate 11.1% is above 0.5%" in en
    assert "Global control: only 2 customers in the control group" in en
    assert f"about {more:,} more customers per arm" in en
    assert "{" not in en.split("<body>")[1].replace("{ ", "")  # every placeholder filled
    with pytest.raises(ValueError):
        render_report(report, "fr")
