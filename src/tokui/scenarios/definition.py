"""Scenario definitions as data: an entry trigger, entry rules, a goal and a step graph.

A definition is validated whole before it is stored: step ids are unique, every `next`
and branch target names a step of the scenario, the graph has no cycle (so each step runs
at most once per enrollment, which is what lets (version, step, customer, occurrence)
identify a message), and conditions use the segment language (tokui.segments.dsl), never
an expression language of their own. Validation errors name the step and the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tokui.scenarios.triggers_def import Trigger
from tokui.segments.dsl import Condition

KEY = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
STEP_ID = r"^[a-z0-9][a-z0-9_\-]{0,31}$"
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
MESSAGE_CHANNELS = ("email", "line", "push", "postal_dm", "sandbox")
MAX_STEPS = 100


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Step(_Model):
    id: str = Field(pattern=STEP_ID)
    # The step that follows; None means the next step in the list (or the end).
    next: str | None = Field(default=None, pattern=STEP_ID)


class Wait(_Step):
    """Wait a duration, until a time of day, or until a date field (e.g. the birthday)."""

    type: Literal["wait"] = "wait"
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=24 * 365)
    # Then, at the first such local time of day at or after that moment.
    at_time: str | None = Field(default=None, pattern=TIME_OF_DAY)
    # Instead of a duration: the next anniversary of a customer date field, local time.
    until_field: Literal["birth_date", "registered_at"] | None = None
    days_before: int = Field(default=0, ge=0, le=60)

    @model_validator(mode="after")
    def _something(self) -> Wait:
        if self.until_field is None and not (self.days or self.hours or self.at_time):
            raise ValueError("give days, hours, at_time or until_field")
        if self.until_field is not None and (self.days or self.hours):
            raise ValueError("until_field cannot be combined with days or hours")
        return self


class WaitUntil(_Step):
    """Wait for an event (or a segment change) with a timeout branch."""

    type: Literal["wait_until"] = "wait_until"
    event: Literal["order", "cart_add", "product_view", "segment_entry", "segment_exit"]
    segment: str | None = Field(default=None, pattern=KEY)
    timeout_days: int = Field(ge=0, le=365)
    timeout_hours: int = Field(default=0, ge=0, le=24 * 30)
    on_event: str | None = Field(default=None, pattern=STEP_ID)
    on_timeout: str | None = Field(default=None, pattern=STEP_ID)

    @model_validator(mode="after")
    def _segment(self) -> WaitUntil:
        needs = self.event in ("segment_entry", "segment_exit")
        if needs and self.segment is None:
            raise ValueError(f"{self.event} needs a segment key")
        if not needs and self.segment is not None:
            raise ValueError(f"{self.event} takes no segment")
        if self.timeout_days == 0 and self.timeout_hours == 0:
            raise ValueError("timeout_days or timeout_hours must be positive")
        return self


class Branch(_Step):
    """A segment condition on the customer's features: if_true or if_false."""

    type: Literal["condition"] = "condition"
    condition: Condition
    if_true: str | None = Field(default=None, pattern=STEP_ID)
    if_false: str | None = Field(default=None, pattern=STEP_ID)


class SplitArm(_Model):
    name: str = Field(pattern=STEP_ID)
    weight: int = Field(ge=1, le=1000)
    next: str | None = Field(default=None, pattern=STEP_ID)


class AutoPromote(_Model):
    """Promote the winning arm by itself once the test is significant
    (tokui.measure.abtest.promote_winners): at least `min_per_arm` enrollments in every
    arm, and p below `alpha` (two-proportion z-test, chi-squared for more arms)."""

    min_per_arm: int = Field(default=200, ge=10, le=10_000_000)
    alpha: float = Field(default=0.05, gt=0, le=0.2)


class Split(_Step):
    """A/B/n split with weights; stable per customer and scenario."""

    type: Literal["split"] = "split"
    arms: list[SplitArm] = Field(min_length=2, max_length=10)
    promote: AutoPromote | None = None
    # Set when a winner was promoted: everyone goes to this arm from now on.
    winner: str | None = Field(default=None, pattern=STEP_ID)

    @model_validator(mode="after")
    def _unique(self) -> Split:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if self.winner is not None and self.winner not in names:
            raise ValueError(f"winner {self.winner!r} is not one of the arms")
        return self


class Holdout(_Step):
    """A stable random share that gets nothing more, recorded for measurement."""

    type: Literal["holdout"] = "holdout"
    percent: float = Field(gt=0, lt=100)


class Send(_Step):
    type: Literal["send"] = "send"
    channel: Literal["email", "line", "push", "postal_dm", "sandbox"]
    template: str = Field(pattern=KEY)
    # Used when the customer cannot be reached on `channel` (no address, no consent).
    fallback_channel: Literal["email", "line", "push", "postal_dm", "sandbox"] | None = None
    fallback_template: str | None = Field(default=None, pattern=KEY)
    # Hold the message until the customer's best hour (tokui.measure.sendtime).
    at_best_hour: bool = False
    # Try first whichever of channel and fallback_channel the customer responded to more
    # (opens and clicks, tokui.measure.sendtime.channel_preference); customers without
    # history get `channel` first.
    channel_preference: bool = False

    @model_validator(mode="after")
    def _fallback(self) -> Send:
        if (self.fallback_channel is None) != (self.fallback_template is None):
            raise ValueError("fallback_channel and fallback_template go together")
        if self.fallback_channel == self.channel:
            raise ValueError("fallback_channel must differ from channel")
        if self.channel_preference and self.fallback_channel is None:
            raise ValueError("channel_preference needs fallback_channel and fallback_template")
        return self


class GrantPoints(_Step):
    type: Literal["grant_points"] = "grant_points"
    points: int = Field(ge=1, le=1_000_000)
    expires_days: int = Field(default=180, ge=1, le=3650)
    reason: str = Field(default="", max_length=200)


class IssueCoupon(_Step):
    type: Literal["issue_coupon"] = "issue_coupon"
    coupon_id: str = Field(min_length=1, max_length=64)
    expires_days: int = Field(ge=1, le=3650)


class Tag(_Step):
    type: Literal["tag"] = "tag"
    add: str | None = Field(default=None, pattern=KEY)
    remove: str | None = Field(default=None, pattern=KEY)

    @model_validator(mode="after")
    def _one(self) -> Tag:
        if (self.add is None) == (self.remove is None):
            raise ValueError("give exactly one of add or remove")
        return self


class CallCenterTask(_Step):
    """A task on the call list, queued through the outbox channel `call_center`."""

    type: Literal["call_center"] = "call_center"
    template: str = Field(pattern=KEY)


class Webhook(_Step):
    """Notify another system, queued through the outbox channel `webhook`."""

    type: Literal["webhook"] = "webhook"
    template: str = Field(pattern=KEY)


class End(_Step):
    type: Literal["end"] = "end"


Step = Annotated[
    Wait
    | WaitUntil
    | Branch
    | Split
    | Holdout
    | Send
    | GrantPoints
    | IssueCoupon
    | Tag
    | CallCenterTask
    | Webhook
    | End,
    Field(discriminator="type"),
]


class EntryRules(_Model):
    segment: str | None = Field(default=None, pattern=KEY)  # only members may enter
    # Only customers the condition holds for may enter (segment language, latest
    # features): the audience of a ready scenario without a saved segment to install.
    condition: Condition | None = None
    reentry: Literal["never", "after_days", "always"] = "never"
    reentry_days: int = Field(default=0, ge=0, le=3650)
    max_entries: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _days(self) -> EntryRules:
        if self.reentry == "after_days" and self.reentry_days < 1:
            raise ValueError("reentry after_days needs reentry_days >= 1")
        return self


class Goal(_Model):
    """An order within `within_days` of entry exits the customer (conversion)."""

    within_days: int = Field(ge=1, le=365)
    product_id: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=100)


class ScenarioDefinition(_Model):
    key: str = Field(pattern=KEY)
    name_ja: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    trigger: Trigger
    entry: EntryRules = EntryRules()
    goal: Goal | None = None
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _graph(self) -> ScenarioDefinition:
        ids = [s.id for s in self.steps]
        seen: set[str] = set()
        for i, s in enumerate(self.steps):
            if s.id in seen:
                raise ValueError(f"steps[{i}] ({s.id}).id: duplicate step id")
            seen.add(s.id)
        for i, s in enumerate(self.steps):
            for name, target in _targets(s):
                if target is not None and target not in seen:
                    raise ValueError(f"steps[{i}] ({s.id}).{name}: no step {target!r}")
        order = {sid: i for i, sid in enumerate(ids)}
        # A step may only lead forward in the list: no cycle, each step runs once.
        for i, s in enumerate(self.steps):
            for name, target in _targets(s):
                if target is not None and order[target] <= i:
                    raise ValueError(
                        f"steps[{i}] ({s.id}).{name}: {target!r} is not after this step"
                    )
        return self

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def following(self, step_id: str) -> str | None:
        """The step after `step_id` in the list (the default `next`)."""
        ids = [s.id for s in self.steps]
        i = ids.index(step_id)
        return ids[i + 1] if i + 1 < len(ids) else None


def _targets(step: Step) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [("next", step.next)]
    if isinstance(step, WaitUntil):
        out += [("on_event", step.on_event), ("on_timeout", step.on_timeout)]
    if isinstance(step, Branch):
        out += [("if_true", step.if_true), ("if_false", step.if_false)]
    if isinstance(step, Split):
        out += [(f"arms[{i}].next", a.next) for i, a in enumerate(step.arms)]
    return out


class DefinitionError(ValueError):
    """A scenario definition that does not validate; the message names step and field."""


_STEP_LOC = re.compile(r"^steps\.(\d+)\.")


def describe_errors(exc: ValidationError, data: object) -> str:
    """pydantic's errors as `steps[2] (send-1).template: ...` lines."""
    steps = data.get("steps") if isinstance(data, dict) else None
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        where = ".".join(loc)
        if len(loc) >= 2 and loc[0] == "steps" and loc[1].isdigit():
            i = int(loc[1])
            sid = ""
            if isinstance(steps, list) and i < len(steps) and isinstance(steps[i], dict):
                sid = f" ({steps[i].get('id', '?')})"
            # loc[2] is the discriminator tag (e.g. "send"); the field follows it.
            rest = [p for p in loc[3:]] if len(loc) > 2 and not loc[2].isdigit() else loc[2:]
            where = f"steps[{i}]{sid}" + ("." + ".".join(rest) if rest else "")
        msg = str(err["msg"]).removeprefix("Value error, ")
        # Graph errors are raised on the whole scenario and already name their step.
        lines.append(f"{where}: {msg}" if where else msg)
    return "; ".join(lines)


def parse_definition(data: object) -> ScenarioDefinition:
    try:
        return ScenarioDefinition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(describe_errors(exc, data)) from None
