"""Names and display formats of the columns that analysis templates return.

Templates name their result columns in English snake case (stable for CSV and scripts);
people read them in Japanese or English. A column not listed here shows its own name and
gets a format guessed from its name and values, so new templates work before they are
labelled.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

# column -> (Japanese, English)
LABELS: dict[str, tuple[str, str]] = {
    "abandoned_carts": ("カゴ落ち数", "Abandoned carts"),
    "abandonment_rate": ("カゴ落ち率", "Abandonment rate"),
    "abc_rank": ("ABCランク", "ABC rank"),
    "active_end": ("月末の契約数", "Active at month end"),
    "active_start": ("月初の契約数", "Active at month start"),
    "adjusted": ("調整", "Adjusted"),
    "anonymous_cart_adds": ("非会員のカート追加", "Anonymous cart adds"),
    "anonymous_views": ("非会員の閲覧", "Anonymous views"),
    "antecedent": ("条件 (A)", "Antecedent (A)"),
    "antecedent_orders": ("Aを含む注文", "Orders with A"),
    "average_order_value": ("平均客単価", "Average order value"),
    "avg_days_active": ("平均継続日数", "Average days active"),
    "avg_days_to_next": ("次回までの平均日数", "Average days to next"),
    "avg_deliveries": ("平均お届け回数", "Average deliveries"),
    "balance": ("ポイント残高", "Point balance"),
    "bucket": ("区分", "Bucket"),
    "bucket_order": ("区分順", "Bucket order"),
    "buyers": ("購入者数", "Buyers"),
    "cancellations": ("解約数", "Cancellations"),
    "cancelled": ("解約", "Cancelled"),
    "carts": ("カート数", "Carts"),
    "category": ("カテゴリ", "Category"),
    "censored": ("未到来 (打ち切り)", "Not yet due (censored)"),
    "channel": ("経路", "Channel"),
    "churn_rate": ("解約率", "Churn rate"),
    "cohort_month": ("初回購入月", "First purchase month"),
    "cohort_size": ("コホート人数", "Cohort size"),
    "confidence": ("信頼度", "Confidence"),
    "consequent": ("結論 (B)", "Consequent (B)"),
    "consequent_orders": ("Bを含む注文", "Orders with B"),
    "continuation_rate": ("継続率", "Continuation rate"),
    "continued": ("継続", "Continued"),
    "conversion_rate": ("転換率", "Conversion rate"),
    "converted_carts": ("購入に至ったカート", "Converted carts"),
    "count": ("件数", "Count"),
    "coupon_id": ("クーポンID", "Coupon ID"),
    "cpm_group": ("CPMグループ", "CPM group"),
    "cpm_label": ("CPM区分", "CPM segment"),
    "cpm_status": ("現役/離脱", "Active/lapsed"),
    "cumulative": ("累計購入金額", "Cumulative spend"),
    "cumulative_revenue": ("累計売上", "Cumulative revenue"),
    "cumulative_share": ("累積構成比", "Cumulative share"),
    "customer_id": ("顧客ID", "Customer ID"),
    "customers": ("顧客数", "Customers"),
    "days_since_last": ("最終購入からの日数", "Days since last purchase"),
    "decile": ("デシル", "Decile"),
    "deliveries": ("お届け数", "Deliveries"),
    "delivery_count": ("お届け回数", "Delivery count"),
    "delivery_number": ("お届け回", "Delivery number"),
    "discount": ("値引額", "Discount"),
    "discount_type": ("値引の種類", "Discount type"),
    "dormant_customers": ("休眠顧客数", "Dormant customers"),
    "dormant_one_time": ("休眠 (1回購入)", "Dormant, one purchase"),
    "dormant_repeat": ("休眠 (リピート)", "Dormant, repeat"),
    "dormant_revenue": ("休眠顧客の累計売上", "Revenue of dormant customers"),
    "dormant_share": ("休眠率", "Dormant share"),
    "earned": ("付与", "Earned"),
    "expired": ("失効", "Expired"),
    "f2_customers": ("F2転換顧客数", "F2 customers"),
    "f2_rate": ("F2転換率", "F2 rate"),
    "f_score": ("Fスコア", "F score"),
    "first_day_revenue": ("初回購入日の売上", "First-day revenue"),
    "first_month": ("初回購入月", "First purchase month"),
    "first_order": ("初回購入日", "First order"),
    "frequency": ("購入回数", "Frequency"),
    "from_item": ("初回", "First"),
    "fully_observed": ("観測期間が十分", "Fully observed"),
    "granted": ("配布数", "Granted"),
    "group_order": ("グループ順", "Group order"),
    "last_order": ("最終購入日", "Last order"),
    "lift": ("リフト", "Lift"),
    "ltv": ("LTV", "LTV"),
    "ltv_matured": ("LTV (期間経過分)", "LTV (matured)"),
    "m_score": ("Mスコア", "M score"),
    "matured_customers": ("期間経過顧客数", "Matured customers"),
    "max_revenue": ("最大売上", "Max revenue"),
    "mean_interval_days": ("平均購入間隔 (日)", "Mean interval (days)"),
    "min_revenue": ("最小売上", "Min revenue"),
    "monetary": ("購入金額", "Monetary"),
    "month": ("月", "Month"),
    "months_since": ("経過月数", "Months since"),
    "months_since_start": ("申込からの経過月数", "Months since start"),
    "name": ("名称", "Name"),
    "net": ("純増", "Net"),
    "new_customers": ("新規顧客数", "New customers"),
    "next_customers": ("次回購入顧客数", "Customers buying again"),
    "order_no": ("購入回数目", "Purchase number"),
    "orders": ("注文数", "Orders"),
    "orders_per_customer": ("1人あたり注文数", "Orders per customer"),
    "pair_orders": ("A・B同時注文", "Orders with A and B"),
    "product_id": ("商品ID", "Product ID"),
    "quantity": ("数量", "Quantity"),
    "r_score": ("Rスコア", "R score"),
    "rank_no": ("順位", "Rank"),
    "reason": ("理由", "Reason"),
    "recency_days": ("最終購入からの日数", "Recency (days)"),
    "redemption_rate": ("利用率", "Redemption rate"),
    "repeat_customers": ("リピート顧客数", "Repeat customers"),
    "repeat_rate": ("リピート率", "Repeat rate"),
    "retention_from_first": ("初回からの継続率", "Retention from first"),
    "retention_rate": ("継続率", "Retention rate"),
    "revenue": ("売上", "Revenue"),
    "revenue_per_customer": ("1人あたり売上", "Revenue per customer"),
    "revenue_share": ("売上構成比", "Revenue share"),
    "rfm_cell": ("RFMセル", "RFM cell"),
    "risk_ratio": ("リスク比", "Risk ratio"),
    "rule_no": ("ルール番号", "Rule"),
    "share": ("構成比", "Share"),
    "share_of_from": ("初回商品内の構成比", "Share of first"),
    "skip_rate": ("スキップ率", "Skip rate"),
    "skipped": ("スキップ数", "Skipped"),
    "start_month": ("申込月", "Start month"),
    "started": ("新規契約", "Started"),
    "subscriptions": ("契約数", "Subscriptions"),
    "support": ("支持度", "Support"),
    "survival_rate": ("生存率", "Survival rate"),
    "surviving": ("継続中", "Surviving"),
    "tenure_days": ("在籍日数", "Tenure (days)"),
    "threshold_days": ("閾値 (日)", "Threshold (days)"),
    "to_item": ("2回目", "Second"),
    "usage_rate": ("利用率", "Usage rate"),
    "used": ("利用", "Used"),
    "viewers": ("閲覧者数", "Viewers"),
    "views": ("閲覧数", "Views"),
}

# Money in yen, shown with ¥ and no decimals.
_YEN_NAMES = frozenset(
    {
        "average_order_value",
        "cumulative",
        "discount",
        "ltv",
        "ltv_matured",
        "monetary",
        "revenue_per_customer",
    }
)
# Proportions between 0 and 1, shown as percentages.
_RATE_NAMES = frozenset({"support", "confidence", "share"})


def label(column: str, lang: str) -> str:
    pair = LABELS.get(column)
    if pair is None:
        return column
    return pair[0] if lang == "ja" else pair[1]


def column_format(column: str, series: pd.Series) -> str:
    """One of yen, rate, int, decimal, month, date, bool, text."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series) or _holds_dates(series):
        return "month" if column.endswith("month") else "date"
    if pd.api.types.is_numeric_dtype(series):
        if column in _YEN_NAMES or column.endswith("revenue"):
            return "yen"
        if column in _RATE_NAMES or column.endswith(("_rate", "_share", "_from_first")):
            return "rate"
        if pd.api.types.is_integer_dtype(series):
            return "int"
        return "decimal"
    return "text"


def _holds_dates(series: pd.Series) -> bool:
    sample = series.dropna()
    return bool(len(sample)) and isinstance(sample.iloc[0], date)


def format_value(value: Any, fmt: str) -> str:
    """The cell as people read it; empty for a missing value."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return ""
    if fmt == "yen":
        return f"¥{round(float(value)):,}"
    if fmt == "rate":
        return f"{float(value) * 100:.1f}%"
    if fmt == "int":
        return f"{int(value):,}"
    if fmt == "decimal":
        return f"{float(value):,.2f}"
    if fmt in ("month", "date"):
        day = value.date() if isinstance(value, datetime | pd.Timestamp) else value
        if isinstance(day, date):
            return day.strftime("%Y-%m") if fmt == "month" else day.isoformat()
    if fmt == "bool":
        return "✓" if value else "-"
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def plain_value(value: Any, fmt: str) -> Any:
    """The cell for JSON (charts): numbers stay numbers, dates become ISO text."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return None
    if fmt in ("month", "date"):
        return format_value(value, fmt)
    if fmt == "bool":
        return bool(value)
    if fmt in ("yen", "rate", "decimal", "int"):
        # Integers stay integers (¥17000, not 17000.0) in CSV, Excel and chart data.
        return int(value) if isinstance(value, int | np.integer) else float(value)
    return str(value)
