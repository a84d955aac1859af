"""Ready segments shipped with Tokui (segments/library/*.yaml) and YAML import/export."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from tokui.segments.compile import SegmentError
from tokui.segments.dsl import SegmentDefinition


def from_yaml(text: str, source: str = "<yaml>") -> SegmentDefinition:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SegmentError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return SegmentDefinition.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SegmentError(f"{source}: {problems}") from exc


def to_yaml(definition: SegmentDefinition) -> str:
    data = definition.model_dump(mode="json", exclude_none=True)
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@cache
def library() -> dict[str, SegmentDefinition]:
    folder = resources.files("tokui.segments") / "library"
    found: dict[str, SegmentDefinition] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            definition = from_yaml(entry.read_text(encoding="utf-8"), entry.name)
            if definition.key in found:
                raise SegmentError(f"{entry.name}: segment key {definition.key!r} used twice")
            found[definition.key] = definition
    return found
