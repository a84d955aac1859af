"""The capability table: what each backend cannot run, declared and pinned here.

Declared means the engine is known to fail (or to compute something else) for that
template; test_engines and test_compile_only check the declaration against reality in
both directions. This test pins the list itself, so a new exclusion is a visible
decision, and keeps docs/backends.md in step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tokui.analytics.capabilities import NO_EXACT_MEDIAN, UNSUPPORTED, markdown
from tokui.analytics.registry import ParamError, get, templates
from tokui.analytics.run import build
from tokui.warehouse.backends import BACKENDS, COMPILE_ONLY_BACKENDS, RUNTIME_BACKENDS

DOCS = Path(__file__).parents[2] / "docs" / "backends.md"

# Templates with a median or quartile: BigQuery has no exact median aggregate.
BIGQUERY_CANNOT = {
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
}


def declared(backend: str) -> set[str]:
    return {t.id for t in templates() if backend in t.unsupported}


def test_backends_are_the_six_documented_ones() -> None:
    assert BACKENDS == ("duckdb", "postgres", "pyspark", "clickhouse", "bigquery", "snowflake")
    assert RUNTIME_BACKENDS == ("duckdb", "postgres", "pyspark", "clickhouse")
    assert COMPILE_ONLY_BACKENDS == ("bigquery", "snowflake")


@pytest.mark.parametrize("backend", BACKENDS)
def test_declared_list(backend: str) -> None:
    assert declared(backend) == (BIGQUERY_CANNOT if backend == "bigquery" else set())


def test_every_entry_names_a_template_and_a_backend() -> None:
    ids = {t.id for t in templates()}
    assert set(UNSUPPORTED) <= ids
    for t in templates():
        assert set(t.unsupported) <= set(BACKENDS), t.id
        assert t.backends(), t.id  # every template runs somewhere


def test_running_an_unsupported_template_names_the_reason() -> None:
    class BigQueryStandIn:
        name = "bigquery"

    with pytest.raises(ParamError, match="customer_repeat_interval cannot run on bigquery"):
        build(BigQueryStandIn(), get("customer_repeat_interval"), {})
    assert get("customer_repeat_interval").unsupported == {"bigquery": NO_EXACT_MEDIAN}


def test_docs_show_the_table() -> None:
    assert markdown() in DOCS.read_text(encoding="utf-8"), (
        "docs/backends.md is stale: paste tokui.analytics.capabilities.markdown()"
    )
