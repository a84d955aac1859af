"""Hand-computed results of the template variants on the shop of tests/analytics/shop_attrs.py.

Each case is (template id, parameters, columns, rows); the rows were worked out by hand
from the fixture tables documented in shop_extra.py and shop_attrs.py (the comments
give the arithmetic for the less obvious ones) and every case runs on DuckDB and
PostgreSQL. Dates compare as YYYY-MM-DD text, whole floats as ints, nulls as None.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.analytics.shop_attrs import open_rich_shop
from tokui.analytics.run import run

CASES = [
    (
        "customer_initial_recent_sales",
        {"as_of": "2025-12-31"},
        (
            "customer_id",
            "first_order",
            "orders",
            "revenue",
            "initial_orders",
            "initial_revenue",
            "recent_orders",
            "recent_revenue",
            "trend",
        ),
        [
            ("b", "2025-03-15", 2, 17000, 2, 17000, 0, 0, "down"),
            ("g", "2024-12-10", 3, 17000, 1, 10000, 1, 5000, "down"),
            ("i", "2025-01-01", 4, 8300, 1, 2000, 0, 0, "down"),
            ("n", "2025-11-11", 1, 900, 1, 900, 1, 900, "flat"),
            ("s", "2025-01-05", 2, 16000, 2, 16000, 0, 0, "down"),
        ],
    ),
    (
        "customer_pyramid_rank",
        {"as_of": "2025-12-31"},
        (
            "rank",
            "members",
            "buyers",
            "orders",
            "revenue",
            "member_share",
            "revenue_share",
            "revenue_per_member",
        ),
        [
            ("gold", 1, 1, 3, 17000, 0.1667, 0.2872, 17000),
            ("bronze", 1, 1, 2, 16000, 0.1667, 0.2703, 16000),
            ("silver", 2, 2, 6, 25300, 0.3333, 0.4274, 12650),
            ("(不明)", 2, 1, 1, 900, 0.3333, 0.0152, 450),
        ],
    ),
    (
        "customer_pyramid_revenue",
        {"as_of": "2025-12-31"},
        ("tier_order", "tier", "customers", "revenue", "min_revenue", "revenue_share"),
        [
            (0, "0-1%", 1, 17000, 17000, 0.2872),
            (1, "1-5%", 0, 0, None, 0),
            (2, "5-20%", 0, 0, None, 0),
            (3, "20-50%", 2, 33000, 16000, 0.5574),
            (4, "50-100%", 2, 9200, 900, 0.1554),
        ],
    ),
    (
        "sales_by_acquisition_channel",
        {"as_of": "2025-12-31"},
        (
            "acquisition_channel",
            "orders",
            "customers",
            "revenue",
            "average_order_value",
            "revenue_share",
        ),
        [
            ("search", 7, 2, 25300, 3614, 0.4274),
            ("line", 2, 1, 17000, 8500, 0.2872),
            ("ad", 3, 2, 16900, 5633, 0.2855),
        ],
    ),
    (
        "sales_by_age_band",
        {"as_of": "2025-12-31"},
        ("age_band", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("(不明)", 6, 2, 25300, 4217, 0.4274),
            ("20s", 1, 1, 900, 900, 0.0152),
            ("40s", 3, 1, 17000, 5667, 0.2872),
            ("60s", 2, 1, 16000, 8000, 0.2703),
        ],
    ),
    (
        "sales_by_channel",
        {"as_of": "2025-12-31"},
        ("channel", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("web", 6, 3, 35000, 5833, 0.5912),
            ("app", 5, 3, 22200, 4440, 0.375),
            ("phone", 1, 1, 2000, 2000, 0.0338),
        ],
    ),
    (
        "sales_by_coupon",
        {"as_of": "2025-12-31"},
        ("coupon", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("no_coupon", 10, 5, 47200, 4720, 0.7973),
            ("coupon", 2, 2, 12000, 6000, 0.2027),
        ],
    ),
    (
        "sales_by_gender",
        {"as_of": "2025-12-31"},
        ("gender", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("female", 7, 2, 25300, 3614, 0.4274),
            ("unknown", 2, 1, 17000, 8500, 0.2872),
            ("male", 3, 2, 16900, 5633, 0.2855),
        ],
    ),
    (
        "sales_by_gift",
        {"as_of": "2025-12-31"},
        ("gift", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("self", 10, 5, 44200, 4420, 0.7466),
            ("gift", 2, 1, 15000, 7500, 0.2534),
        ],
    ),
    (
        "sales_by_hour",
        {"as_of": "2025-12-31"},
        ("hour", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            (12, 12, 5, 59200, 4933, 1),
        ],
    ),
    (
        "sales_by_month",
        {"as_of": "2025-12-31", "start": "2025-01-01", "end": "2025-05-31"},
        ("month", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("2025-01-01", 2, 2, 10000, 5000, 0.2703),
            ("2025-02-01", 1, 1, 8000, 8000, 0.2162),
            ("2025-03-01", 1, 1, 7000, 7000, 0.1892),
            ("2025-04-01", 1, 1, 2000, 2000, 0.0541),
            ("2025-05-01", 1, 1, 10000, 10000, 0.2703),
        ],
    ),
    (
        "sales_by_order_type",
        {"as_of": "2025-12-31"},
        ("order_type", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("one_off", 8, 4, 34200, 4275, 0.5777),
            ("subscription", 4, 3, 25000, 6250, 0.4223),
        ],
    ),
    (
        "sales_by_payment_method",
        {"as_of": "2025-12-31"},
        (
            "payment_method",
            "orders",
            "customers",
            "revenue",
            "average_order_value",
            "revenue_share",
        ),
        [
            ("card", 8, 3, 40300, 5038, 0.6807),
            ("bank", 2, 1, 16000, 8000, 0.2703),
            ("cod", 2, 2, 2900, 1450, 0.049),
        ],
    ),
    (
        "sales_by_prefecture",
        {"as_of": "2025-12-31"},
        ("prefecture", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("(不明)", 2, 1, 17000, 8500, 0.2872),
            ("東京都", 3, 1, 17000, 5667, 0.2872),
            ("福岡県", 2, 1, 16000, 8000, 0.2703),
            ("北海道", 4, 1, 8300, 2075, 0.1402),
            ("大阪府", 1, 1, 900, 900, 0.0152),
        ],
    ),
    (
        "sales_by_shipping_prefecture",
        {"as_of": "2025-12-31"},
        (
            "shipping_prefecture",
            "orders",
            "customers",
            "revenue",
            "average_order_value",
            "revenue_share",
        ),
        [
            ("大阪府", 2, 1, 17000, 8500, 0.2872),
            ("東京都", 3, 1, 17000, 5667, 0.2872),
            ("福岡県", 2, 1, 16000, 8000, 0.2703),
            ("北海道", 4, 1, 8300, 2075, 0.1402),
            ("(不明)", 1, 1, 900, 900, 0.0152),
        ],
    ),
    (
        "sales_by_value_band",
        {"as_of": "2025-12-31"},
        ("value_band", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("1:0-2999", 5, 3, 7200, 1440, 0.1216),
            ("2:3000-4999", 1, 1, 4000, 4000, 0.0676),
            ("3:5000-9999", 4, 3, 28000, 7000, 0.473),
            ("4:10000-19999", 2, 2, 20000, 10000, 0.3378),
        ],
    ),
    (
        "sales_by_weekday",
        {"as_of": "2025-12-31"},
        ("weekday", "orders", "customers", "revenue", "average_order_value", "revenue_share"),
        [
            ("1火", 6, 5, 34900, 5817, 0.5895),
            ("2水", 3, 2, 7300, 2433, 0.1233),
            ("5土", 1, 1, 7000, 7000, 0.1182),
            ("6日", 2, 2, 10000, 5000, 0.1689),
        ],
    ),
    (
        "sales_new_repeat_monthly",
        {"as_of": "2025-12-31", "start": "2025-01-01", "end": "2025-06-30"},
        (
            "month",
            "customers",
            "new_customers",
            "new_revenue",
            "repeat_orders",
            "repeat_revenue",
            "revenue",
            "repeat_revenue_share",
        ),
        [
            ("2025-01-01", 2, 2, 10000, 0, 0, 10000, 0),
            ("2025-02-01", 1, 0, 0, 1, 8000, 8000, 1),
            ("2025-03-01", 1, 1, 7000, 0, 0, 7000, 0),
            ("2025-04-01", 1, 0, 0, 1, 2000, 2000, 1),
            ("2025-05-01", 1, 0, 0, 1, 10000, 10000, 1),
            ("2025-06-01", 1, 0, 0, 1, 2000, 2000, 1),
        ],
    ),
    (
        "rfm_f_distribution",
        {"as_of": "2025-12-31"},
        ("f_score", "customers", "revenue", "min_value", "max_value", "share"),
        [
            (1, 1, 900, 1, 1, 0.2),
            (2, 2, 33000, 2, 2, 0.4),
            (3, 2, 25300, 3, 4, 0.4),
        ],
    ),
    (
        "rfm_grid_fm",
        {"as_of": "2025-12-31"},
        ("f_score", "m_score", "customers", "revenue"),
        [
            (1, 1, 1, 900),
            (2, 2, 2, 33000),
            (3, 1, 1, 8300),
            (3, 2, 1, 17000),
        ],
    ),
    (
        "rfm_grid_rm",
        {"as_of": "2025-12-31"},
        ("r_score", "m_score", "customers", "revenue"),
        [
            (1, 2, 2, 33000),
            (2, 1, 1, 8300),
            (4, 1, 1, 900),
            (5, 2, 1, 17000),
        ],
    ),
    (
        "rfm_m_distribution",
        {"as_of": "2025-12-31"},
        ("m_score", "customers", "revenue", "min_value", "max_value", "share"),
        [
            (1, 2, 9200, 900, 8300, 0.4),
            (2, 3, 50000, 16000, 17000, 0.6),
        ],
    ),
    (
        "rfm_r_distribution",
        {"as_of": "2025-12-31"},
        ("r_score", "customers", "revenue", "min_value", "max_value", "share"),
        [
            (1, 2, 33000, 225, 330, 0.4),
            (2, 1, 8300, 91, 91, 0.2),
            (4, 1, 900, 50, 50, 0.2),
            (5, 1, 17000, 21, 21, 0.2),
        ],
    ),
    (
        "rfm_repeat_rate",
        {"as_of": "2025-12-31"},
        ("r_score", "f_score", "customers", "repeat_customers", "next_revenue", "repeat_rate"),
        [
            (1, 2, 1, 0, 0, 0),
            (2, 2, 2, 1, 5000, 0.5),
            (5, 3, 1, 0, 0, 0),
        ],
    ),
    (
        "rfm_repeat_rate_f",
        {"as_of": "2025-12-31"},
        ("f_score", "customers", "repeat_customers", "next_revenue", "repeat_rate"),
        [
            (2, 3, 1, 5000, 0.3333),
            (3, 1, 0, 0, 0),
        ],
    ),
    (
        "rfm_repeat_rate_m",
        {"as_of": "2025-12-31"},
        ("m_score", "customers", "repeat_customers", "next_revenue", "repeat_rate"),
        [
            (1, 1, 0, 0, 0),
            (2, 3, 1, 5000, 0.3333),
        ],
    ),
    (
        "rfm_repeat_rate_r",
        {"as_of": "2025-12-31"},
        ("r_score", "customers", "repeat_customers", "next_revenue", "repeat_rate"),
        [
            (1, 1, 0, 0, 0),
            (2, 2, 1, 5000, 0.5),
            (5, 1, 0, 0, 0),
        ],
    ),
    (
        "rfm_transition_f",
        {"as_of": "2025-12-31", "from_date": "2025-06-30"},
        ("from_score", "to_score", "customers", "share_of_from"),
        [
            (0, 1, 1, 1),
            (2, 2, 2, 0.5),
            (2, 3, 2, 0.5),
        ],
    ),
    (
        "rfm_transition_m",
        {"as_of": "2025-12-31", "from_date": "2025-06-30"},
        ("from_score", "to_score", "customers", "share_of_from"),
        [
            (0, 1, 1, 1),
            (1, 1, 1, 1),
            (2, 2, 3, 1),
        ],
    ),
    (
        "rfm_transition_r",
        {"as_of": "2025-12-31", "from_date": "2025-06-30"},
        ("from_score", "to_score", "customers", "share_of_from"),
        [
            (0, 4, 1, 1),
            (2, 1, 1, 1),
            (3, 2, 1, 1),
            (4, 1, 1, 1),
            (5, 5, 1, 1),
        ],
    ),
    (
        "cpm_by_acquisition_channel",
        {"as_of": "2025-12-31"},
        (
            "acquisition_channel",
            "cpm_code",
            "cpm_label",
            "customers",
            "revenue",
            "share_of_channel",
        ),
        [
            ("ad", "0a", "初回現役客", 1, 900, 0.5),
            ("ad", "1b", "よちよち離脱客", 1, 16000, 0.5),
            ("line", "1a", "よちよち現役客", 1, 17000, 1),
            ("search", "2a", "コツコツ現役客", 2, 25300, 1),
        ],
    ),
    (
        "cpm_next_period",
        {"as_of": "2025-12-31"},
        (
            "cpm_code",
            "cpm_label",
            "customers",
            "buyers",
            "orders",
            "revenue",
            "purchase_rate",
            "revenue_per_customer",
        ),
        [
            ("1a", "よちよち現役客", 1, 0, 0, 0, 0, 0),
            ("1b", "よちよち離脱客", 1, 0, 0, 0, 0, 0),
            ("2a", "コツコツ現役客", 2, 1, 1, 5000, 0.5, 2500),
        ],
    ),
    (
        "cpm_transition",
        {"as_of": "2025-12-31", "from_date": "2025-06-30"},
        ("from_code", "from_label", "to_code", "to_label", "customers", "share_of_from"),
        [
            ("-", "(未購入)", "0a", "初回現役客", 1, 1),
            ("1a", "よちよち現役客", "1a", "よちよち現役客", 1, 0.5),
            ("1a", "よちよち現役客", "1b", "よちよち離脱客", 1, 0.5),
            ("2a", "コツコツ現役客", "2a", "コツコツ現役客", 2, 1),
        ],
    ),
    (
        "customer_repeat_interval",
        {"as_of": "2025-12-31"},
        (
            "customer_id",
            "intervals",
            "mean_interval",
            "median_interval",
            "min_interval",
            "max_interval",
            "last_order",
            "days_since_last",
            "orders",
            "overdue_ratio",
        ),
        [
            ("b", 1, 66, 66, 66, 66, "2025-05-20", 225, 2, 3.41),
            ("g", 2, 182.5, 182.5, 173, 192, "2025-12-10", 21, 3, 0.12),
            ("i", 3, 91, 91, 90, 92, "2025-10-01", 91, 4, 1),
            ("s", 1, 30, 30, 30, 30, "2025-02-04", 330, 2, 11),
        ],
    ),
    (
        "days_to_nth_purchase",
        {"as_of": "2025-12-31"},
        ("order_no", "customers", "mean_days_from_first", "median_days_from_first"),
        [
            (2, 4, 89.75, 78),
            (3, 2, 273, 273),
            (4, 1, 273, 273),
        ],
    ),
    (
        "nth_purchase_by_category",
        {"as_of": "2025-12-31"},
        (
            "category",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("米", 4, 1, 22000, 5500, 2, 0.5),
        ],
    ),
    (
        "nth_purchase_by_channel",
        {"as_of": "2025-12-31"},
        (
            "channel",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("web", 2, 0.5, 10000, 5000, 1, 0.5),
            ("app", 1, 0.25, 10000, 10000, 0, 0),
            ("phone", 1, 0.25, 2000, 2000, 1, 1),
        ],
    ),
    (
        "nth_purchase_by_coupon",
        {"as_of": "2025-12-31"},
        (
            "coupon",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("no_coupon", 4, 1, 22000, 5500, 2, 0.5),
        ],
    ),
    (
        "nth_purchase_by_order_type",
        {"as_of": "2025-12-31"},
        (
            "order_type",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("one_off", 3, 0.75, 14000, 4667, 2, 0.6667),
            ("subscription", 1, 0.25, 8000, 8000, 0, 0),
        ],
    ),
    (
        "nth_purchase_by_payment_method",
        {"as_of": "2025-12-31"},
        (
            "payment_method",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("card", 2, 0.5, 12000, 6000, 1, 0.5),
            ("bank", 1, 0.25, 8000, 8000, 0, 0),
            ("cod", 1, 0.25, 2000, 2000, 1, 1),
        ],
    ),
    (
        "nth_purchase_by_product_id",
        {"as_of": "2025-12-31"},
        (
            "product_id",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("rice_p", 2, 0.5, 18000, 9000, 0, 0),
            ("rice", 1, 0.25, 2000, 2000, 1, 1),
            ("rice2", 1, 0.25, 2000, 2000, 1, 1),
        ],
    ),
    (
        "nth_purchase_by_value_band",
        {"as_of": "2025-12-31"},
        (
            "value_band",
            "customers",
            "customer_share",
            "revenue",
            "average_order_value",
            "next_customers",
            "next_rate",
        ),
        [
            ("1:0-2999", 2, 0.5, 4000, 2000, 2, 1),
            ("3:5000-9999", 1, 0.25, 8000, 8000, 0, 0),
            ("4:10000-19999", 1, 0.25, 10000, 10000, 0, 0),
        ],
    ),
    (
        "repeat_by_acquisition_channel",
        {"as_of": "2025-12-31"},
        (
            "acquisition_channel",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("ad", 2, 1, 1, 0.5, 0.5, 30),
            ("search", 2, 1, 2, 0.5, 1, 131.5),
            ("line", 1, 1, 1, 1, 1, 66),
        ],
    ),
    (
        "repeat_by_age_band",
        {"as_of": "2025-12-31"},
        (
            "age_band",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("(不明)", 2, 2, 2, 1, 1, 78),
            ("20s", 1, 0, 0, 0, 0, None),
            ("40s", 1, 0, 1, 0, 1, 173),
            ("60s", 1, 1, 1, 1, 1, 30),
        ],
    ),
    (
        "repeat_by_first_channel",
        {"as_of": "2025-12-31"},
        (
            "channel",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("web", 3, 2, 3, 0.6667, 1, 90),
            ("app", 2, 1, 1, 0.5, 0.5, 66),
        ],
    ),
    (
        "repeat_by_first_coupon",
        {"as_of": "2025-12-31"},
        (
            "coupon",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("no_coupon", 4, 2, 3, 0.5, 0.75, 90),
            ("coupon", 1, 1, 1, 1, 1, 66),
        ],
    ),
    (
        "repeat_by_first_gift",
        {"as_of": "2025-12-31"},
        (
            "gift",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("self", 4, 3, 3, 0.75, 0.75, 66),
            ("gift", 1, 0, 1, 0, 1, 173),
        ],
    ),
    (
        "repeat_by_first_order_type",
        {"as_of": "2025-12-31"},
        (
            "order_type",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("subscription", 3, 3, 3, 1, 1, 66),
            ("one_off", 2, 0, 1, 0, 0.5, 173),
        ],
    ),
    (
        "repeat_by_first_payment_method",
        {"as_of": "2025-12-31"},
        (
            "payment_method",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("card", 3, 2, 3, 0.6667, 1, 90),
            ("bank", 1, 1, 1, 1, 1, 30),
            ("cod", 1, 0, 0, 0, 0, None),
        ],
    ),
    (
        "repeat_by_first_shipping_prefecture",
        {"as_of": "2025-12-31"},
        (
            "shipping_prefecture",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("(不明)", 1, 0, 0, 0, 0, None),
            ("北海道", 1, 1, 1, 1, 1, 90),
            ("大阪府", 1, 1, 1, 1, 1, 66),
            ("東京都", 1, 0, 1, 0, 1, 173),
            ("福岡県", 1, 1, 1, 1, 1, 30),
        ],
    ),
    (
        "repeat_by_first_value_band",
        {"as_of": "2025-12-31"},
        (
            "value_band",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("1:0-2999", 2, 1, 1, 0.5, 0.5, 90),
            ("3:5000-9999", 2, 2, 2, 1, 1, 48),
            ("4:10000-19999", 1, 0, 1, 0, 1, 173),
        ],
    ),
    (
        "repeat_by_gender",
        {"as_of": "2025-12-31"},
        (
            "gender",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("female", 2, 1, 2, 0.5, 1, 131.5),
            ("male", 2, 1, 1, 0.5, 0.5, 30),
            ("unknown", 1, 1, 1, 1, 1, 66),
        ],
    ),
    (
        "repeat_by_prefecture",
        {"as_of": "2025-12-31"},
        (
            "prefecture",
            "new_customers",
            "f2_customers",
            "repeat_customers",
            "f2_rate",
            "repeat_rate",
            "median_days_to_second",
        ),
        [
            ("(不明)", 1, 1, 1, 1, 1, 66),
            ("北海道", 1, 1, 1, 1, 1, 90),
            ("大阪府", 1, 0, 0, 0, 0, None),
            ("東京都", 1, 0, 1, 0, 1, 173),
            ("福岡県", 1, 1, 1, 1, 1, 30),
        ],
    ),
    (
        "repeat_interval_by_order_no",
        {"as_of": "2025-12-31"},
        ("order_no", "pairs", "mean_days", "median_days", "p25_days", "p75_days"),
        [
            (1, 4, 89.75, 78, 57, 110.75),
            (2, 2, 141.5, 141.5, 116.25, 166.75),
            (3, 1, 92, 92, 92, 92),
        ],
    ),
    (
        "cohort_cumulative_repeat",
        {"as_of": "2025-12-31", "max_months": "3", "start": "2025-01-01", "end": "2025-03-31"},
        ("cohort_month", "months_since", "cohort_size", "repeaters", "cumulative_repeat_rate"),
        [
            ("2025-01-01", 0, 2, 0, 0),
            ("2025-01-01", 1, 2, 1, 0.5),
            ("2025-01-01", 2, 2, 1, 0.5),
            ("2025-01-01", 3, 2, 2, 1),
            ("2025-03-01", 0, 1, 0, 0),
            ("2025-03-01", 1, 1, 0, 0),
            ("2025-03-01", 2, 1, 1, 1),
            ("2025-03-01", 3, 1, 1, 1),
        ],
    ),
    (
        "cohort_retention_by_acquisition_channel",
        {"as_of": "2025-12-31", "max_months": "2"},
        (
            "acquisition_channel",
            "months_since",
            "cohort_size",
            "customers",
            "revenue",
            "retention_rate",
        ),
        [
            ("ad", 0, 2, 2, 8900, 1),
            ("ad", 1, 2, 1, 8000, 0.5),
            ("ad", 2, 1, 0, 0, 0),
            ("line", 0, 1, 1, 7000, 1),
            ("line", 1, 1, 0, 0, 0),
            ("line", 2, 1, 1, 10000, 1),
            ("search", 0, 2, 2, 12000, 1),
            ("search", 1, 2, 0, 0, 0),
            ("search", 2, 2, 0, 0, 0),
        ],
    ),
    (
        "cohort_retention_by_first_channel",
        {"as_of": "2025-12-31", "max_months": "3"},
        ("channel", "months_since", "cohort_size", "customers", "revenue", "retention_rate"),
        [
            ("app", 0, 2, 2, 7900, 1),
            ("app", 1, 2, 0, 0, 0),
            ("app", 2, 1, 1, 10000, 1),
            ("app", 3, 1, 0, 0, 0),
            ("web", 0, 3, 3, 20000, 1),
            ("web", 1, 3, 1, 8000, 0.3333),
            ("web", 2, 3, 0, 0, 0),
            ("web", 3, 3, 1, 2000, 0.3333),
        ],
    ),
    (
        "ltv_12_24_by_acquisition_channel",
        {"as_of": "2025-12-31"},
        (
            "acquisition_channel",
            "customers",
            "customers_12m",
            "ltv_12m",
            "customers_24m",
            "ltv_24m",
        ),
        [
            ("ad", 2, 0, None, 0, None),
            ("search", 2, 1, 12000, 0, None),
            ("line", 1, 0, None, 0, None),
        ],
    ),
    (
        "ltv_12_24_by_first_category",
        {"as_of": "2026-12-31"},
        ("first_category", "customers", "customers_12m", "ltv_12m", "customers_24m", "ltv_24m"),
        [
            ("ギフト", 2, 2, 14500, 1, 17000),
            ("米", 2, 2, 12150, 0, None),
            ("野菜", 1, 1, 900, 0, None),
        ],
    ),
    (
        "ltv_12_24_by_first_month",
        {"as_of": "2025-12-31"},
        ("first_month", "customers", "customers_12m", "ltv_12m", "customers_24m", "ltv_24m"),
        [
            ("2024-12-01", 1, 1, 12000, 0, None),
            ("2025-01-01", 2, 0, None, 0, None),
            ("2025-03-01", 1, 0, None, 0, None),
            ("2025-11-01", 1, 0, None, 0, None),
        ],
    ),
    (
        "ltv_12_24_by_first_product",
        {"as_of": "2026-12-31"},
        ("first_product", "customers", "customers_12m", "ltv_12m", "customers_24m", "ltv_24m"),
        [
            ("gift", 2, 2, 14500, 1, 17000),
            ("rice", 1, 1, 8300, 0, None),
            ("rice_p", 1, 1, 16000, 0, None),
            ("veg_new", 1, 1, 900, 0, None),
        ],
    ),
    (
        "ltv_by_age_band",
        {"as_of": "2025-12-31"},
        (
            "age_band",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("(不明)", 2, 25300, 12650, 3, 0, None),
            ("20s", 1, 900, 900, 1, 0, None),
            ("40s", 1, 17000, 17000, 3, 1, 17000),
            ("60s", 1, 16000, 16000, 2, 0, None),
        ],
    ),
    (
        "ltv_by_first_channel",
        {"as_of": "2025-12-31"},
        (
            "first_channel",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("web", 3, 41300, 13767, 3, 1, 17000),
            ("app", 2, 17900, 8950, 1.5, 0, None),
        ],
    ),
    (
        "ltv_by_first_coupon",
        {"as_of": "2025-12-31"},
        (
            "first_coupon",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("no_coupon", 4, 42200, 10550, 2.5, 1, 17000),
            ("coupon", 1, 17000, 17000, 2, 0, None),
        ],
    ),
    (
        "ltv_by_first_month",
        {"as_of": "2025-12-31"},
        (
            "first_month",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("2024-12-01", 1, 17000, 17000, 3, 1, 17000),
            ("2025-01-01", 2, 24300, 12150, 3, 0, None),
            ("2025-03-01", 1, 17000, 17000, 2, 0, None),
            ("2025-11-01", 1, 900, 900, 1, 0, None),
        ],
    ),
    (
        "ltv_by_first_order_type",
        {"as_of": "2025-12-31"},
        (
            "first_order_type",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("subscription", 3, 41300, 13767, 2.67, 0, None),
            ("one_off", 2, 17900, 8950, 2, 1, 17000),
        ],
    ),
    (
        "ltv_by_first_payment_method",
        {"as_of": "2025-12-31"},
        (
            "first_payment_method",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("card", 3, 42300, 14100, 3, 1, 17000),
            ("bank", 1, 16000, 16000, 2, 0, None),
            ("cod", 1, 900, 900, 1, 0, None),
        ],
    ),
    (
        "ltv_by_gender",
        {"as_of": "2025-12-31"},
        (
            "gender",
            "customers",
            "revenue",
            "ltv",
            "orders_per_customer",
            "matured_customers",
            "ltv_matured",
        ),
        [
            ("female", 2, 25300, 12650, 3.5, 1, 17000),
            ("male", 2, 16900, 8450, 1.5, 0, None),
            ("unknown", 1, 17000, 17000, 2, 0, None),
        ],
    ),
    (
        "subscription_by_product",
        {"as_of": "2025-12-31"},
        (
            "product_id",
            "subscriptions",
            "active",
            "cancelled",
            "mean_shipped",
            "median_shipped",
            "cancelled_mean_shipped",
            "cancel_share",
        ),
        [
            ("rice", 3, 1, 2, 2.33, 2, 2, 0.6667),
        ],
    ),
    (
        "subscription_deliveries_monthly",
        {"as_of": "2025-12-31"},
        ("month", "deliveries", "first_deliveries", "subscriptions", "revenue"),
        [
            ("2025-01-01", 2, 2, 2, 4000),
            ("2025-02-01", 2, 0, 2, 4000),
            ("2025-03-01", 1, 1, 1, 2000),
            ("2025-04-01", 1, 0, 1, 2000),
            ("2025-05-01", 1, 0, 1, 2000),
        ],
    ),
    (
        "subscription_flow_by_cycle",
        {"as_of": "2025-12-31", "max_deliveries": "2"},
        (
            "cycle",
            "delivery_count",
            "subscriptions",
            "continued",
            "censored",
            "dropped",
            "continuation_rate",
        ),
        [
            ("1 month", 1, 3, 3, 0, 0, 1),
            ("1 month", 2, 3, 1, 0, 2, 0.3333),
        ],
    ),
    (
        "subscription_flow_by_product",
        {"as_of": "2025-12-31", "max_deliveries": "4"},
        (
            "product_id",
            "delivery_count",
            "subscriptions",
            "continued",
            "censored",
            "dropped",
            "continuation_rate",
        ),
        [
            ("rice", 1, 3, 3, 0, 0, 1),
            ("rice", 2, 3, 1, 0, 2, 0.3333),
            ("rice", 3, 1, 0, 1, 0, None),
        ],
    ),
    (
        "subscription_flow_by_start_month",
        {"as_of": "2025-12-31", "max_deliveries": "3"},
        (
            "start_month",
            "delivery_count",
            "subscriptions",
            "continued",
            "censored",
            "dropped",
            "continuation_rate",
        ),
        [
            ("2025-01-01", 1, 2, 2, 0, 0, 1),
            ("2025-01-01", 2, 2, 1, 0, 1, 0.5),
            ("2025-01-01", 3, 1, 0, 1, 0, None),
            ("2025-03-01", 1, 1, 1, 0, 0, 1),
            ("2025-03-01", 2, 1, 0, 0, 1, 0),
        ],
    ),
    (
        "subscription_list",
        {"as_of": "2025-12-31"},
        (
            "customer_id",
            "subscription_id",
            "product_id",
            "quantity",
            "unit_price",
            "cycle",
            "status_as_of",
            "start_date",
            "cancel_date",
            "cancel_reason",
            "shipped",
            "skipped",
            "shipped_amount",
            "last_shipped_on",
            "days_subscribed",
        ),
        [
            (
                "b",
                "s3",
                "rice",
                1,
                2000,
                "1 month",
                "cancelled",
                "2025-03-15",
                "2025-06-20",
                "量が多く余ってしまう",
                2,
                1,
                4000,
                "2025-05-15",
                97,
            ),
            (
                "i",
                "s1",
                "rice",
                1,
                2000,
                "1 month",
                "active",
                "2025-01-01",
                None,
                None,
                3,
                1,
                6000,
                "2025-04-01",
                364,
            ),
            (
                "s",
                "s2",
                "rice",
                1,
                2000,
                "1 month",
                "cancelled",
                "2025-01-05",
                "2025-03-01",
                None,
                2,
                0,
                4000,
                "2025-02-05",
                55,
            ),
        ],
    ),
    (
        "category_new_repeat",
        {"as_of": "2025-12-31"},
        (
            "category",
            "buyers",
            "new_buyers",
            "repeat_buyers",
            "new_revenue",
            "repeat_revenue",
            "revenue",
            "new_buyer_share",
        ),
        [
            ("米", 4, 3, 4, 12000, 26000, 38000, 0.75),
            ("ギフト", 2, 2, 1, 15000, 5000, 20000, 1),
            ("野菜", 2, 1, 1, 900, 300, 1200, 0.5),
        ],
    ),
    (
        "category_repurchase",
        {"as_of": "2025-12-31"},
        ("category", "buyers", "repurchasers", "median_days_between", "repurchase_rate"),
        [
            ("米", 4, 3, 78, 0.75),
            ("ギフト", 2, 1, 365, 0.5),
            ("野菜", 2, 0, None, 0),
        ],
    ),
    (
        "customer_main_category",
        {"as_of": "2025-12-31"},
        (
            "customer_id",
            "main_category",
            "main_amount",
            "main_quantity",
            "main_orders",
            "total_amount",
            "main_share",
            "category_count",
        ),
        [
            ("b", "米", 12000, 3, 2, 17000, 0.7059, 2),
            ("g", "ギフト", 15000, 3, 2, 17000, 0.8824, 2),
            ("i", "米", 8000, 4, 3, 8300, 0.9639, 2),
            ("n", "野菜", 900, 3, 1, 900, 1, 1),
            ("s", "米", 16000, 2, 2, 16000, 1, 1),
        ],
    ),
    (
        "customer_main_product",
        {"as_of": "2025-12-31"},
        (
            "customer_id",
            "main_product",
            "main_amount",
            "main_quantity",
            "main_orders",
            "total_amount",
            "main_share",
            "product_count",
        ),
        [
            ("b", "rice_p", 8000, 1, 1, 17000, 0.4706, 3),
            ("g", "gift", 15000, 3, 2, 17000, 0.8824, 2),
            ("i", "rice", 6000, 3, 2, 8300, 0.7229, 3),
            ("n", "veg_new", 900, 3, 1, 900, 1, 1),
            ("s", "rice_p", 16000, 2, 2, 16000, 1, 1),
        ],
    ),
    (
        "product_new_repeat",
        {"as_of": "2025-12-31"},
        (
            "product_id",
            "buyers",
            "new_buyers",
            "repeat_buyers",
            "new_revenue",
            "repeat_revenue",
            "revenue",
            "new_buyer_share",
        ),
        [
            ("rice_p", 2, 1, 2, 8000, 16000, 24000, 0.5),
            ("gift", 2, 2, 1, 15000, 5000, 20000, 1),
            ("rice", 3, 2, 3, 4000, 8000, 12000, 0.6667),
            ("rice2", 1, 0, 1, 0, 2000, 2000, 0),
            ("veg_new", 2, 1, 1, 900, 300, 1200, 0.5),
        ],
    ),
    (
        "product_repurchase",
        {"as_of": "2025-12-31"},
        ("product_id", "buyers", "repurchasers", "median_days_between", "repurchase_rate"),
        [
            ("rice", 3, 2, 123.5, 0.6667),
            ("gift", 2, 1, 365, 0.5),
            ("rice_p", 2, 1, 30, 0.5),
            ("veg_new", 2, 0, None, 0),
            ("rice2", 1, 0, None, 0),
        ],
    ),
    (
        "dormancy_by_stage",
        {"as_of": "2025-12-31"},
        (
            "stage_order",
            "stage",
            "stage_label",
            "threshold_days",
            "customers",
            "dormant_customers",
            "dormant_share",
            "dormant_revenue",
        ),
        [
            (0, "first", "初回 (1回)", 90, 1, 0, 0, 0),
            (0, "first", "初回 (1回)", 180, 1, 0, 0, 0),
            (0, "first", "初回 (1回)", 365, 1, 0, 0, 0),
            (1, "repeat", "リピート (2-4回)", 90, 4, 3, 0.75, 41300),
            (1, "repeat", "リピート (2-4回)", 180, 4, 2, 0.5, 33000),
            (1, "repeat", "リピート (2-4回)", 365, 4, 0, 0, 0),
        ],
    ),
    (
        "reactivation_rate",
        {"as_of": "2025-12-31", "thresholds": "60,120"},
        (
            "threshold_days",
            "dormant_customers",
            "reactivated",
            "revenue_after",
            "reactivation_rate",
        ),
        [
            (60, 3, 1, 5000, 0.3333),
            (120, 3, 1, 5000, 0.3333),
        ],
    ),
    (
        "registration_conversion",
        {"as_of": "2025-12-31", "days": "370"},
        (
            "month",
            "registered",
            "buyers",
            "buyers_within",
            "median_days_to_first",
            "conversion_rate",
            "buyer_rate",
        ),
        [
            ("2024-01-01", 5, 4, 3, 368, 0.6, 0.8),
            ("2025-03-01", 1, 1, 1, 14, 1, 1),
        ],
    ),
    (
        "gift_buyer_self_purchases",
        {"as_of": "2025-12-31"},
        ("category", "buyers", "orders", "revenue", "revenue_share"),
        [
            ("米", 2, 2, 12000, 1),
        ],
    ),
    (
        "gift_monthly",
        {"as_of": "2025-12-31", "start": "2025-11-01"},
        (
            "month",
            "orders",
            "gift_orders",
            "gift_buyers",
            "gift_revenue",
            "revenue",
            "gift_revenue_share",
        ),
        [
            ("2025-11-01", 1, 0, 0, 0, 900, 0),
            ("2025-12-01", 1, 1, 1, 5000, 5000, 1),
        ],
    ),
    (
        "seasonal_gift_buyers",
        {"as_of": "2025-12-31"},
        (
            "year",
            "buyers",
            "returning_buyers",
            "orders",
            "revenue",
            "last_year_buyers",
            "retention_from_last_year",
            "revenue_per_buyer",
        ),
        [
            (2024, 1, 0, 1, 10000, 0, None, 10000),
            (2025, 1, 1, 1, 5000, 1, 1, 5000),
        ],
    ),
    (
        "access_rf",
        {"as_of": "2025-12-31"},
        ("r_order", "r_band", "f_order", "f_band", "customers", "buyers", "buyer_rate"),
        [
            (1, "8-30", 0, "0-1", 2, 1, 0.5),
            (1, "8-30", 1, "2-4", 1, 1, 1),
            (4, "181+", 0, "0-1", 1, 0, 0),
        ],
    ),
    (
        "purchase_access_rf",
        {"as_of": "2025-12-31"},
        ("purchase_order", "purchase_band", "access_order", "access_band", "customers"),
        [
            (1, "8-30", 1, "8-30", 1),
            (2, "31-90", 1, "8-30", 1),
            (3, "91-180", 1, "8-30", 1),
            (4, "181+", 4, "181+", 1),
            (4, "181+", 5, "(なし)", 1),
        ],
    ),
    (
        "web_funnel_monthly",
        {"as_of": "2025-12-31"},
        (
            "month",
            "visitors",
            "known_visitors",
            "product_viewers",
            "cart_adders",
            "buyers",
            "view_rate",
            "cart_rate",
            "known_buyer_rate",
        ),
        [
            ("2025-03-01", 1, 1, 1, 1, 1, 1, 1, 1),
            ("2025-05-01", 1, 1, 1, 0, 0, 1, 0, 0),
            ("2025-10-01", 1, 1, 0, 0, 0, 0, 0, 0),
            ("2025-11-01", 1, 1, 1, 0, 1, 1, 0, 1),
            ("2025-12-01", 3, 3, 1, 3, 1, 0.3333, 1, 0.3333),
        ],
    ),
    (
        "coupon_monthly",
        {"as_of": "2025-12-31"},
        ("month", "granted", "used", "median_days_to_use", "redemption_rate"),
        [
            ("2025-01-01", 1, 0, None, 0),
            ("2025-03-01", 1, 1, 14, 1),
            ("2025-11-01", 1, 0, None, 0),
            ("2025-12-01", 1, 1, 9, 1),
        ],
    ),
    (
        "point_use_repeat",
        {"as_of": "2025-12-31"},
        (
            "point_use",
            "customers",
            "repeat_customers",
            "orders",
            "revenue",
            "repeat_rate",
            "orders_per_customer",
            "revenue_per_customer",
        ),
        [
            ("never_used", 4, 3, 9, 42200, 0.75, 2.25, 10550),
            ("used", 1, 1, 3, 17000, 1, 3, 17000),
        ],
    ),
    (
        "points_balance_distribution",
        {"as_of": "2025-12-31"},
        ("bucket_order", "bucket", "count", "share", "cumulative_share"),
        [
            (0, "0-99", 2, 1, 1),
            (1, "100-499", 0, 0, 1),
            (2, "500-999", 0, 0, 1),
            (3, "1000-4999", 0, 0, 1),
            (4, "5000+", 0, 0, 1),
        ],
    ),
]


@pytest.fixture
def shop(warehouse_url: str) -> Iterator[BaseBackend]:
    yield from open_rich_shop(warehouse_url)


def _cell(v: Any) -> Any:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
        return str(v)[:10]
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def test_every_case_names_a_distinct_template() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("template_id", "params", "columns", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_template_on_hand_made_shop(
    shop: BaseBackend,
    template_id: str,
    params: dict[str, str],
    columns: tuple[str, ...],
    expected: list[tuple[Any, ...]],
) -> None:
    df = run(shop, template_id, params)
    assert tuple(df.columns) == columns
    got = [tuple(_cell(v) for v in r) for r in df.itertuples(index=False)]
    assert got == expected


def test_every_registered_template_has_a_hand_computed_test() -> None:
    from pathlib import Path

    from tokui.analytics.registry import templates

    here = Path(__file__).parent
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in here.glob("test_*.py")
        if p.name != "test_all_templates_run.py"
    )
    missing = [t.id for t in templates() if f'"{t.id}"' not in text and f"'{t.id}'" not in text]
    assert missing == []
