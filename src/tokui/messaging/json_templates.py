"""JSON written as a template: LINE Flex messages, webhook bodies, postal DM fields.

The marketer writes JSON with `{{ }}` placeholders inside string values. The template runs
in the same sandbox as every other part (tokui.messaging.templates), with one difference:
every value printed by `{{ }}` is escaped as the inside of a JSON string, so a customer
named `"}, "x": "` stays a name and can never add or close JSON structure. The result is
parsed; invalid JSON is a render error naming the template, part and position.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined

from tokui.messaging.templates import (
    MessageSandbox,
    TemplateRenderError,
    TemplateSource,
    date_ja,
    number,
    render_part_with,
    yen,
)


def _json_string_inside(value: Any) -> str:
    if value is None:
        return ""
    # json.dumps gives the quoted, escaped string; the template supplies the quotes.
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _make_json_env() -> MessageSandbox:
    env = MessageSandbox(
        autoescape=False,
        finalize=_json_string_inside,
        undefined=StrictUndefined,
        auto_reload=False,
        cache_size=0,
    )
    env.filters.update(yen=yen, number=number, date_ja=date_ja)
    return env


JSON_ENV = _make_json_env()


def render_json(source: TemplateSource, part: str, context: Mapping[str, Any]) -> Any:
    """Render `part` of `source` and parse it as JSON."""
    text = render_part_with(JSON_ENV, source, part, context)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateRenderError(
            source.label, part, exc.lineno, f"not valid JSON after rendering: {exc.msg}"
        ) from None
