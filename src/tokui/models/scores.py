"""Where model outputs land in the warehouse: customer_scores and subscription_scores.

customer_scores holds one row per (customer, model). Each model fills the columns it
owns and leaves the others empty, so a new model (churn risk, ...) adds its columns here
and its rows beside the others without touching existing ones; segments and templates
read one model's rows with `model == "clv"`. Both tables are derived: every scoring run
replaces them whole, in one transaction, so readers never see half a refresh.
"""

from __future__ import annotations

import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from psycopg import sql as psql

from tokui.warehouse.load import conform
from tokui.warehouse.schema import C, TableSpec, create_table_sql, dialect_of
from tokui.warehouse.sql import table_ref, transaction

CUSTOMER_SCORES = TableSpec(
    "customer_scores",
    "顧客スコア (予測モデル)",
    "Customer scores (predictive models)",
    (
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C(
            "model",
            "string",
            False,
            "モデル",
            "Model",
            ("clv", "next_purchase", "churn_subscription", "dormancy"),
        ),
        C("computed_at", "timestamp", False, "計算日時 (UTC)", "Computed at (UTC)"),
        C("as_of", "date", False, "基準日", "Reference date"),
        # clv: MBG/NBD (or BG/NBD, Pareto/NBD) + Gamma-Gamma on one-off purchases
        C("frequency", "int64", True, "リピート購入日数", "Repeat purchase days"),
        C(
            "recency_days",
            "int64",
            True,
            "初回から最終購入まで (日)",
            "Days first to last purchase",
        ),
        C("t_days", "int64", True, "初回購入からの日数", "Days since first purchase"),
        C("p_alive", "float64", True, "生存確率", "Probability still active"),
        C(
            "expected_purchases_90d",
            "float64",
            True,
            "90日の予測購入回数",
            "Expected purchases, 90 days",
        ),
        C("expected_avg_spend", "float64", True, "予測平均購入単価", "Expected spend per purchase"),
        C("clv_12m", "float64", True, "12か月の予測LTV (割引後)", "12-month CLV (discounted)"),
        # next_purchase: empirical-Bayes log-interval model
        C("next_purchase_date", "date", True, "次回購入予測日", "Expected next purchase date"),
        C(
            "typical_interval_days",
            "float64",
            True,
            "典型的な購入間隔 (日)",
            "Typical interval (days)",
        ),
        # churn_subscription (riskiest live subscription) and dormancy: LightGBM, calibrated
        C("churn_probability", "float64", True, "離脱確率", "Probability of leaving"),
        C("churn_decile", "int64", True, "リスク十分位 (1=最も高い)", "Risk decile (1 = highest)"),
        C("reason_1", "string", True, "主な理由1 (コード)", "Top reason 1 (code)"),
        C("reason_2", "string", True, "主な理由2 (コード)", "Top reason 2 (code)"),
        C("reason_3", "string", True, "主な理由3 (コード)", "Top reason 3 (code)"),
        C("subscription_id", "string", True, "対象の定期契約ID", "Subscription scored"),
    ),
    ("customer_id", "model"),
)

RECOMMENDATIONS = TableSpec(
    "recommendations",
    "おすすめ商品 (顧客別)",
    "Recommendations (per customer)",
    (
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C("rank", "int64", False, "順位", "Rank"),
        C("product_id", "string", False, "商品ID", "Product id"),
        C("score", "float64", False, "スコア", "Score"),
        C(
            "reason",
            "string",
            False,
            "理由",
            "Reason",
            ("bought_with", "new_in_category", "popular"),
        ),
        C("reason_product_id", "string", True, "理由の商品ID", "Product behind the reason"),
        C("computed_at", "timestamp", False, "計算日時 (UTC)", "Computed at (UTC)"),
        C("as_of", "date", False, "基準日", "Reference date"),
    ),
    ("customer_id", "rank"),
)

PRODUCT_PAIRS = TableSpec(
    "product_pairs",
    "一緒に買われる商品",
    "Products bought together",
    (
        C("product_id", "string", False, "商品ID", "Product id"),
        C("paired_product_id", "string", False, "一緒に買われる商品ID", "Paired product id"),
        C("orders_together", "int64", False, "同時購入の受注数", "Orders with both"),
        C("support", "float64", False, "支持度", "Support"),
        C("confidence", "float64", False, "確信度", "Confidence"),
        C("lift", "float64", False, "リフト値", "Lift"),
        C("rank", "int64", False, "順位 (リフト順)", "Rank by lift"),
        C("computed_at", "timestamp", False, "計算日時 (UTC)", "Computed at (UTC)"),
        C("as_of", "date", False, "基準日", "Reference date"),
    ),
    ("product_id", "paired_product_id"),
)

SUBSCRIPTION_SCORES = TableSpec(
    "subscription_scores",
    "定期契約スコア (sBG)",
    "Subscription scores (sBG)",
    (
        C("subscription_id", "string", False, "定期契約ID", "Subscription id"),
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C("product_id", "string", False, "商品ID", "Product id"),
        C("cohort", "date", False, "開始四半期", "Start quarter"),
        C("computed_at", "timestamp", False, "計算日時 (UTC)", "Computed at (UTC)"),
        C("as_of", "date", False, "基準日", "Reference date"),
        C(
            "fit_level",
            "string",
            False,
            "推定単位",
            "Fitted on",
            ("product_cohort", "product", "all"),
        ),
        C("renewals", "int64", False, "継続回数", "Renewals so far"),
        C("p_renew_next", "float64", False, "次回継続確率", "Probability of the next renewal"),
        C(
            "expected_deliveries_12m",
            "float64",
            False,
            "12か月の予測お届け回数",
            "Expected deliveries, 12 months",
        ),
        C(
            "derl_deliveries",
            "float64",
            False,
            "割引後の残存お届け回数 (DERL)",
            "Discounted expected residual deliveries (DERL)",
        ),
        C("revenue_per_delivery", "float64", False, "1回あたり売上", "Revenue per delivery"),
        C(
            "expected_revenue_12m",
            "float64",
            False,
            "12か月の予測売上",
            "Expected revenue, 12 months",
        ),
        C(
            "expected_remaining_revenue",
            "float64",
            False,
            "割引後の残存売上",
            "Discounted expected residual revenue",
        ),
    ),
    ("subscription_id",),
)


def replace_table(con: BaseBackend, spec: TableSpec, data: pa.Table) -> int:
    """Replace a derived table with `data` in one transaction (drop, create, fill)."""
    arrow = conform(spec, data)
    dialect = dialect_of(con)
    drop = sge.Drop(this=table_ref(spec.name), kind="TABLE", exists=True).sql(dialect)
    create = create_table_sql(spec, dialect)
    if con.name == "duckdb":
        staged = f"_tokui_scores_{spec.name}"
        con.con.register(staged, arrow)
        try:
            with transaction(con) as execute:
                execute(drop)
                execute(create)
                execute(
                    sge.insert(sge.select("*").from_(table_ref(staged)), table_ref(spec.name)).sql(
                        dialect
                    )
                )
        finally:
            con.con.unregister(staged)
    else:
        raw = con.con
        with raw.cursor() as cur, raw.transaction():
            cur.execute(drop)
            cur.execute(create)
            # psycopg composes COPY from quoted identifiers, never from data
            copy_sql = psql.SQL("COPY {} ({}) FROM STDIN").format(
                psql.Identifier(spec.name),
                psql.SQL(", ").join(map(psql.Identifier, spec.column_names)),
            )
            with cur.copy(copy_sql) as copy:
                for batch in arrow.to_batches(max_chunksize=50_000):
                    for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                        copy.write_row(row)
    return int(arrow.num_rows)
