"""The catalogue of analysis templates.

A template is data (id, names, category, typed parameters, chart) plus a builder that
returns an Ibis expression, so the same template runs on every warehouse backend.
Parameters arrive as text (CLI, web forms) and are coerced and checked here, before any
expression is built: a bad value is a clear error naming the parameter, never SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.capabilities import UNSUPPORTED
from tokui.warehouse.backends import BACKENDS as WAREHOUSE_BACKENDS


class ParamError(ValueError):
    """A template parameter that is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # date, int, float, str, choice, int_list
    ja: str
    en: str
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    def coerce(self, raw: Any) -> Any:
        if raw is None or raw == "":
            return self.default
        try:
            value = self._convert(raw)
        except (TypeError, ValueError) as exc:
            raise ParamError(f"parameter {self.name}: {raw!r} is not a valid {self.kind}") from exc
        if self.choices and value not in self.choices:
            raise ParamError(
                f"parameter {self.name}: {value!r} is not one of {', '.join(self.choices)}"
            )
        if self.minimum is not None:
            values = value if isinstance(value, tuple) else (value,)
            if any(v < self.minimum for v in values):
                raise ParamError(f"parameter {self.name}: must be at least {self.minimum:g}")
        return value

    def _convert(self, raw: Any) -> Any:
        if self.kind == "date":
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        if self.kind == "int":
            if isinstance(raw, bool):
                raise TypeError("bool")
            return int(str(raw).replace(",", "").replace("_", ""))
        if self.kind == "float":
            return float(raw)
        if self.kind == "int_list":
            if isinstance(raw, list | tuple):
                items = [int(v) for v in raw]
            else:
                items = [int(v) for v in str(raw).split(",") if v.strip()]
            if items != sorted(set(items)):
                raise ValueError("thresholds must be strictly increasing")
            return tuple(items)
        if self.kind in ("str", "choice"):
            return str(raw)
        raise TypeError(f"unknown parameter kind {self.kind}")


@dataclass(frozen=True)
class Chart:
    """How a result is drawn by default (Plotly)."""

    kind: str  # bar, line, heatmap, table, scatter
    x: str | None = None
    y: tuple[str, ...] = ()
    color: str | None = None
    z: str | None = None


Builder = Callable[[BaseBackend, Mapping[str, Any]], ibis.Table]


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    build: Builder
    params: tuple[Param, ...] = ()
    chart: Chart = field(default_factory=lambda: Chart("table"))
    order_by: tuple[str, ...] = ()
    # Backends that cannot run this template, with the reason: declared, never hidden.
    unsupported: Mapping[str, str] = field(default_factory=dict)

    def backends(self) -> tuple[str, ...]:
        """The supported backends this template runs on."""
        return tuple(b for b in BACKENDS if b not in self.unsupported)

    def resolve(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        known = {p.name for p in self.params}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ParamError(
                f"{self.id}: unknown parameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known)) or 'none'}"
            )
        return {p.name: p.coerce(raw.get(p.name)) for p in self.params}


CATEGORIES: dict[str, tuple[str, str]] = {
    "sales": ("売上", "Sales"),
    "rfm": ("RFM", "RFM"),
    "cpm": ("顧客ポートフォリオ (CPM)", "Customer portfolio (CPM)"),
    "repeat": ("リピート・F2", "Repeat and F2"),
    "cohort": ("コホート・LTV", "Cohorts and LTV"),
    "subscription": ("定期", "Subscriptions"),
    "product": ("商品", "Products"),
    "lifecycle": ("ライフサイクル", "Lifecycle"),
    "gift": ("ギフト・季節", "Gifts and seasons"),
    "web": ("Web行動", "Web behaviour"),
    "points": ("ポイント・クーポン", "Points and coupons"),
}

# Backends every template is built for and tested on (tokui.warehouse.backends); a
# template names the ones it cannot serve in `unsupported` (with the reason), itself
# or through the capability table (tokui.analytics.capabilities), instead of failing
# at run time.
BACKENDS: tuple[str, ...] = WAREHOUSE_BACKENDS

_REGISTRY: dict[str, Template] = {}


def register(template: Template) -> Template:
    if template.id in _REGISTRY:
        raise ValueError(f"analysis template {template.id!r} registered twice")
    if template.category not in CATEGORIES:
        raise ValueError(f"{template.id}: unknown category {template.category!r}")
    if template.id in UNSUPPORTED:
        declared = {**UNSUPPORTED[template.id], **template.unsupported}
        template = replace(template, unsupported=declared)
    strange = sorted(set(template.unsupported) - set(BACKENDS))
    if strange:
        raise ValueError(f"{template.id}: unsupported names unknown backends {strange}")
    _REGISTRY[template.id] = template
    return template


def _load() -> None:
    # Importing the families registers their templates.
    from tokui.analytics import families  # noqa: F401


def get(template_id: str) -> Template:
    _load()
    try:
        return _REGISTRY[template_id]
    except KeyError:
        raise ParamError(f"no analysis template {template_id!r}") from None


def templates(category: str | None = None, search: str | None = None) -> list[Template]:
    _load()
    found = list(_REGISTRY.values())
    if category:
        found = [t for t in found if t.category == category]
    if search:
        needle = search.lower()
        found = [
            t
            for t in found
            if needle in t.id
            or needle in t.name_ja
            or needle in t.name_en.lower()
            or needle in t.description_ja
            or needle in t.description_en.lower()
        ]
    return sorted(found, key=lambda t: (list(CATEGORIES).index(t.category), t.id))
