"""The scenario editor's form (tokui.web.scenario_form) without a server: every library
scenario survives the trip definition -> form fields -> definition, the structural
buttons do what they say, and errors land on the form names they concern."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tokui.scenarios.library import load_library
from tokui.web.i18n import translate
from tokui.web.scenario_form import (
    EditorState,
    StepState,
    apply_action,
    from_definition,
    new_state,
    read_state,
    step_types,
    triggers,
    validate,
    widgets,
)

TZ = ZoneInfo("Asia/Tokyo")


def t(key: str, **values: object) -> str:
    return translate("ja", key, **values)


def as_form(state: EditorState) -> dict[str, list[str]]:
    """The fields the editor page would post for a state."""
    data: dict[str, list[str]] = {k: [v] for k, v in state.meta.items()}
    data["trigger.type"] = [state.trigger_type]
    data.update({f"trigger.{k}": [v] for k, v in state.trigger.items()})
    data.update({f"entry.{k}": [v] for k, v in state.entry.items()})
    data.update({f"goal.{k}": [v] for k, v in state.goal.items()})
    if state.goal_on:
        data["goal.on"] = ["1"]
    for i, s in enumerate(state.steps):
        data[f"s.{i}.type"] = [s.type]
        data.update({f"s.{i}.{k}": [v] for k, v in s.values.items()})
        for name, rows in s.lists.items():
            for j, row in enumerate(rows):
                data.update({f"s.{i}.{name}.{j}.{k}": [v] for k, v in row.items()})
    return data


@pytest.mark.parametrize("ready", load_library(), ids=lambda r: r.file)
def test_library_definitions_survive_the_form(ready) -> None:  # type: ignore[no-untyped-def]
    state = read_state(as_form(from_definition(ready.definition, TZ)))
    outcome = validate(state, TZ, t)
    assert outcome.errors == {}
    assert outcome.definition == ready.definition


def test_every_trigger_and_step_type_has_a_form() -> None:
    assert {"cart_abandoned", "broadcast", "seasonal", "weekly"} <= set(triggers())
    steps = {"wait", "wait_until", "condition", "split", "holdout", "send", "grant_points"}
    steps |= {"issue_coupon", "tag", "call_center", "webhook", "end"}
    assert steps <= set(step_types())
    kinds = {w.name: w.kind for w in widgets(step_types()["send"])}
    assert kinds["channel"] == "select" and kinds["template"] == "template"
    assert kinds["next"] == "step" and kinds["id"] == "text"
    assert {w.name: w.kind for w in widgets(step_types()["split"])}["arms"] == "list"
    assert {w.name: w.kind for w in widgets(step_types()["condition"])}["condition"] == "yaml"
    assert {w.name: w.kind for w in widgets(triggers()["broadcast"])}["at"] == "datetime"
    assert {w.name: w.kind for w in widgets(triggers()["weekly"])}["weekday"] == "weekday"


def _state(*kinds: str) -> EditorState:
    state = new_state()
    for kind in kinds:
        state = apply_action(state, "add_step", {"add_type": [kind]})
    return state


def test_structural_buttons() -> None:
    state = _state("send", "wait", "split", "end")
    assert [s.id for s in state.steps] == ["send-1", "wait-1", "split-1", "end-1"]
    # A new split starts with two arms; rows are added and removed.
    assert [r["name"] for r in state.steps[2].lists["arms"]] == ["a", "b"]
    apply_action(state, "add_row:2.arms", {})
    assert [(r["name"], r["weight"]) for r in state.steps[2].lists["arms"]] == [
        ("a", "1"), ("b", "1"), ("c", "1")
    ]  # fmt: skip
    apply_action(state, "remove_row:2.arms.0", {})
    assert [r["name"] for r in state.steps[2].lists["arms"]] == ["b", "c"]
    apply_action(state, "down:0", {})
    assert [s.id for s in state.steps] == ["wait-1", "send-1", "split-1", "end-1"]
    apply_action(state, "up:0", {})  # the first cannot go up
    apply_action(state, "down:3", {})  # nor the last down
    apply_action(state, "remove:99", {})  # nor a step that is not there be removed
    assert [s.id for s in state.steps] == ["wait-1", "send-1", "split-1", "end-1"]
    apply_action(state, "remove:1", {})
    assert [s.id for s in state.steps] == ["wait-1", "split-1", "end-1"]
    apply_action(state, "add_step", {"add_type": ["rm -rf"]})  # not a step type
    assert len(state.steps) == 3


def test_errors_are_keyed_by_form_name() -> None:
    state = _state("split", "send", "wait_until")
    state.meta.update(key="x", name_ja="x")
    state.steps[0].lists["arms"][1]["weight"] = "0"
    state.steps[0].lists["arms"][0]["next"] = "send-1"
    state.steps[1].values.update(channel="email", template="sc-mail", fallback_channel="line")
    state.steps[2].values["timeout_days"] = "0"
    state.steps.append(StepState("exec", {"id": "boom"}))
    errors = validate(state, TZ, t).errors
    assert errors == {
        "s.0.arms.1.weight": ["1以上にしてください。"],
        "s.1": ["fallback_channel and fallback_template go together"],
        "s.2": ["timeout_days or timeout_hours must be positive"],
        "s.3": [
            "選択肢から選んでください。",
        ],
    }
    # The graph rules come once the fields are right, named at the field that breaks them.
    state.steps.pop()
    state.steps[0].lists["arms"][1]["weight"] = "1"
    state.steps[1].values.update(fallback_channel="", next="split-1")
    state.steps[2].values["timeout_days"] = "3"
    errors = validate(state, TZ, t).errors
    assert errors == {
        "s.1.next": [
            "「split-1」はこのステップより後ろにありません（前のステップには戻れません）。"
        ]
    }


def test_broadcast_time_is_shop_time() -> None:
    state = new_state()
    state.meta.update(key="sale", name_ja="セール")
    state.trigger_type = "broadcast"
    state.trigger = {"at": "2026-12-01T10:00"}
    state = apply_action(state, "add_step", {"add_type": ["end"]})
    d = validate(state, TZ, t).definition
    assert d is not None
    assert d.trigger.at.isoformat() == "2026-12-01T10:00:00+09:00"  # type: ignore[union-attr]
    assert from_definition(d, TZ).trigger["at"] == "2026-12-01T10:00"
