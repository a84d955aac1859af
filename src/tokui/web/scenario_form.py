"""The scenario editor's form: flat form fields <-> a ScenarioDefinition.

The inputs are built from the pydantic models themselves (tokui.scenarios.definition and
triggers_def): each field's type and constraints choose its widget (a select for a
Literal, a number for int and float, a step picker for a field holding a step id, a
template or segment picker by name, YAML for a nested condition, rows for a list of
models). A trigger or step type added to the models shows up in the editor without a
change here; i18n labels make it read well (scenarios.trigger.<type>, scenarios.field.*).

Names on the form: `key`, `name_ja`, ...; `trigger.type` and `trigger.<field>`;
`entry.<field>`; `goal.on` and `goal.<field>`; `s.<i>.type` and `s.<i>.<field>` for the
i-th step, `s.<i>.<list>.<j>.<field>` for the j-th row of a list field (split arms).
Errors are keyed by the same names (`s.2.template`), with `s.2` for a step as a whole and
`trigger`, `entry`, `goal`, `steps`, `_form` for sections, so the page shows each next
to what it concerns. The one parser serves every button: nothing of the form is trusted
until ScenarioDefinition validates it, and nothing is stored before that.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from tokui.scenarios.definition import (
    KEY,
    MAX_STEPS,
    STEP_ID,
    EntryRules,
    Goal,
    ScenarioDefinition,
)

FormData = Mapping[str, list[str]]
Translate = Callable[..., str]

META_INPUTS = ("key", "name_ja", "name_en", "description")
MAX_INPUT = 4000
MAX_YAML = 20_000
MAX_ITEMS = 20
# What a freshly added step starts from where the model's own default would not
# validate (a wait of nothing, a holdout of 0 %) or would surprise.
NEW_STEP_VALUES: dict[str, dict[str, str]] = {
    "wait": {"days": "1"},
    "wait_until": {"timeout_days": "7"},
    "holdout": {"percent": "10"},
    "grant_points": {"points": "100"},
    "issue_coupon": {"expires_days": "30"},
}

_CSV_SPLIT = re.compile(r"[,、，]")  # typed with a Japanese keyboard too
_STEP_NAME = re.compile(r"^s\.(\d{1,3})\.type$")
_GRAPH_ERROR = re.compile(
    r"^steps\[(\d+)\] \([^)]*\)\.([a-z_]+)(?:\[(\d+)\]\.([a-z_]+))?: (.*)$", re.DOTALL
)


# ------------------------------------------------------------------ widgets


@dataclass(frozen=True)
class Widget:
    """How one model field is edited.

    kind: select, int, float, text, datetime, date, bool, weekday, step (a step id of
    this scenario), template, segment, yaml (a nested model), list (rows of `items`),
    csv (a list of plain values, typed comma-separated).
    """

    name: str
    kind: str
    required: bool
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: str = ""
    items: tuple[Widget, ...] = ()
    min_items: int = 0
    max_items: int = MAX_ITEMS


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside Optional[...] / X | None / Annotated[...], and whether None is allowed."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        rest = tuple(a for a in args if a is not type(None))
        optional = len(rest) < len(args)
        if len(rest) == 1:
            return rest[0], optional
        return Union[rest], optional  # noqa: UP007 - built from a runtime tuple
    return annotation, False


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    inner, _ = _unwrap(annotation)
    if _is_model(inner):
        return [inner]
    if get_origin(inner) in (Union, types.UnionType):
        members = get_args(inner)
        if all(_is_model(m) for m in members):
            return list(members)
    return []


def tagged_models(annotation: Any) -> dict[str, type[BaseModel]]:
    """{type tag: model} of a discriminated union (or of a list of one)."""
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    out: dict[str, type[BaseModel]] = {}
    for model in _models_in(annotation):
        tag = model.model_fields["type"].default
        out[str(tag)] = model
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _constraints(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge | annotated_types.Gt):
            out["minimum"] = float(m.ge if isinstance(m, annotated_types.Ge) else m.gt)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Le | annotated_types.Lt):
            out["maximum"] = float(m.le if isinstance(m, annotated_types.Le) else m.lt)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.MaxLen):
            out["max_length"] = m.max_length
        elif isinstance(m, annotated_types.MinLen):
            out["min_length"] = m.min_length
        elif getattr(m, "pattern", None):
            out["pattern"] = m.pattern
    return out


def widget(name: str, info: FieldInfo) -> Widget:
    inner, _ = _unwrap(info.annotation)
    c = _constraints(info)
    required = info.is_required()
    default = "" if required else _text(info.default)
    common: dict[str, Any] = {"name": name, "required": required, "default": default}
    numbers: dict[str, Any] = {"minimum": c.get("minimum"), "maximum": c.get("maximum")}
    if get_origin(inner) in (list, tuple):
        item = get_args(inner)[0]
        if _is_model(item):
            return Widget(
                kind="list",
                items=tuple(widgets(item)),
                min_items=int(c.get("min_length", 0)),
                max_items=min(int(c.get("max_length", MAX_ITEMS)), MAX_ITEMS),
                **common,
            )
        # A list of plain values (rank keys, product ids): one text, comma-separated.
        return Widget(kind="csv", **common)
    if _models_in(inner):
        return Widget(kind="yaml", **common)
    if get_origin(inner) is Literal:
        return Widget(kind="select", options=tuple(str(a) for a in get_args(inner)), **common)
    if inner is bool:
        return Widget(kind="bool", **common)
    if inner is int:
        if name == "weekday":
            return Widget(kind="weekday", options=tuple(str(d) for d in range(7)), **common)
        return Widget(kind="int", **numbers, **common)
    if inner is float:
        return Widget(kind="float", **numbers, **common)
    if inner is datetime:
        return Widget(kind="datetime", **common)
    if inner is date:
        return Widget(kind="date", **common)
    if c.get("pattern") == STEP_ID and _leads_to_step(name):
        return Widget(kind="step", **common)
    if name.endswith("template"):
        return Widget(kind="template", **common)
    if name == "segment" and c.get("pattern") == KEY:
        return Widget(kind="segment", **common)
    return Widget(kind="text", max_length=c.get("max_length"), **common)


def _leads_to_step(name: str) -> bool:
    """The fields naming the step that follows (definition._targets): `next` and the
    branch fields `on_*` / `if_*`. Other step-id-shaped fields (an arm's name) are text."""
    return name == "next" or name.startswith(("on_", "if_"))


@cache
def widgets(model: type[BaseModel]) -> tuple[Widget, ...]:
    """The editable fields of a model: `type` is the discriminator, never an input; a
    step's `id` comes first and its `next` last."""
    out = [widget(n, info) for n, info in model.model_fields.items() if n != "type"]
    first = [w for w in out if w.name == "id"]
    last = [w for w in out if w.name == "next"]
    middle = [w for w in out if w.name not in ("id", "next")]
    return (*first, *middle, *last)


def triggers() -> dict[str, type[BaseModel]]:
    return tagged_models(ScenarioDefinition.model_fields["trigger"].annotation)


def step_types() -> dict[str, type[BaseModel]]:
    return tagged_models(ScenarioDefinition.model_fields["steps"].annotation)


# ------------------------------------------------------------------ editor state


@dataclass
class StepState:
    type: str
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.values.get("id", "")


@dataclass
class EditorState:
    meta: dict[str, str] = field(default_factory=dict)
    trigger_type: str = ""
    trigger: dict[str, str] = field(default_factory=dict)
    entry: dict[str, str] = field(default_factory=dict)
    goal_on: bool = False
    goal: dict[str, str] = field(default_factory=dict)
    steps: list[StepState] = field(default_factory=list)


def new_state() -> EditorState:
    ttype = "registered" if "registered" in triggers() else next(iter(triggers()))
    state = EditorState(
        meta=dict.fromkeys(META_INPUTS, ""),
        trigger_type=ttype,
        trigger=_defaults(widgets(triggers()[ttype])),
        entry=_defaults(widgets(EntryRules)),
        goal=_defaults(widgets(Goal)),
    )
    state.goal["within_days"] = state.goal.get("within_days") or "14"
    return state


def _defaults(ws: tuple[Widget, ...]) -> dict[str, str]:
    return {w.name: w.default for w in ws if w.kind != "list"}


def first(data: FormData, name: str, limit: int = MAX_INPUT) -> str:
    values = data.get(name) or [""]
    return values[0][:limit]


def _read(data: FormData, prefix: str, ws: tuple[Widget, ...]) -> dict[str, str]:
    out = {}
    for w in ws:
        if w.kind == "list":
            continue
        key = prefix + w.name
        if w.kind == "bool":
            out[w.name] = "1" if first(data, key) == "1" else ""
        elif key in data:
            raw = first(data, key, MAX_YAML if w.kind == "yaml" else MAX_INPUT)
            out[w.name] = raw if w.kind == "yaml" else raw.strip()
        else:
            # Not on the posted form (the trigger type just changed): the model default.
            out[w.name] = w.default
        if w.kind == "yaml" and w.name == "condition":
            # The shortcut "member of a saved segment" replaces the YAML.
            picked = first(data, key + "_segment").strip()
            if picked:
                out[w.name] = _yaml({"type": "in_segment", "segment": picked})
    return out


def _read_rows(data: FormData, prefix: str, w: Widget) -> list[dict[str, str]]:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d{{1,2}})\.")
    indices = sorted({int(m.group(1)) for name in data if (m := pattern.match(name))})
    return [_read(data, f"{prefix}{j}.", w.items) for j in indices[: w.max_items]]


def read_state(data: FormData) -> EditorState:
    """The editor state the posted fields describe; unknown names are ignored."""
    state = EditorState(meta={n: first(data, n).strip() for n in META_INPUTS})
    state.trigger_type = first(data, "trigger.type").strip()
    model = triggers().get(state.trigger_type)
    state.trigger = _read(data, "trigger.", widgets(model)) if model else {}
    state.entry = _read(data, "entry.", widgets(EntryRules))
    state.goal_on = first(data, "goal.on") == "1"
    state.goal = _read(data, "goal.", widgets(Goal))
    indices = sorted({int(m.group(1)) for name in data if (m := _STEP_NAME.match(name))})
    for i in indices[:MAX_STEPS]:
        prefix = f"s.{i}."
        step = StepState(first(data, prefix + "type").strip())
        step_model = step_types().get(step.type)
        if step_model is None:
            step.values["id"] = first(data, prefix + "id").strip()
        else:
            step.values = _read(data, prefix, widgets(step_model))
            for w in widgets(step_model):
                if w.kind == "list":
                    step.lists[w.name] = _read_rows(data, f"{prefix}{w.name}.", w)
        state.steps.append(step)
    return state


# ------------------------------------------------------------------ definition -> state


def _yaml(data: Any) -> str:
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return text


def _as_text(w: Widget, value: Any, tz: ZoneInfo) -> str:
    if w.kind == "yaml" and value is not None:
        dumped = (
            value.model_dump(mode="json", exclude_none=True)
            if isinstance(value, BaseModel)
            else value
        )
        return _yaml(dumped)
    if w.kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    if w.kind == "csv" and isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return _text(value)


def _values(
    model: BaseModel, tz: ZoneInfo
) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    values: dict[str, str] = {}
    lists: dict[str, list[dict[str, str]]] = {}
    for w in widgets(type(model)):
        value = getattr(model, w.name)
        if w.kind == "list":
            lists[w.name] = [_values(item, tz)[0] for item in value]
        else:
            values[w.name] = _as_text(w, value, tz)
    return values, lists


def from_definition(d: ScenarioDefinition, tz: ZoneInfo) -> EditorState:
    state = EditorState(
        meta={
            "key": d.key,
            "name_ja": d.name_ja,
            "name_en": d.name_en,
            "description": d.description,
        }
    )
    state.trigger_type = str(d.trigger.type)
    state.trigger = _values(d.trigger, tz)[0]
    state.entry = _values(d.entry, tz)[0]
    state.goal_on = d.goal is not None
    state.goal = _values(d.goal, tz)[0] if d.goal is not None else new_state().goal
    for s in d.steps:
        values, lists = _values(s, tz)
        state.steps.append(StepState(str(s.type), values, lists))
    return state


# ------------------------------------------------------------------ actions


def _fresh_id(state: EditorState, kind: str) -> str:
    taken = {s.id for s in state.steps}
    stem = kind.replace("_", "-")
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _new_row(w: Widget, position: int) -> dict[str, str]:
    row = _defaults(w.items)
    for item in w.items:
        if item.name == "name" and not row.get("name"):
            row["name"] = "abcdefghijklmnopqrst"[position % MAX_ITEMS]
        elif item.required and not row.get(item.name) and item.kind in ("int", "float"):
            row[item.name] = _text(int(item.minimum)) if item.minimum is not None else "1"
    return row


def new_step(state: EditorState, kind: str) -> StepState:
    model = step_types()[kind]
    step = StepState(kind, values=_defaults(widgets(model)))
    step.values["id"] = _fresh_id(state, kind)
    for w in widgets(model):
        if w.kind in ("select", "weekday") and w.required and not step.values.get(w.name):
            step.values[w.name] = w.options[0]
        elif w.kind == "list":
            step.lists[w.name] = [_new_row(w, j) for j in range(max(w.min_items, 1))]
    step.values.update(NEW_STEP_VALUES.get(kind, {}))
    return step


def _index(text: str, limit: int) -> int | None:
    return int(text) if text.isdigit() and int(text) < limit else None


def apply_action(state: EditorState, action: str, data: FormData) -> EditorState:
    """The structural buttons: add_step, remove:i, up:i, down:i, add_row:i.field,
    remove_row:i.field.j. Anything else leaves the state as it is."""
    verb, _, arg = action.partition(":")
    steps = state.steps
    if verb == "add_step":
        kind = first(data, "add_type")
        if kind in step_types() and len(steps) < MAX_STEPS:
            steps.append(new_step(state, kind))
        return state
    if verb in ("remove", "up", "down"):
        i = _index(arg, len(steps))
        if i is None:
            return state
        if verb == "remove":
            del steps[i]
        elif verb == "up" and i > 0:
            steps[i - 1], steps[i] = steps[i], steps[i - 1]
        elif verb == "down" and i + 1 < len(steps):
            steps[i + 1], steps[i] = steps[i], steps[i + 1]
        return state
    if verb in ("add_row", "remove_row"):
        parts = arg.split(".")
        i = _index(parts[0], len(steps)) if parts else None
        if i is None or len(parts) < 2:
            return state
        model = step_types().get(steps[i].type)
        w = next((w for w in widgets(model) if w.name == parts[1]), None) if model else None
        if w is None or w.kind != "list":
            return state
        rows = steps[i].lists.setdefault(w.name, [])
        if verb == "add_row" and len(rows) < w.max_items:
            rows.append(_new_row(w, len(rows)))
        elif verb == "remove_row" and len(parts) == 3:
            j = _index(parts[2], len(rows))
            if j is not None:
                del rows[j]
    return state


# ------------------------------------------------------------------ state -> definition


@dataclass
class Outcome:
    definition: ScenarioDefinition | None
    errors: dict[str, list[str]]

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)


def _payload(
    values: Mapping[str, str],
    ws: tuple[Widget, ...],
    prefix: str,
    tz: ZoneInfo,
    out: Outcome,
    t: Translate,
) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for w in ws:
        if w.kind == "list":
            continue
        raw = values.get(w.name, "")
        if w.kind == "bool":
            payload[w.name] = raw == "1"
            continue
        if raw.strip() == "":
            continue  # the model's default, or its "required" error
        if w.kind == "yaml":
            try:
                payload[w.name] = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark is not None else 0
                out.add(prefix + w.name, t("scenarios.err.yaml", line=line))
        elif w.kind == "csv":
            payload[w.name] = [p.strip() for p in _CSV_SPLIT.split(raw) if p.strip()]
        elif w.kind == "datetime":
            try:
                at = datetime.fromisoformat(raw)
            except ValueError:
                payload[w.name] = raw  # pydantic names what is wrong
            else:
                # A datetime-local input has no zone: it is the shop's.
                payload[w.name] = at if at.tzinfo is not None else at.replace(tzinfo=tz)
        else:
            payload[w.name] = raw
    return payload


def to_payload(state: EditorState, tz: ZoneInfo, out: Outcome, t: Translate) -> dict[str, Any]:
    meta = state.meta
    payload: dict[str, Any] = {
        "key": meta.get("key", ""),
        "name_ja": meta.get("name_ja", ""),
        # An English name is optional in the form: a Japanese shop often has none.
        "name_en": meta.get("name_en") or meta.get("name_ja", ""),
        "description": meta.get("description", ""),
    }
    for name in ("key", "name_ja"):
        if not payload[name]:
            del payload[name]  # pydantic reports it missing, next to the input
    model = triggers().get(state.trigger_type)
    trigger: dict[str, Any] = {"type": state.trigger_type}
    if model is not None:
        trigger.update(_payload(state.trigger, widgets(model), "trigger.", tz, out, t))
    payload["trigger"] = trigger
    payload["entry"] = _payload(state.entry, widgets(EntryRules), "entry.", tz, out, t)
    if state.goal_on:
        payload["goal"] = _payload(state.goal, widgets(Goal), "goal.", tz, out, t)
    steps = []
    for i, s in enumerate(state.steps):
        step_model = step_types().get(s.type)
        item: dict[str, Any] = {"type": s.type}
        if step_model is None:
            item["id"] = s.id
        else:
            item.update(_payload(s.values, widgets(step_model), f"s.{i}.", tz, out, t))
            for w in widgets(step_model):
                if w.kind == "list":
                    item[w.name] = [
                        _payload(row, w.items, f"s.{i}.{w.name}.{j}.", tz, out, t)
                        for j, row in enumerate(s.lists.get(w.name, []))
                    ]
        steps.append(item)
    payload["steps"] = steps
    return payload


def validate(state: EditorState, tz: ZoneInfo, t: Translate) -> Outcome:
    """The definition the form describes, or the errors keyed by form name."""
    out = Outcome(None, {})
    payload = to_payload(state, tz, out, t)
    unreadable = set(out.errors)  # YAML that did not parse: pydantic only sees it missing
    try:
        definition = ScenarioDefinition.model_validate(payload)
    except ValidationError as exc:
        for err in exc.errors():
            where, message = locate(err, state)
            if where in unreadable:
                continue
            out.add(where, translate_error(err, t) if message is None else _graph(message, t))
        return out
    if out.errors:  # a YAML text that did not parse, though the rest validated
        return out
    out.definition = definition
    return out


def locate(err: Mapping[str, Any], state: EditorState) -> tuple[str, str | None]:
    """The form name an error belongs to; for the scenario-wide graph errors, also
    their message without the `steps[2] (id).next:` prefix it replaces."""
    loc = tuple(err.get("loc", ()))
    if not loc:
        match = _GRAPH_ERROR.match(str(err.get("msg", "")).removeprefix("Value error, "))
        if match:
            i, name, j, sub, message = match.groups()
            where = f"s.{i}.{name}" + (f".{j}.{sub}" if j is not None else "")
            return where, message
        return "_form", None
    head = loc[0]
    if head == "trigger":
        return ("trigger." + str(loc[2]), None) if len(loc) >= 3 else ("trigger", None)
    if head in ("entry", "goal"):
        return (f"{head}.{loc[1]}", None) if len(loc) >= 2 else (str(head), None)
    if head == "steps":
        if len(loc) < 2 or not isinstance(loc[1], int):
            return "steps", None
        i = loc[1]
        if len(loc) < 4:  # the step as a whole: its type, or a rule across its fields
            return f"s.{i}", None
        name = str(loc[3])
        model = step_types().get(state.steps[i].type) if i < len(state.steps) else None
        w = next((w for w in widgets(model) if w.name == name), None) if model else None
        if w is not None and w.kind == "list" and len(loc) >= 5 and isinstance(loc[4], int):
            return f"s.{i}.{name}.{loc[4]}" + (f".{loc[5]}" if len(loc) >= 6 else ""), None
        return f"s.{i}.{name}", None
    return str(head), None


_GRAPH_MESSAGES = (
    (re.compile(r"^no step '(.*)'$"), "scenarios.err.no_step"),
    (re.compile(r"^'(.*)' is not after this step$"), "scenarios.err.not_after"),
    (re.compile(r"^duplicate step id$"), "scenarios.err.duplicate_id"),
)


def _graph(message: str, t: Translate) -> str:
    """The step graph's rules (definition.ScenarioDefinition._graph) in the UI language."""
    for pattern, key in _GRAPH_MESSAGES:
        match = pattern.match(message)
        if match:
            return t(key, step=match.group(1)) if match.groups() else t(key)
    return message


# pydantic error types we word ourselves; anything else keeps pydantic's message.
_ERROR_KEYS = {
    "missing": "required",
    "string_too_short": "required",
    "int_parsing": "int",
    "int_type": "int",
    "int_from_float": "int",
    "float_parsing": "number",
    "float_type": "number",
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "less_than_equal": "le",
    "less_than": "lt",
    "string_too_long": "too_long",
    "too_short": "too_few",
    "too_long": "too_many",
    "literal_error": "choice",
    "union_tag_invalid": "choice",
    "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
    "date_from_datetime_parsing": "date",
    "date_parsing": "date",
    "timezone_aware": "datetime",
}


def translate_error(err: Mapping[str, Any], t: Translate) -> str:
    loc = tuple(err.get("loc", ()))
    message = _message(err, t)
    if "condition" in loc:
        # Inside a YAML condition: say where in it.
        inner = loc[loc.index("condition") + 1 :]
        if inner:
            message = ".".join(str(p) for p in inner) + ": " + message
    return message


def _message(err: Mapping[str, Any], t: Translate) -> str:
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    loc = tuple(err.get("loc", ()))
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        if pattern in (KEY, STEP_ID):
            return t("scenarios.err.key_chars")
        if loc and loc[-1] == "at_time":
            return t("scenarios.err.time")
        return t("scenarios.err.pattern")
    if kind in _ERROR_KEYS:
        values = {k: _text(v) for k, v in ctx.items()}
        return t("scenarios.err." + _ERROR_KEYS[kind], **values)
    return str(err.get("msg", "")).removeprefix("Value error, ")
