"""A scenario's trigger, entry rules, goal and steps in words, in the UI language.

E.g. "カート追加から3時間、注文なし" or "メールで「カゴ落ち 1通目」を送る". Each trigger and
step type has a sentence in the i18n catalog (`scenarios.summary.trigger.<type>`,
`scenarios.summary.step.<type>`) filled with its fields; a type without one (a trigger
added since) is shown as its label and its fields, so nothing is ever left blank.
Plain text: the page escapes it like any other value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from tokui.scenarios.definition import (
    Branch,
    EntryRules,
    Goal,
    Send,
    Split,
    Tag,
    Wait,
    WaitUntil,
)
from tokui.segments.dsl import Condition
from tokui.web.i18n import catalog, translate
from tokui.web.segment_text import describe

Names = Mapping[str, str]
# Fields whose options share another field's labels.
OPTION_ALIASES = {"fallback_channel": "channel"}


def known(key: str) -> bool:
    return key in catalog("ja")


def label(lang: str, key: str, fallback: str) -> str:
    return translate(lang, key) if known(key) else fallback


def field_label(lang: str, name: str) -> str:
    return label(lang, f"scenarios.field.{name}", name)


def option_label(lang: str, field: str, value: object) -> str:
    base = OPTION_ALIASES.get(field, field)
    return label(lang, f"scenarios.option.{base}.{value}", str(value))


def type_label(lang: str, kind: str, tag: str) -> str:
    """kind: "trigger" or "step"."""
    return label(lang, f"scenarios.{kind}.{tag}", tag)


class Describer:
    """Everything a description needs besides the definition: language, time zone and
    the display names of segments and templates (keys shown as typed when unknown)."""

    def __init__(
        self,
        lang: str,
        tz: ZoneInfo,
        segments: Names | None = None,
        templates: Names | None = None,
    ) -> None:
        self.lang = lang
        self.tz = tz
        self.segments = segments or {}
        self.templates = templates or {}

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    def value(self, field: str, value: object) -> str:
        if value is None:
            return ""
        if field in ("segment",):
            return self.segments.get(str(value), str(value))
        if field.endswith("template"):
            name = self.templates.get(str(value))
            return f"{name}" if name else str(value)
        if isinstance(value, datetime):
            return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, bool):
            return self.t("scenarios.yes" if value else "scenarios.no")
        if field == "weekday" and isinstance(value, int):
            return option_label(self.lang, "weekday", value)
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, list | tuple):
            return self.t("scenarios.summary.join").join(self.value(field, v) for v in value)
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, str) and known(
            f"scenarios.option.{OPTION_ALIASES.get(field, field)}.{value}"
        ):
            return option_label(self.lang, field, value)
        return str(value)

    def _sentence(self, kind: str, model: BaseModel, skip: tuple[str, ...] = ()) -> str:
        data = model.model_dump()
        tag = str(data.pop("type", ""))
        for name in ("id", "next", *skip):
            data.pop(name, None)
        values = {k: self.value(k, v) for k, v in data.items()}
        base = f"scenarios.summary.{kind}.{tag}"
        if not known(base):
            shown = [f"{field_label(self.lang, k)}: {v}" for k, v in values.items() if v != ""]
            head = type_label(self.lang, kind, tag)
            return f"{head} ({', '.join(shown)})" if shown else head
        # Variants of the sentence: by a field's value (`<base>.scope.any`), or for a
        # field left empty or 0 (`<base>.no_days_before`: "当日" rather than "0日前").
        key = base
        for name, raw in data.items():
            if isinstance(raw, str) and known(f"{base}.{name}.{raw}"):
                key = f"{base}.{name}.{raw}"
                break
            if raw in (None, 0) and known(f"{base}.no_{name}"):
                key = f"{base}.no_{name}"
                break
        text = self.t(key, **values)
        # Qualifiers for fields that are set (`<base>.with_category`: "（カテゴリ「米」）").
        for name, raw in data.items():
            if raw not in (None, "", 0, False) and known(f"{base}.with_{name}"):
                text += self.t(f"{base}.with_{name}", **values)
        return text

    # ------------------------------------------------------------------ parts

    def trigger(self, trigger: BaseModel) -> str:
        data = trigger.model_dump()
        if data.get("type") == "seasonal" and data.get("occasion") == "custom":
            when = self.t("scenarios.summary.month_day", month=data["month"], day=data["day"])
            days = int(data.get("days_before") or 0)
            if days:
                return self.t("scenarios.summary.trigger.seasonal", occasion=when, days_before=days)
            return self.t("scenarios.summary.trigger.seasonal.no_days_before", occasion=when)
        return self._sentence("trigger", trigger)

    def entry(self, entry: EntryRules) -> str:
        parts = []
        if entry.segment:
            parts.append(
                self.t(
                    "scenarios.summary.entry.segment", segment=self.value("segment", entry.segment)
                )
            )
        condition = getattr(entry, "condition", None)
        if condition is not None:
            parts.append(
                self.t("scenarios.summary.entry.condition", condition=self.condition(condition))
            )
        if entry.reentry == "after_days":
            parts.append(self.t("scenarios.summary.entry.after_days", days=entry.reentry_days))
        else:
            parts.append(self.t(f"scenarios.summary.entry.{entry.reentry}"))
        if entry.max_entries is not None:
            parts.append(self.t("scenarios.summary.entry.max", n=entry.max_entries))
        return self.t("scenarios.summary.join").join(parts)

    def goal(self, goal: Goal | None) -> str:
        if goal is None:
            return self.t("scenarios.summary.goal.none")
        what = ""
        if goal.product_id:
            what += self.t("scenarios.summary.goal.product", product=goal.product_id)
        if goal.category:
            what += self.t("scenarios.summary.goal.category", category=goal.category)
        return self.t("scenarios.summary.goal", days=goal.within_days, what=what)

    def condition(self, condition: Condition) -> str:
        return describe(condition, self.lang, self.segments)

    def step(self, step: BaseModel) -> str:
        if isinstance(step, Wait):
            return self._wait(step)
        if isinstance(step, Branch):
            return self.t(
                "scenarios.summary.step.condition", condition=self.condition(step.condition)
            )
        if isinstance(step, Split):
            total = sum(a.weight for a in step.arms)
            arms = ", ".join(f"{a.name} {a.weight / total:.0%}" for a in step.arms)
            return self.t("scenarios.summary.step.split", arms=arms)
        if isinstance(step, Send):
            text = self._sentence("step", step, skip=("fallback_channel", "fallback_template"))
            if step.fallback_channel and step.fallback_template:
                text += self.t(
                    "scenarios.summary.step.send.fallback",
                    fallback_channel=self.value("fallback_channel", step.fallback_channel),
                    fallback_template=self.value("fallback_template", step.fallback_template),
                )
            return text
        if isinstance(step, WaitUntil):
            return self._wait_until(step)
        if isinstance(step, Tag):
            key = "add" if step.add else "remove"
            return self.t(f"scenarios.summary.step.tag.{key}", tag=step.add or step.remove)
        return self._sentence("step", step)

    def _wait_until(self, step: WaitUntil) -> str:
        event = self.value("event", step.event)
        if step.segment:
            event += self.t(
                "scenarios.summary.of_segment", segment=self.value("segment", step.segment)
            )
        timeout = self.span(step.timeout_days, step.timeout_hours)
        return self.t("scenarios.summary.step.wait_until", event=event, timeout=timeout)

    def _wait(self, step: Wait) -> str:
        if step.until_field is not None:
            field = self.value("until_field", step.until_field)
            if step.days_before:
                text = self.t(
                    "scenarios.summary.step.wait.until_before", field=field, days=step.days_before
                )
            else:
                text = self.t("scenarios.summary.step.wait.until", field=field)
        else:
            span = self.span(step.days, step.hours)
            text = self.t("scenarios.summary.step.wait.duration", span=span) if span else ""
        if step.at_time and text:
            text += self.t("scenarios.summary.step.wait.then_at", time=step.at_time)
        elif step.at_time:
            text = self.t("scenarios.summary.step.wait.at", time=step.at_time)
        return text

    def span(self, days: int, hours: int) -> str:
        """ "3日12時間" / "3 days 12 hours"; "1 day" in the singular."""
        parts = []
        if days:
            parts.append(
                self.t("scenarios.summary.day")
                if days == 1
                else self.t("scenarios.summary.days", n=days)
            )
        if hours:
            parts.append(
                self.t("scenarios.summary.hour")
                if hours == 1
                else self.t("scenarios.summary.hours", n=hours)
            )
        return ("" if self.lang == "ja" else " ").join(parts)


def describe_steps(d: Describer, steps: list[Any]) -> list[str]:
    return [d.step(s) for s in steps]
