"""Import profiles: how one file's columns become rows of canonical tables.

A profile is YAML. Each target names a canonical table and maps each of its columns to
a transform of source columns. One file can feed several tables (a Shopify orders export
holds orders, their lines and the buyers).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tokui.warehouse.schema import TABLES

Transform = Literal[
    "rename",
    "parse_date",
    "parse_datetime",
    "split_name",
    "map_values",
    "constant",
    "combine",
    "coalesce",
    "money",
    "integer",
    "boolean",
    "postal_code",
    "prefecture",
    "lower",
    "sequence",
    "multiply",
    "divide",
    "add_tax",
]
# Transforms whose output comes from no source column.
SOURCELESS = {"constant"}
MULTI_SOURCE = {"combine", "coalesce", "multiply", "divide", "add_tax", "sequence"}
ARITHMETIC = {"multiply": 2, "divide": 2, "add_tax": 2}
# Transforms whose value is the (joined or chosen) source text, so `prefer` can stand in.
TEXT_RESULT = {"rename", "combine", "coalesce"}


class ProfileError(ValueError):
    """A profile that cannot be used (unknown name, bad YAML, wrong table or column)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMap(_Strict):
    """One canonical column: where its value comes from and how it is converted."""

    source: str | list[str] | None = None
    transform: Transform = "rename"
    value: str | int | bool | None = None  # constant
    values: dict[str, str] = Field(default_factory=dict)  # map_values: source -> canonical
    default: str | None = None  # map_values fallback; any transform: used for empty cells
    separator: str = " "  # combine
    part: Literal["family", "given"] = "family"  # split_name
    round: bool = False  # money: round a fraction half up instead of rejecting it
    min: int | None = None  # money/integer: smallest allowed value
    invalid: Literal["error", "empty", "keep"] = "error"  # postal_code/prefecture misfits
    timezone: str | None = None  # parse_datetime: zone of times without an offset
    lowercase: bool = False  # text results in lower case (emails used as keys)
    # A source column whose cell, when not empty, is the value as is; the transform makes
    # the value only for rows where it is empty (a shop's own order id, else one composed).
    prefer: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ColumnMap:
        if self.prefer is not None and self.transform not in TEXT_RESULT:
            raise ValueError(f"prefer works with {', '.join(sorted(TEXT_RESULT))}")
        if self.transform in SOURCELESS:
            if self.value is None:
                raise ValueError("constant needs `value`")
        elif self.source is None:
            raise ValueError(f"{self.transform} needs `source`")
        if self.transform not in MULTI_SOURCE and isinstance(self.source, list):
            raise ValueError(f"{self.transform} takes one source column, not a list")
        if self.transform in ARITHMETIC and len(self.sources) < ARITHMETIC[self.transform]:
            raise ValueError(f"{self.transform} needs a list of sources")
        if self.transform == "map_values" and not self.values:
            raise ValueError("map_values needs `values`")
        return self

    @property
    def sources(self) -> list[str]:
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)


class RowFilter(_Strict):
    """Which file rows feed a target (e.g. only product lines of an EC-CUBE order)."""

    column: str
    not_empty: bool = False
    equals: list[str] | None = None


class FillDown(_Strict):
    """Copy values down into rows that repeat a key with the other cells left empty.

    Shopify writes an order's (or product's) own fields only on its first row.
    """

    key: str
    columns: list[str]


class Target(_Strict):
    table: str
    # insert_missing: only add keys the warehouse lacks (stub customers from an orders
    # file must not overwrite the richer rows a customers import wrote).
    mode: Literal["upsert", "insert_missing"] = "upsert"
    # first: a key repeated in the file takes its first row (Shopify repeats the order
    # on each line); error: a repeated key is a duplicate_key error.
    duplicates: Literal["error", "first"] = "error"
    where: list[RowFilter] = Field(default_factory=list)
    columns: dict[str, ColumnMap]

    @model_validator(mode="after")
    def _check(self) -> Target:
        spec = TABLES.get(self.table)
        if spec is None:
            raise ValueError(f"unknown table {self.table!r}; one of {', '.join(TABLES)}")
        unknown = [c for c in self.columns if c not in spec.column_names]
        if unknown:
            raise ValueError(f"{self.table} has no column(s) {', '.join(unknown)}")
        missing = [c.name for c in spec.columns if not c.nullable and c.name not in self.columns]
        if missing:
            raise ValueError(f"{self.table}: required column(s) not mapped: {', '.join(missing)}")
        return self


class Profile(_Strict):
    name: str
    description: str = ""
    timezone: str = "Asia/Tokyo"
    # Source columns the file must have; others are optional (empty when absent), since
    # cart exports add and drop columns over the years.
    required_columns: list[str] = Field(default_factory=list)
    fill_down: FillDown | None = None
    targets: list[Target] = Field(min_length=1)

    @property
    def tables(self) -> list[str]:
        return [t.table for t in self.targets]


def builtin_dir() -> Path:
    return Path(str(resources.files("tokui.ingest") / "profiles"))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def parse_profile(text: str, origin: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{origin}: a profile is a YAML mapping")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{origin}: {exc}") from exc


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return parse_profile(path.read_text(encoding="utf-8"), path.name)
    builtin = builtin_dir() / f"{name_or_path}.yaml"
    if name_or_path in builtin_names():
        return parse_profile(builtin.read_text(encoding="utf-8"), builtin.name)
    raise ProfileError(
        f"no profile {name_or_path!r}; built-in: {', '.join(builtin_names())} "
        "(or give a .yaml file)"
    )


def profile_yaml(name_or_path: str) -> str:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path.read_text(encoding="utf-8")
    load_profile(name_or_path)
    return (builtin_dir() / f"{name_or_path}.yaml").read_text(encoding="utf-8")
