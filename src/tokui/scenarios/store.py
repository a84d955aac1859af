"""Scenarios in the state DB: every save of a changed definition is a new version; YAML
import and export so definitions can live in git."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.messaging.context import ShopInfo, sample_context
from tokui.messaging.store import get_template, get_version, version_problems
from tokui.scenarios.definition import (
    CallCenterTask,
    DefinitionError,
    ScenarioDefinition,
    Send,
    Webhook,
    parse_definition,
)
from tokui.state.scenarios import Scenario, ScenarioVersion

STATUSES = ("draft", "enabled", "paused")


class ScenarioStoreError(ValueError):
    """A request on stored scenarios that cannot be carried out."""


@dataclass(frozen=True)
class Saved:
    scenario: Scenario
    version: ScenarioVersion
    changed: bool


def _dump(definition: ScenarioDefinition) -> str:
    return json.dumps(definition.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def get(db: Session, key: str) -> Scenario:
    scenario = db.scalar(select(Scenario).where(Scenario.key == key))
    if scenario is None:
        raise ScenarioStoreError(f"no scenario {key!r}")
    return scenario


def version_row(db: Session, scenario: Scenario, version: int | None = None) -> ScenarioVersion:
    row = db.scalar(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id,
            ScenarioVersion.version == (version or scenario.current_version),
        )
    )
    if row is None:
        raise ScenarioStoreError(f"scenario {scenario.key!r} has no version {version}")
    return row


def load_version(row: ScenarioVersion) -> ScenarioDefinition:
    return ScenarioDefinition.model_validate_json(row.definition)


def save(
    db: Session, definition: ScenarioDefinition, at: datetime, user_id: int | None = None
) -> Saved:
    """Store a definition: a new scenario (draft), or a new version when it changed."""
    body = _dump(definition)
    scenario = db.scalar(select(Scenario).where(Scenario.key == definition.key))
    if scenario is None:
        scenario = Scenario(
            key=definition.key, status="draft", current_version=1, created_at=at, updated_at=at
        )
        db.add(scenario)
        db.flush()
        number = 1
    else:
        current = version_row(db, scenario)
        if current.definition == body:
            return Saved(scenario, current, False)
        last = db.scalar(
            select(func.max(ScenarioVersion.version)).where(
                ScenarioVersion.scenario_id == scenario.id
            )
        )
        number = int(last or 0) + 1
        scenario.current_version = number
        scenario.updated_at = at
    row = ScenarioVersion(
        scenario_id=scenario.id, version=number, definition=body, created_at=at, created_by=user_id
    )
    db.add(row)
    db.flush()
    return Saved(scenario, row, True)


def template_problems(db: Session, definition: ScenarioDefinition) -> list[str]:
    """What is wrong with the templates the scenario's steps send: missing, made for
    another channel, or failing for a made-up customer. Messages are rendered by the
    delivery worker (tokui.messaging.deferred), after the step has moved on, so a
    scenario is enabled only when its templates render."""
    context = sample_context(ShopInfo(name="sample"))
    wanted: list[tuple[str, str, str]] = []
    for step in definition.steps:
        if isinstance(step, Send):
            wanted.append((step.id, step.channel, step.template))
            if step.fallback_channel and step.fallback_template:
                wanted.append((step.id, step.fallback_channel, step.fallback_template))
        elif isinstance(step, CallCenterTask):
            wanted.append((step.id, "call_center", step.template))
        elif isinstance(step, Webhook):
            wanted.append((step.id, "webhook", step.template))
    problems = []
    for step_id, channel, key in wanted:
        template = get_template(db, key)
        if template is None:
            problems.append(f"steps ({step_id}): no template {key!r}")
        elif template.channel != channel:
            problems.append(f"steps ({step_id}): template {key!r} is for {template.channel}")
        else:
            version = get_version(db, template, None)
            found = version_problems(template, version, context)
            problems += [f"steps ({step_id}): {p}" for p in found]
    return problems


def set_status(db: Session, key: str, status: str, at: datetime) -> Scenario:
    """Change the status; enabling checks the templates first (template_problems) and
    changes nothing when one fails."""
    if status not in STATUSES:
        raise ScenarioStoreError(f"status must be one of {', '.join(STATUSES)}")
    scenario = get(db, key)
    if status == "enabled":
        problems = template_problems(db, load_version(version_row(db, scenario)))
        if problems:
            raise ScenarioStoreError(f"{key}: cannot enable: " + "; ".join(problems))
    if status == "enabled" and scenario.status != "enabled" and scenario.trigger_checked_at is None:
        # Triggers look at what happens from now on; history is for the dry run.
        scenario.trigger_checked_at = at
    scenario.status = status
    scenario.updated_at = at
    db.flush()
    return scenario


def list_all(db: Session) -> list[Scenario]:
    return list(db.scalars(select(Scenario).order_by(Scenario.key)))


def from_yaml(text: str, source: str = "<yaml>") -> ScenarioDefinition:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{source}: not valid YAML: {exc}") from None
    try:
        return parse_definition(data)
    except DefinitionError as exc:
        raise DefinitionError(f"{source}: {exc}") from None


def to_yaml(definition: ScenarioDefinition) -> str:
    # exclude_none keeps the discriminating `type` of steps and conditions.
    data = definition.model_dump(mode="json", exclude_none=True)
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return text
