"""Member ranks from configurable rules (features/ranks.yaml or <workspace>/ranks.yaml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import ibis
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokui.segments.compile import Context, SegmentError, compile_condition
from tokui.segments.dsl import Condition

RANKS_FILE = "ranks.yaml"


class RankRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name_ja: str
    name_en: str
    condition: Condition


class RankRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    ranks: list[RankRule] = Field(min_length=1, max_length=20)


def load_rank_rules(home: Path | None = None) -> RankRules:
    """The workspace's rules if it has a ranks.yaml, else the shipped defaults."""
    if home is not None and (home / RANKS_FILE).is_file():
        path = home / RANKS_FILE
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        text = (resources.files("tokui.features") / RANKS_FILE).read_text(encoding="utf-8")
        source = RANKS_FILE
    try:
        return RankRules.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise SegmentError(f"{source}: invalid rank rules: {exc}") from exc


def rank_expr(ctx: Context, rules: RankRules) -> ibis.Value:
    cases = [
        (compile_condition(r.condition, ctx, f"ranks[{i}].condition"), r.rank)
        for i, r in enumerate(rules.ranks)
    ]
    return ibis.cases(*cases, else_=rules.default)
