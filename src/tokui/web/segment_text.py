"""A segment definition in words, in the UI language.

E.g. "最終購入日が30日以内 AND 定期を一度も契約していない". Plain text: the page escapes it
like any other value, so a hostile value in a definition shows as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tokui.segments.dsl import (
    And,
    Bought,
    CartNoOrder,
    Compare,
    Condition,
    DaysAgo,
    InSegment,
    Not,
    Or,
    RandomBucket,
    Subscription,
    ViewedNotBought,
)
from tokui.web.i18n import catalog, translate

Names = Mapping[str, str]


def field_label(lang: str, name: str) -> str:
    key = f"segments.field.{name}"
    return translate(lang, key) if key in catalog("ja") else name


def value_label(lang: str, value: object, field: str = "") -> str:
    if isinstance(value, bool):
        return translate(lang, "segments.value.true" if value else "segments.value.false")
    if isinstance(value, str):
        key = f"segments.value.{field}.{value}"
        # Only the enumerations we know (persona, lifecycle...); anything else verbatim.
        if key in catalog("ja"):
            return translate(lang, key)
        return value
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe(condition: Condition, lang: str, names: Names | None = None) -> str:
    """The condition as one line of text; nested groups in parentheses."""
    return _describe(condition, lang, names or {}, top=True)


def _describe(node: Condition, lang: str, names: Names, top: bool = False) -> str:
    t: Callable[..., str] = lambda key, **v: translate(lang, f"segments.desc.{key}", **v)  # noqa: E731
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        text = joiner.join(_describe(c, lang, names) for c in node.conditions)
        return text if top or len(node.conditions) == 1 else f"({text})"
    if isinstance(node, Not):
        return "NOT " + _wrap(_describe(node.condition, lang, names, top=True))
    if isinstance(node, Compare):
        f = field_label(lang, node.field)
        if node.op in ("is_null", "not_null"):
            return t(node.op, field=f)
        if isinstance(node.value, list):
            values = [value_label(lang, v, node.field) for v in node.value]
            if node.op == "between":
                return t("between", field=f, low=values[0], high=values[1])
            return t(
                node.op, field=f, values="、".join(values) if lang == "ja" else ", ".join(values)
            )
        return t(node.op, field=f, value=value_label(lang, node.value, node.field))
    if isinstance(node, DaysAgo):
        f = field_label(lang, node.field)
        parts = []
        if node.within is not None:
            parts.append(t("within", field=f, days=node.within))
        if node.more_than is not None:
            parts.append(t("more_than", field=f, days=node.more_than))
        return " AND ".join(parts)
    if isinstance(node, Bought | ViewedNotBought):
        target = (
            t("product", product=node.product_id)
            if node.product_id is not None
            else t("category", category=node.category)
        )
        period = t("last_days", days=node.days) if node.days is not None else ""
        if isinstance(node, Bought):
            count = t("min_count", n=node.min_count) if node.min_count > 1 else ""
            return t("bought", target=target, period=period, count=count)
        return t("viewed_not_bought", target=target, period=t("last_days", days=node.days or 30))
    if isinstance(node, CartNoOrder):
        return t("cart_no_order", days=node.days)
    if isinstance(node, Subscription):
        text = t(f"subscription_{node.state}")
        return text + (t("for_product", product=node.product_id) if node.product_id else "")
    if isinstance(node, InSegment):
        return t("in_segment", name=names.get(node.segment, node.segment))
    if isinstance(node, RandomBucket):
        return t("random_bucket", low=node.percent_from, high=node.percent_to, salt=node.salt)
    return "?"  # pragma: no cover - the DSL has no other node


def _wrap(text: str) -> str:
    return text if text.startswith("(") else f"({text})"
