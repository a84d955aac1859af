"""customer_features on a hand-made shop; every expected value is worked out in comments.

Reference date 2025-12-31 (JST). Order times are UTC at 03:00, so the local date equals
the UTC date.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from tests.features.shop import AS_OF, load_shop
from tokui.features.customer_features import customer_features_expr
from tokui.warehouse import connect, create_schema


@pytest.fixture
def features(warehouse_url: str) -> Iterator[pd.DataFrame]:
    con = connect(warehouse_url)
    create_schema(con)
    load_shop(con)
    df = customer_features_expr(con, AS_OF).execute().set_index("customer_id").sort_index()
    yield df
    con.disconnect()


def test_demographics(features: pd.DataFrame) -> None:
    # g born 1980-06-01 → 45 on 2025-12-31; n born 1999-12-31 → 26 on its birthday
    assert features.loc["g", "age"] == 45
    assert features.loc["g", "age_band"] == 40
    assert features.loc["n", "age"] == 26
    assert pd.isna(features.loc["i", "age"])
    assert bool(features.loc["n", "has_line"]) and not bool(features.loc["g", "has_line"])


def test_rfm_and_cpm(features: pd.DataFrame) -> None:
    g = features.loc["g"]
    # last 2025-12-10 → 21 days; 3 orders; 17,000 yen; tenure 2024-12-10..2025-12-10 = 365
    assert (g.recency_days, g.frequency, g.monetary, g.tenure_days) == (21, 3, 17_000, 365)
    assert (g.r_score, g.f_score, g.m_score) == (5, 3, 2)
    assert (g.cpm_group, g.cpm_status) == ("steady", "active")
    assert g.orders_365d == 2  # 2024-12-10 is more than 365 days before 2025-12-31
    assert features.loc["r", "frequency"] == 0


def test_lifecycle(features: pd.DataFrame) -> None:
    assert features.loc["r", "lifecycle_stage"] == "registered"
    assert features.loc["n", "lifecycle_stage"] == "first"  # 50 days ago, under 180
    assert features.loc["i", "lifecycle_stage"] == "repeat"  # mean 91 d, 91 days ago (< 182)
    assert features.loc["i", "mean_interval_days"] == 91.0  # 273 days / 3
    # s: mean interval 30 d → expected gap max(60, 60) = 60 d; 330 days since 2025-02-04
    assert features.loc["s", "lifecycle_stage"] == "dormant"


def test_persona_rules(features: pd.DataFrame) -> None:
    # g: 3 of 4 items are gift sets → gift_giver
    assert features.loc["g", "gift_share"] == 0.75
    assert features.loc["g", "persona"] == "gift_giver"
    # n: all 3 items within 60 days of launch → novelty_seeker
    assert features.loc["n", "persona"] == "novelty_seeker"
    # i: 4 of 5 items are 米, 4 orders; the potatoes 2025-10-01 are 30 days before launch
    assert features.loc["i", "main_category_share"] == 0.8
    assert features.loc["i", "novelty_share"] == 0.0
    assert features.loc["i", "persona"] == "ingredient_lover"
    # s: 特選米 8,000 ≥ 2 × 4,000 (米 average) → self_reward
    assert features.loc["s", "premium_share"] == 1.0
    assert features.loc["s", "persona"] == "self_reward"
    assert pd.isna(features.loc["r", "persona"])


def test_main_category_product_and_subscription(features: pd.DataFrame) -> None:
    assert features.loc["g", "main_category"] == "ギフト"
    assert features.loc["g", "main_product"] == "gift"
    assert features.loc["i", "main_product"] == "rice"  # 6,000 yen beats rice2's 2,000
    assert features.loc["i", "subscription_status"] == "active"
    assert features.loc["s", "subscription_status"] == "cancelled"
    assert features.loc["g", "subscription_status"] == "never"


def test_points_and_web(features: pd.DataFrame) -> None:
    assert features.loc["g", "point_balance"] == 110
    assert features.loc["g", "next_point_expiry_on"] == pd.Timestamp("2026-12-10")
    n = features.loc["n"]
    assert (n.events_30d, n.favorites, n.cart_adds_30d, n.access_days_30d) == (3, 1, 1, 2)
    assert n.most_viewed_category == "野菜"  # 3 野菜 events vs 1 米 in 90 days


def test_ranks_follow_rules(warehouse_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tokui.features.ranks import load_rank_rules
    from tokui.refresh.features import materialise_features

    con = connect(warehouse_url)
    create_schema(con)
    load_shop(con)
    materialise_features(con, AS_OF)
    ranks = dict(
        con.table("customer_features")
        .select("customer_id", "computed_rank")
        .execute()
        .itertuples(index=False)
    )
    # orders in the last 365 days: g 2 (15,000 yen), n 1, i 4 (8,300), s 2 (16,000), r 0
    assert ranks == {"g": "silver", "n": "bronze", "i": "silver", "s": "silver", "r": "regular"}
    (tmp_path / "ranks.yaml").write_text(
        "default: member\nranks:\n  - rank: vip\n    name_ja: VIP\n    name_en: VIP\n"
        "    condition: {type: compare, field: monetary, op: ge, value: 16000}\n",
        encoding="utf-8",
    )
    materialise_features(con, AS_OF, load_rank_rules(tmp_path))
    vip = con.table("customer_features").filter(lambda t: t.computed_rank == "vip")
    assert sorted(vip.customer_id.execute()) == ["g", "s"]
    con.disconnect()
