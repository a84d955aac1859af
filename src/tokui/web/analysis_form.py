"""The parameter form of an analysis template: fields, pickers and per-field errors.

Every field comes from the template's typed parameters. Values travel as text (query
string for running and exporting, a POST body for saving) and are checked here one
field at a time, so each error is shown next to its field and names it. Nothing typed
here ever becomes SQL: coerced values go to the template builders, which compare them
in Ibis expressions (bound literals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ibis.backends import BaseBackend

from tokui.analytics.registry import Param, ParamError, Template
from tokui.web.i18n import translate

# Query and form names the page itself uses; no template parameter may take them.
RESERVED = frozenset({"page", "run", "fresh", "title", "csrf_token", "lang", "q"})
# Parameter name -> picker of known values, for parameters that name a warehouse thing.
PICKERS: dict[str, str] = {
    "product_id": "product",
    "product": "product",
    "category": "category",
    "channel": "channel",
    "segment": "segment",
}
# A select with more options than this is unusable; the field becomes free text.
MAX_OPTIONS = 1_000
MAX_VALUE_LENGTH = 500


class FormError(ValueError):
    """A query or form that cannot be read at all (unknown or repeated fields)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name


@dataclass
class Field:
    param: Param
    label: str
    widget: str  # date, number, select, list, text
    value: str
    options: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    step: str = "1"
    hint: str = ""

    @property
    def name(self) -> str:
        return self.param.name


def picker_of(param: Param) -> str | None:
    explicit = getattr(param, "picker", None)
    if isinstance(explicit, str):
        return explicit
    return PICKERS.get(param.name) if param.kind in ("str", "choice") else None


def default_text(param: Param) -> str:
    value = param.default
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_values(
    template: Template, query: Mapping[str, str], multi: Iterable[tuple[str, object]]
) -> dict[str, str]:
    """The template's parameters from a query string or form; rejects unknown names."""
    names = {p.name for p in template.params}
    seen: set[str] = set()
    for key, _ in multi:
        if key in RESERVED:
            continue
        if key not in names:
            raise FormError(key, "unknown parameter")
        if key in seen:
            raise FormError(key, "given more than once")
        seen.add(key)
    values = {p.name: query[p.name] for p in template.params if p.name in query}
    for key, value in values.items():
        if len(value) > MAX_VALUE_LENGTH:
            raise FormError(key, f"longer than {MAX_VALUE_LENGTH} characters")
    return values


def options_for(
    picker: str, con: BaseBackend, segments: Mapping[str, str]
) -> list[tuple[str, str]] | None:
    """Known values of a picker (value, label), or None when too many or not available."""
    tables = set(con.list_tables())
    if picker == "product" and "products" in tables:
        p = con.table("products")
        df = p.select("product_id", "name").order_by("product_id").limit(MAX_OPTIONS + 1).execute()
        rows = [
            (str(r.product_id), f"{r.product_id} — {r.name}") for r in df.itertuples(index=False)
        ]
    elif picker == "category" and "products" in tables:
        p = con.table("products")
        expr = p.filter(p.category.notnull()).select("category").distinct().order_by("category")
        df = expr.limit(MAX_OPTIONS + 1).execute()
        rows = [(str(v), str(v)) for v in df["category"].tolist()]
    elif picker == "channel" and "orders" in tables:
        o = con.table("orders")
        expr = o.filter(o.channel.notnull()).select("channel").distinct().order_by("channel")
        df = expr.limit(MAX_OPTIONS + 1).execute()
        rows = [(str(v), str(v)) for v in df["channel"].tolist()]
    elif picker == "segment":
        rows = sorted(segments.items())
    else:
        return None
    return None if len(rows) > MAX_OPTIONS else rows


def build_fields(
    template: Template,
    values: Mapping[str, str],
    lang: str,
    pickers: Mapping[str, list[tuple[str, str]] | None],
) -> list[Field]:
    fields: list[Field] = []
    for param in template.params:
        label = param.ja if lang == "ja" else param.en
        value = values.get(param.name, default_text(param))
        f = Field(param=param, label=label, widget="text", value=value)
        picker = picker_of(param)
        if param.kind == "date":
            f.widget = "date"
        elif param.kind in ("int", "float"):
            f.widget = "number"
            f.step = "1" if param.kind == "int" else "any"
        elif param.kind == "choice":
            f.widget = "select"
            f.options = [(c, c) for c in param.choices]
        elif param.kind == "int_list":
            f.widget = "list"
            f.hint = translate(lang, "analyses.hint.list")
        if picker is not None and pickers.get(param.name) is not None:
            f.widget = "select"
            empty = translate(lang, "analyses.picker.all")
            f.options = [("", empty), *(pickers[param.name] or [])]
        fields.append(f)
    return fields


def validate(
    template: Template,
    fields: list[Field],
    lang: str,
    pickers: Mapping[str, list[tuple[str, str]] | None],
) -> dict[str, str]:
    """Checks each field and records its error on it; returns the raw values to run with."""
    raw: dict[str, str] = {}
    for f in fields:
        text = f.value.strip()
        try:
            f.param.coerce(text)
        except ParamError as exc:
            detail = str(exc).split(": ", 1)[-1]
            f.error = translate(lang, "analyses.error.field", name=f.name, detail=detail)
            continue
        known = pickers.get(f.name)
        if text and known is not None and text not in {v for v, _ in known}:
            f.error = translate(lang, "analyses.error.unknown_value", name=f.name, value=text)
            continue
        if text:
            raw[f.name] = text
    return raw
