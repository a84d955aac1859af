"""Marketer-written templates, rendered in Jinja2's immutable sandbox.

Templates come from users who are not administrators, so they run in
`ImmutableSandboxedEnvironment`: no attribute starting with an underscore (which closes
the `__class__.__mro__` / `__globals__` escapes), no calls to unsafe callables, no
mutation of the lists and dicts in the context, and `str.format` through the sandbox's
formatter. On top of that we bound the two operators that can build huge values in one
expression (`*` and `**`) and the size of the output, and StrictUndefined turns a typo
such as `{{ customer.nam }}` into an error instead of an empty string in a sent mail.

A render error names the template, its version, the part (subject, html, text, line)
and the line, and it blocks the send: nothing is queued from a template that fails.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

MAX_OUTPUT_CHARS = 1_000_000
MAX_REPEAT = 10_000  # "ab" * n and [x] * n
MAX_POWER_BITS = 4096

PARTS = ("subject", "html", "text", "line_text")


class TemplateRenderError(ValueError):
    """A template failed to compile or render; names where."""

    def __init__(self, template: str, part: str, line: int | None, message: str) -> None:
        self.template = template
        self.part = part
        self.line = line
        self.message = message
        where = f"template {template}, {part}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class TemplateSource:
    """The parts of one template version."""

    key: str
    version: int
    subject: str = ""
    html: str = ""
    text: str | None = None
    line_text: str | None = None

    @property
    def label(self) -> str:
        return f"{self.key!r} v{self.version}"


def yen(value: Any) -> str:
    if value is None:
        return ""
    return f"¥{round(float(value)):,}"


def number(value: Any) -> str:
    if value is None:
        return ""
    return f"{round(float(value)):,}"


def date_ja(value: Any) -> str:
    """2025年12月31日 for a date or datetime (datetimes are shown in the shop's zone by
    the context builder, which converts them before rendering)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def _bounded_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(count, int) and count > MAX_REPEAT:
            raise SecurityError(f"repetition by {count} is more than the allowed {MAX_REPEAT}")
    return operator.mul(left, right)


def _bounded_pow(left: Any, right: Any) -> Any:
    huge = (
        isinstance(left, int)
        and isinstance(right, int)
        and right > 0
        and left not in (0, 1, -1)
        and right * math.log2(abs(left)) > MAX_POWER_BITS
    )
    if huge:
        raise SecurityError("the power is too large")
    return operator.pow(left, right)


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with bounded `*` and `**`."""

    intercepted_binops = frozenset({"*", "**"})
    _binops: ClassVar[dict[str, Callable[[Any, Any], Any]]] = {
        "*": _bounded_mul,
        "**": _bounded_pow,
    }

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        handler = self._binops.get(operator_name)
        if handler is not None:
            return handler(left, right)
        return super().call_binop(context, operator_name, left, right)


def _make_env(autoescape: bool) -> MessageSandbox:
    env = MessageSandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
        cache_size=0,
    )
    env.filters.update(yen=yen, number=number, date_ja=date_ja)
    # The sandbox's default globals include range (bounded by the sandbox), dict,
    # lipsum, cycler, joiner and namespace; all are safe under its attribute rules.
    return env


HTML_ENV = _make_env(autoescape=True)
PLAIN_ENV = _make_env(autoescape=False)


@dataclass(frozen=True)
class CompiledPart:
    name: str
    template: Any  # jinja2.Template; Any because Template.render is untyped in stubs
    # The template's globals as one plain dict. Template.render copies its ChainMap of
    # globals twice per call, iterating it in Python: a third of a short part's render.
    globals: dict[str, Any]

    def render(self, env: MessageSandbox, context: Mapping[str, Any]) -> str:
        """Template.render, with the globals flattened once instead of on every call."""
        t = self.template
        ctx = env.context_class(
            env, {**self.globals, **context}, t.name, t.blocks, globals=self.globals
        )
        try:
            return str(env.concat(t.root_render_func(ctx)))
        except Exception:
            env.handle_exception()  # re-raises with the template's own line numbers
            raise  # not reached; handle_exception always raises


_cache: dict[tuple[int, str, str], CompiledPart] = {}
_CACHE_LIMIT = 512


def _compile(env: MessageSandbox, name: str, source: str, label: str, part: str) -> CompiledPart:
    key = (id(env), name, source)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    try:
        code = env.compile(source, name=name, filename=name)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(label, part, exc.lineno, exc.message or str(exc)) from None
    template = env.template_class.from_code(env, code, env.make_globals(None))
    compiled = CompiledPart(name, template, dict(template.globals))
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[key] = compiled
    return compiled


def _error_line(exc: BaseException, name: str) -> int | None:
    """The template line of a runtime error, from Jinja's rewritten traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_part(source: TemplateSource, part: str, context: Mapping[str, Any]) -> str:
    """Render one part; a syntax or runtime error becomes a TemplateRenderError."""
    return render_part_with(HTML_ENV if part == "html" else PLAIN_ENV, source, part, context)


def render_part_with(
    env: MessageSandbox, source: TemplateSource, part: str, context: Mapping[str, Any]
) -> str:
    """render_part in a chosen sandbox (tokui.messaging.json_templates has one for JSON)."""
    if part not in PARTS:
        raise ValueError(f"unknown template part {part!r}")
    text = getattr(source, part)
    if text is None:
        raise ValueError(f"template {source.label} has no {part}")
    name = f"{source.key}@v{source.version}/{part}"
    compiled = _compile(env, name, text, source.label, part)
    try:
        out = compiled.render(env, context)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(source.label, part, exc.lineno, exc.message or str(exc)) from None
    except UndefinedError as exc:
        raise TemplateRenderError(
            source.label, part, _error_line(exc, name), f"undefined value: {exc.message}"
        ) from None
    except SecurityError as exc:
        raise TemplateRenderError(
            source.label, part, _error_line(exc, name), f"not allowed in templates: {exc}"
        ) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateRenderError(
            source.label, part, _error_line(exc, name), f"{type(exc).__name__}: {exc}"
        ) from None
    if len(out) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(
            source.label, part, None, f"output longer than {MAX_OUTPUT_CHARS:,} characters"
        )
    return out


def check_template(source: TemplateSource, context: Mapping[str, Any]) -> list[str]:
    """Render every present part against a context; the errors, empty when it is fine."""
    problems = []
    for part in PARTS:
        if getattr(source, part) is None:
            continue
        try:
            render_part(source, part, context)
        except TemplateRenderError as exc:
            problems.append(str(exc))
    return problems


def as_markup(html: str) -> Markup:
    """Mark the sandbox's autoescaped output as HTML for the (trusted) layout."""
    return Markup(html)  # noqa: S704 - produced by the autoescaping sandbox above
