"""Template families; importing this package registers every template."""

from tokui.analytics.families import (  # noqa: F401
    churn,
    cohort,
    cpm,
    ltv,
    points_coupons,
    products,
    repeat,
    rfm,
    sales,
    subscription,
    web,
)
