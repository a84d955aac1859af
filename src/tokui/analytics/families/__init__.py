"""Template families; importing this package registers every template."""

from tokui.analytics.families import (  # noqa: F401
    attributes,
    churn,
    cohort,
    cpm,
    gift,
    ltv,
    points_coupons,
    products,
    repeat,
    rfm,
    sales,
    subscription,
    web,
)
