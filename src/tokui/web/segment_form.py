"""The segment builder's form: flat form fields <-> the segment DSL's condition tree.

The form names every input by its node's path: `n` is the root group, `n.0` its first
child, `n.0.2` the third child of that, and `n.0.field` an input of node `n.0`. The
same flat fields arrive either as a plain form POST (no JavaScript) or as JSON from the
live-count script, and both go through `read_tree` and `to_definition` here, so there is
one parser. Values are typed by the whitelisted field's kind (segments/fields.py), then
the DSL's pydantic models validate them and compile.py compiles them to Ibis; nothing
typed here is ever placed into SQL text.

Errors are keyed by the node path and input name (`n.1.value`) so the page can show each
next to the condition it concerns; errors from the DSL (`condition.conditions[1].value`)
are mapped back to those keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from tokui.segments.compile import SegmentError
from tokui.segments.dsl import MAX_NODES, SegmentDefinition
from tokui.segments.fields import OPS_BY_KIND, BuilderField

FormData = Mapping[str, list[str]]
Translate = Callable[..., str]

GROUP_TYPES = ("and", "or")
LEAF_TYPES = (
    "compare",
    "days_ago",
    "bought",
    "viewed_not_bought",
    "cart_no_order",
    "subscription",
    "in_segment",
    "random_bucket",
)
NODE_TYPES = (*GROUP_TYPES, "not", *LEAF_TYPES)
SUBSCRIPTION_STATES = ("ever", "never", "active", "cancelled")
# Inputs each leaf type reads; anything else posted under a node is ignored.
LEAF_INPUTS: dict[str, tuple[str, ...]] = {
    "compare": ("field", "op", "value", "value2"),
    "days_ago": ("field", "mode", "days"),
    "bought": ("target", "category", "product_id", "days", "min_count"),
    "viewed_not_bought": ("target", "category", "product_id", "days"),
    "cart_no_order": ("days",),
    "subscription": ("state", "product_id"),
    "in_segment": ("segment",),
    "random_bucket": ("salt", "percent_from", "percent_to"),
}
META_INPUTS = ("key", "name_ja", "name_en", "description")
MAX_INPUT = 2000

_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")  # as SegmentDefinition.key
_PATH = re.compile(r"^n(?:\.\d{1,3}){0,7}$")
_DSL_ERROR = re.compile(r"^(condition[^:<\s]*)(?:<[^:]*)?: (.*)$", re.DOTALL)


@dataclass
class Node:
    """One condition in the builder; groups have children, leaves have inputs."""

    type: str
    negate: bool = False
    inputs: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.type in GROUP_TYPES


@dataclass
class Outcome:
    definition: SegmentDefinition | None
    errors: dict[str, list[str]]

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)


def new_leaf(kind: str, fields: Mapping[str, BuilderField]) -> Node:
    """A fresh condition of a type, filled with values a marketer would start from."""
    if kind == "compare":
        first = "frequency" if "frequency" in fields else next(iter(fields), "")
        return Node("compare", inputs={"field": first, "op": "ge", "value": ""})
    if kind == "days_ago":
        dates = [f.name for f in fields.values() if f.kind == "date"]
        first = "last_order" if "last_order" in dates else (dates[0] if dates else "")
        return Node("days_ago", inputs={"field": first, "mode": "within", "days": "30"})
    if kind == "bought":
        return Node("bought", inputs={"target": "category", "days": "365", "min_count": "1"})
    if kind == "viewed_not_bought":
        return Node("viewed_not_bought", inputs={"target": "category", "days": "30"})
    if kind == "cart_no_order":
        return Node("cart_no_order", inputs={"days": "3"})
    if kind == "subscription":
        return Node("subscription", inputs={"state": "never"})
    if kind == "in_segment":
        return Node("in_segment", inputs={"segment": ""})
    if kind == "random_bucket":
        return Node("random_bucket", inputs={"salt": "", "percent_from": "0", "percent_to": "10"})
    return Node("and")


# ------------------------------------------------------------------ form -> tree


def first(data: FormData, name: str) -> str:
    values = data.get(name) or [""]
    return values[0][:MAX_INPUT]


def read_tree(data: FormData) -> Node:
    """The node tree the posted fields describe; unknown names and orphans are ignored.

    Node types outside NODE_TYPES are kept as they came, so that `to_definition` can
    name them in its error rather than silently dropping a condition.
    """
    paths = sorted(
        (name[: -len(".type")] for name in data if name.endswith(".type")),
        key=lambda p: [int(x) for x in p.split(".")[1:]],
    )
    paths = [p for p in paths if _PATH.match(p)][: MAX_NODES + 1]
    known = set(paths)

    def build(path: str) -> Node:
        node = Node(first(data, f"{path}.type"), negate=first(data, f"{path}.negate") == "1")
        if node.is_group:
            kids = [p for p in paths if p.rsplit(".", 1)[0] == path and p != path]
            node.children = [build(p) for p in kids]
        else:
            for name in LEAF_INPUTS.get(node.type, ()):
                node.inputs[name] = first(data, f"{path}.{name}")
            node.values = [v[:MAX_INPUT] for v in data.get(f"{path}.values", [])][:1000]
        return node

    if "n" not in known:
        return Node("and")
    root = build("n")
    if not root.is_group:
        root = Node("and", children=[root])
    return root


def read_meta(data: FormData) -> dict[str, str]:
    return {name: first(data, name).strip() for name in META_INPUTS}


def node_at(root: Node, path: str) -> Node | None:
    node = root
    for part in path.split(".")[1:]:
        index = int(part)
        if not node.is_group or index >= len(node.children):
            return None
        node = node.children[index]
    return node


def apply_action(
    root: Node, action: str, data: FormData, fields: Mapping[str, BuilderField]
) -> Node:
    """Add or remove a condition, as the builder's buttons ask (`add:n.0`, `remove:n.0.1`)."""
    verb, _, path = action.partition(":")
    if not _PATH.match(path):
        return root
    if verb == "remove" and path != "n":
        parent = node_at(root, path.rsplit(".", 1)[0])
        index = int(path.rsplit(".", 1)[1])
        if parent is not None and parent.is_group and index < len(parent.children):
            del parent.children[index]
    elif verb in ("add", "group"):
        parent = node_at(root, path)
        if parent is not None and parent.is_group:
            if verb == "group":
                parent.children.append(Node("and", children=[new_leaf("compare", fields)]))
            else:
                kind = first(data, f"{path}.add_type")
                if kind in LEAF_TYPES:
                    parent.children.append(new_leaf(kind, fields))
    return root


# ------------------------------------------------------------------ tree -> DSL


class _Invalid(Exception):
    """One input of a leaf could not be read; recorded in the outcome."""


def to_definition(
    root: Node,
    meta: Mapping[str, str],
    fields: Mapping[str, BuilderField],
    t: Translate,
    compile_check: Callable[[SegmentDefinition], None] | None = None,
) -> Outcome:
    """Validate the form as a segment definition; errors keyed by form path and input."""
    out = Outcome(None, {})
    dsl_paths: dict[str, str] = {}
    condition = _condition(root, "n", "condition", fields, t, out, dsl_paths)
    key, name_ja = meta.get("key", ""), meta.get("name_ja", "")
    payload = {
        "key": key,
        "name_ja": name_ja,
        # An English name is optional in the form: a Japanese shop often has none.
        "name_en": meta.get("name_en") or name_ja,
        "description": meta.get("description", ""),
        "condition": condition,
    }
    for name in ("key", "name_ja"):
        if not payload[name]:
            out.add(name, t("segments.err.required"))
    if key and not _KEY.match(key):
        out.add("key", t("segments.err.bad_key"))
    if out.errors or condition is None:
        return out
    try:
        definition = SegmentDefinition.model_validate(payload)
    except ValidationError as exc:
        for err in exc.errors():
            where = _map_dsl_path(_loc_to_path(err["loc"]), dsl_paths)
            out.add(where, _pydantic_message(err))
        return out
    if compile_check is not None:
        try:
            compile_check(definition)
        except SegmentError as exc:
            where, message = map_segment_error(str(exc), dsl_paths)
            out.add(where, message)
            return out
    out.definition = definition
    return out


def _condition(
    node: Node,
    path: str,
    dsl: str,
    fields: Mapping[str, BuilderField],
    t: Translate,
    out: Outcome,
    dsl_paths: dict[str, str],
) -> dict[str, Any] | None:
    dsl_paths[dsl] = path
    inner = f"{dsl}.condition" if node.negate else dsl
    dsl_paths[inner] = path
    if node.is_group:
        if not node.children:
            out.add(path, t("segments.err.empty_group"))
            return None
        parts = [
            _condition(c, f"{path}.{i}", f"{inner}.conditions[{i}]", fields, t, out, dsl_paths)
            for i, c in enumerate(node.children)
        ]
        if any(p is None for p in parts):
            return None
        result: dict[str, Any] = {"type": node.type, "conditions": parts}
    elif node.type in LEAF_TYPES:
        try:
            result = _LEAVES[node.type](node, path, fields, t, out)
        except _Invalid:
            return None
    else:
        out.add(f"{path}.type", t("segments.err.unknown_type", type=node.type))
        return None
    return {"type": "not", "condition": result} if node.negate else result


def _fail(out: Outcome, where: str, message: str) -> _Invalid:
    out.add(where, message)
    return _Invalid(where)


def _number(text: str, where: str, t: Translate, out: Outcome) -> int | float:
    text = text.strip().replace(",", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise _fail(out, where, t("segments.err.not_number", value=text)) from None
    if not math.isfinite(value):
        raise _fail(out, where, t("segments.err.not_number", value=text))
    return value


def _whole(text: str, where: str, t: Translate, out: Outcome, optional: bool = False) -> int | None:
    text = text.strip()
    if not text and optional:
        return None
    try:
        return int(text)
    except ValueError:
        raise _fail(out, where, t("segments.err.not_whole", value=text)) from None


def _typed(text: str, f: BuilderField, where: str, t: Translate, out: Outcome) -> Any:
    if f.kind == "number":
        return _number(text, where, t, out)
    if f.kind == "date":
        try:
            return date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            raise _fail(out, where, t("segments.err.not_date", value=text)) from None
    if f.kind == "boolean":
        if text not in ("true", "false"):
            raise _fail(out, where, t("segments.err.not_boolean", value=text))
        return text == "true"
    if text == "":
        raise _fail(out, where, t("segments.err.required"))
    return text


def _field(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> BuilderField:
    name = node.inputs.get("field", "")
    if not name:
        raise _fail(out, f"{path}.field", t("segments.err.choose_field"))
    if name not in fields:
        raise _fail(out, f"{path}.field", t("segments.err.unknown_field", field=name))
    return fields[name]


def _compare(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    f = _field(node, path, fields, t, out)
    op = node.inputs.get("op", "")
    if op not in OPS_BY_KIND[f.kind]:
        raise _fail(out, f"{path}.op", t("segments.err.bad_op", op=op, field=f.name))
    result: dict[str, Any] = {"type": "compare", "field": f.name, "op": op}
    if op in ("is_null", "not_null"):
        return result
    if op in ("in", "not_in"):
        raw = node.values or [v.strip() for v in node.inputs.get("value", "").split(",")]
        raw = [v for v in raw if v != ""]
        if not raw:
            raise _fail(out, f"{path}.value", t("segments.err.required"))
        result["value"] = [_typed(v, f, f"{path}.value", t, out) for v in raw]
    elif op == "between":
        low = _typed(node.inputs.get("value", ""), f, f"{path}.value", t, out)
        high = _typed(node.inputs.get("value2", ""), f, f"{path}.value2", t, out)
        result["value"] = [low, high]
    else:
        result["value"] = _typed(node.inputs.get("value", ""), f, f"{path}.value", t, out)
    return result


def _days_ago(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    f = _field(node, path, fields, t, out)
    if f.kind != "date":
        raise _fail(out, f"{path}.field", t("segments.err.not_date_field", field=f.name))
    mode = node.inputs.get("mode", "")
    if mode not in ("within", "more_than"):
        raise _fail(out, f"{path}.mode", t("segments.err.bad_op", op=mode, field=f.name))
    days = _whole(node.inputs.get("days", ""), f"{path}.days", t, out)
    return {"type": "days_ago", "field": f.name, mode: days}


def _target(node: Node, path: str, t: Translate, out: Outcome) -> dict[str, Any]:
    target = node.inputs.get("target", "")
    if target not in ("category", "product_id"):
        raise _fail(out, f"{path}.target", t("segments.err.choose_target"))
    value = node.inputs.get(target, "")
    if not value:
        raise _fail(out, f"{path}.{target}", t("segments.err.required"))
    result: dict[str, Any] = {target: value}
    days = _whole(node.inputs.get("days", ""), f"{path}.days", t, out, optional=True)
    if days is not None:
        result["days"] = days
    return result


def _bought(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    result = {"type": "bought", **_target(node, path, t, out)}
    count = _whole(node.inputs.get("min_count", ""), f"{path}.min_count", t, out, optional=True)
    if count is not None:
        result["min_count"] = count
    return result


def _viewed(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    return {"type": "viewed_not_bought", **_target(node, path, t, out)}


def _cart(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    return {
        "type": "cart_no_order",
        "days": _whole(node.inputs.get("days", ""), f"{path}.days", t, out),
    }


def _subscription(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    state = node.inputs.get("state", "")
    if state not in SUBSCRIPTION_STATES:
        raise _fail(out, f"{path}.state", t("segments.err.bad_op", op=state, field="state"))
    result: dict[str, Any] = {"type": "subscription", "state": state}
    if node.inputs.get("product_id"):
        result["product_id"] = node.inputs["product_id"]
    return result


def _in_segment(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    key = node.inputs.get("segment", "")
    if not key:
        raise _fail(out, f"{path}.segment", t("segments.err.choose_segment"))
    return {"type": "in_segment", "segment": key}


def _bucket(
    node: Node, path: str, fields: Mapping[str, BuilderField], t: Translate, out: Outcome
) -> dict[str, Any]:
    salt = node.inputs.get("salt", "")
    if not salt:
        raise _fail(out, f"{path}.salt", t("segments.err.required"))
    low = _whole(node.inputs.get("percent_from", ""), f"{path}.percent_from", t, out)
    high = _whole(node.inputs.get("percent_to", ""), f"{path}.percent_to", t, out)
    return {"type": "random_bucket", "salt": salt, "percent_from": low, "percent_to": high}


_LEAVES: dict[str, Callable[..., dict[str, Any]]] = {
    "compare": _compare,
    "days_ago": _days_ago,
    "bought": _bought,
    "viewed_not_bought": _viewed,
    "cart_no_order": _cart,
    "subscription": _subscription,
    "in_segment": _in_segment,
    "random_bucket": _bucket,
}


# ------------------------------------------------------------------ DSL errors -> form


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as the DSL's own path, without the union tags."""
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in NODE_TYPES and (previous == "condition" or isinstance(previous, int)):
            pass  # the discriminated union's tag, not a level of the tree
        else:
            text += ("." if text else "") + str(part)
        previous = part
    return text


def _map_dsl_path(dsl_path: str, dsl_paths: Mapping[str, str]) -> str:
    """`condition.conditions[1].value[0]` -> `n.1.value`; meta fields keep their name."""
    best = ""
    for candidate in dsl_paths:
        if (dsl_path == candidate or dsl_path.startswith(candidate + ".")) and len(candidate) > len(
            best
        ):
            best = candidate
    if not best:
        return dsl_path or "_form"
    rest = dsl_path[len(best) :].lstrip(".")
    name = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else ""
    return f"{dsl_paths[best]}.{name}" if name else dsl_paths[best]


def map_segment_error(message: str, dsl_paths: Mapping[str, str]) -> tuple[str, str]:
    match = _DSL_ERROR.match(message)
    if not match:
        return "_form", message
    return _map_dsl_path(match.group(1), dsl_paths), match.group(2)


def _pydantic_message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", ""))
    return msg.removeprefix("Value error, ")


# ------------------------------------------------------------------ DSL -> tree


def from_condition(condition: Any) -> Node:
    """The builder tree of a stored definition (its root is always a group)."""
    node = _from(condition.model_dump(mode="json", exclude_none=True))
    if not node.is_group or node.negate:
        node = Node("and", children=[node])
    return node


def _from(data: dict[str, Any]) -> Node:
    kind = data["type"]
    if kind == "not":
        inner = _from(data["condition"])
        if inner.negate:
            # NOT NOT x: keep both, the inner one inside a group of its own.
            inner = Node("and", children=[inner])
        inner.negate = True
        return inner
    if kind in GROUP_TYPES:
        return Node(kind, children=[_from(c) for c in data["conditions"]])
    node = Node(kind)
    if kind == "compare":
        node.inputs = {"field": data["field"], "op": data["op"], "value": "", "value2": ""}
        value = data.get("value")
        if isinstance(value, list):
            if data["op"] == "between":
                node.inputs["value"], node.inputs["value2"] = _text(value[0]), _text(value[1])
            else:
                node.values = [_text(v) for v in value]
        elif value is not None:
            node.inputs["value"] = _text(value)
    elif kind == "days_ago":
        mode = "within" if data.get("within") is not None else "more_than"
        node.inputs = {"field": data["field"], "mode": mode, "days": str(data[mode])}
    elif kind in ("bought", "viewed_not_bought"):
        target = "category" if data.get("category") is not None else "product_id"
        node.inputs = {"target": target, target: data[target], "days": _text(data.get("days"))}
        if kind == "bought":
            node.inputs["min_count"] = str(data.get("min_count", 1))
    else:
        node.inputs = {k: _text(v) for k, v in data.items() if k != "type"}
    return node


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------ tree -> form


def to_form(root: Node, meta: Mapping[str, str]) -> dict[str, list[str]]:
    """The flat fields a tree posts as (for tests, and to round-trip the builder)."""
    data: dict[str, list[str]] = {k: [v] for k, v in meta.items()}

    def put(node: Node, path: str) -> None:
        data[f"{path}.type"] = [node.type]
        if node.negate:
            data[f"{path}.negate"] = ["1"]
        for k, v in node.inputs.items():
            data[f"{path}.{k}"] = [v]
        if node.values:
            data[f"{path}.values"] = list(node.values)
        for i, child in enumerate(node.children):
            put(child, f"{path}.{i}")

    put(root, "n")
    return data


def errors_by_node(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Errors grouped by the node they concern (`n.1.value` -> `n.1`); meta keys stay."""
    grouped: dict[str, list[str]] = {}
    for where, messages in errors.items():
        owner = where
        if not _PATH.match(where) and where.startswith("n."):
            owner = where.rsplit(".", 1)[0]
            if not _PATH.match(owner):
                owner = "_form"
        grouped.setdefault(owner, []).extend(messages)
    return grouped
