"""Readable reasons for a churn or dormancy score, in Japanese and English.

A reason code is `<feature>.<high|low|missing>`: the feature whose tree SHAP
contribution pushed the customer's risk up the most, and whether the customer's value
is above or below the training median (or absent). The same feature can raise risk
from either side (few deliveries: the early drop-off period), so the side is part of
the reason. Codes are stored in the warehouse; texts are looked up here when shown.
"""

from __future__ import annotations

# feature: (ja when high, en when high, ja when low, en when low)
_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "delivery_number": (
        "お届け回数が多い",
        "Many deliveries so far",
        "お届け回数がまだ少ない (初期の離脱期)",
        "Few deliveries so far (early drop-off period)",
    ),
    "skips_total": ("スキップが多い", "Many skipped deliveries", "スキップが少ない", "Few skips"),
    "skip_rate": (
        "スキップの割合が高い",
        "High share of skipped deliveries",
        "スキップの割合が低い",
        "Low share of skipped deliveries",
    ),
    "skips_last_2": (
        "直近2回のお届けでスキップあり",
        "Skipped one of the last two deliveries",
        "直近2回はスキップなし",
        "No skip in the last two deliveries",
    ),
    "days_since_last_skip": (
        "前回のスキップから日が経っている",
        "Long since the last skip",
        "最近スキップした",
        "Skipped recently",
    ),
    "cycle_days": (
        "お届け周期が長い",
        "Long delivery cycle",
        "お届け周期が短い (量が余りがち)",
        "Short delivery cycle (food may pile up)",
    ),
    "cycle_ratio": (
        "お届け周期を延ばした",
        "Lengthened the delivery cycle",
        "お届け周期を短くした",
        "Shortened the delivery cycle",
    ),
    "cycle_changes_90d": (
        "直近90日にお届け周期を変更",
        "Changed the cycle in the last 90 days",
        "お届け周期の変更なし",
        "No cycle change",
    ),
    "days_to_next": (
        "次回お届けまで日がある",
        "Next delivery is far off",
        "次回お届けが近い (解約の判断時期)",
        "Next delivery is soon (time to decide)",
    ),
    "tenure_days": (
        "利用期間が長い",
        "Long-standing customer",
        "利用開始から間もない",
        "Started recently",
    ),
    "unit_price": ("単価が高い", "High price per delivery", "単価が低い", "Low price per delivery"),
    "discount_rate": ("割引率が高い", "High discount", "割引率が低い", "Low discount"),
    "monthly_amount": (
        "月あたりの支払いが多い",
        "High monthly spend",
        "月あたりの支払いが少ない",
        "Low monthly spend",
    ),
    "points_balance": (
        "ポイント残高が多い",
        "Large points balance",
        "ポイント残高が少ない",
        "Small points balance",
    ),
    "visits_30d": (
        "直近30日のサイト訪問が多い",
        "Many site visits in the last 30 days",
        "直近30日のサイト訪問が少ない",
        "Few site visits in the last 30 days",
    ),
    "visits_prev_60d": (
        "その前60日のサイト訪問が多い",
        "Many site visits in the 60 days before",
        "その前60日のサイト訪問が少ない",
        "Few site visits in the 60 days before",
    ),
    "visit_trend": (
        "サイト訪問が増えている",
        "Site visits are rising",
        "サイト訪問が減っている",
        "Site visits are declining",
    ),
    "one_off_orders_365d": (
        "定期便以外の購入が多い",
        "Many other purchases this year",
        "定期便以外の購入が少ない",
        "Few other purchases this year",
    ),
    "days_since_last": (
        "最終購入から日数が経っている",
        "Long since the last purchase",
        "最近購入した",
        "Bought recently",
    ),
    "purchase_days_365d": (
        "この1年の購入回数が多い",
        "Many purchases in the last year",
        "この1年の購入回数が少ない",
        "Few purchases in the last year",
    ),
    "purchase_days_total": (
        "累計購入回数が多い",
        "Many purchases in total",
        "累計購入回数が少ない",
        "Few purchases in total",
    ),
    "mean_interval": (
        "購入間隔が長い",
        "Long time between purchases",
        "購入間隔が短い",
        "Short time between purchases",
    ),
    "overdue_ratio": (
        "いつもの購入間隔を過ぎている",
        "Overdue against their usual interval",
        "いつもの購入間隔の範囲内",
        "Within their usual interval",
    ),
    "avg_order_value": (
        "購入単価が高い",
        "High order value",
        "購入単価が低い",
        "Low order value",
    ),
    "coupon_share": (
        "クーポン利用が多い",
        "Often buys with a coupon",
        "クーポン利用が少ない",
        "Rarely uses coupons",
    ),
    "gift_share": ("ギフト購入が中心", "Mostly buys gifts", "自宅用の購入が中心", "Buys for self"),
    "cart_adds_30d": (
        "直近30日のカート投入が多い",
        "Many cart adds in the last 30 days",
        "直近30日のカート投入が少ない",
        "Few cart adds in the last 30 days",
    ),
    "has_subscription": (
        "定期便を利用中",
        "Has a subscription",
        "定期便を利用していない",
        "No subscription",
    ),
}

# Why a value is missing, per feature: absence means something specific.
_MISSING: dict[str, tuple[str, str]] = {
    "days_since_last_skip": ("スキップ歴なし", "Never skipped"),
    "mean_interval": ("購入が1回のみ", "Only one purchase"),
    "overdue_ratio": ("購入が1回のみ", "Only one purchase"),
}
_NO_WEB = ("Web行動データなし", "No web data")


def known_feature(feature: str) -> bool:
    return feature in _TEXTS


def reason_text(code: str, lang: str) -> str:
    """The reason in `lang` ("ja" or "en"); unknown codes come back unchanged."""
    feature, _, side = code.rpartition(".")
    en = lang == "en"
    if feature not in _TEXTS:
        return code
    if side == "missing":
        ja_text, en_text = _MISSING.get(feature, _NO_WEB)
        return en_text if en else ja_text
    hi_ja, hi_en, lo_ja, lo_en = _TEXTS[feature]
    if side == "high":
        return hi_en if en else hi_ja
    return lo_en if en else lo_ja
