"""The ready scenarios (library/*.yaml): each file holds a scenario and the Japanese
message templates it sends. Installing one creates missing templates and stores the
scenario as a draft (never enabled behind the user's back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tokui.messaging.store import TemplateDraft, create_template, get_template
from tokui.scenarios import store
from tokui.scenarios.definition import ScenarioDefinition, parse_definition


class LibraryTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    channel: str
    name: str
    is_marketing: bool = True
    subject: str = ""
    html: str = ""
    text: str | None = None
    line_text: str | None = None


class LibraryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: dict[str, Any]
    templates: list[LibraryTemplate] = Field(default_factory=list)


@dataclass(frozen=True)
class Ready:
    file: str
    definition: ScenarioDefinition
    templates: list[LibraryTemplate]


def load_library() -> list[Ready]:
    out = []
    folder = resources.files("tokui.scenarios") / "library"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        entry = LibraryEntry.model_validate(yaml.safe_load(item.read_text(encoding="utf-8")))
        out.append(Ready(item.name, parse_definition(entry.scenario), entry.templates))
    return out


def install(db: Session, ready: Ready, at: datetime, check_context: dict[str, Any]) -> store.Saved:
    for t in ready.templates:
        if get_template(db, t.key) is None:
            create_template(
                db,
                key=t.key,
                channel=t.channel,
                draft=TemplateDraft(
                    name=t.name, subject=t.subject, html=t.html, text=t.text, line_text=t.line_text
                ),
                is_marketing=t.is_marketing,
                at=at,
                user_id=None,
                check_context=check_context,
            )
    return store.save(db, ready.definition, at)
