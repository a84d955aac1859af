"""What each warehouse cannot run, per template: declared here, never skipped silently.

`registry.register` adds these to each template's `unsupported`; running a template on
a backend it names fails before any SQL with the reason below (tokui.analytics.run).
tests/backends checks the table both ways: a listed template must fail there, and every
other template must give DuckDB's rows (runtime backends) or compile (compile-only ones).
docs/backends.md shows it.
"""

from __future__ import annotations

# BigQuery has exact MEDIAN / PERCENTILE_CONT only as window functions, not as
# aggregates, so Ibis has no exact median to compile (only APPROX_QUANTILES, which
# would change the numbers).
NO_EXACT_MEDIAN = "no exact median aggregate (BigQuery has only APPROX_QUANTILES)"

_BIGQUERY_MEDIAN = (
    "category_repurchase",
    "coupon_monthly",
    "customer_repeat_interval",
    "days_to_nth_purchase",
    "f_conversion_funnel",
    "product_repurchase",
    "registration_conversion",
    "repeat_by_acquisition_channel",
    "repeat_by_age_band",
    "repeat_by_first_channel",
    "repeat_by_first_coupon",
    "repeat_by_first_gift",
    "repeat_by_first_order_type",
    "repeat_by_first_payment_method",
    "repeat_by_first_shipping_prefecture",
    "repeat_by_first_value_band",
    "repeat_by_gender",
    "repeat_by_prefecture",
    "repeat_interval_by_order_no",
    "subscription_by_product",
)

UNSUPPORTED: dict[str, dict[str, str]] = {
    template_id: {"bigquery": NO_EXACT_MEDIAN} for template_id in _BIGQUERY_MEDIAN
}


def markdown() -> str:
    """The capability table of docs/backends.md: per backend, the templates it cannot
    run and why (a test keeps the page in step with this module)."""
    from tokui.analytics.registry import templates
    from tokui.warehouse.backends import WAREHOUSE_BACKENDS

    found = templates()
    lines = [
        "| backend | tested | templates it cannot run | why |",
        "|---|---|---|---|",
    ]
    for b in WAREHOUSE_BACKENDS:
        missing = [t for t in found if b.name in t.unsupported]
        reasons = sorted({t.unsupported[b.name] for t in missing})
        names = ", ".join(f"`{t.id}`" for t in missing) or "none"
        tested = "runs in CI" if b.tested == "runtime" else "SQL compiled only"
        lines.append(f"| {b.title} | {tested} | {names} | {'; '.join(reasons) or '-'} |")
    return "\n".join(lines) + "\n"
