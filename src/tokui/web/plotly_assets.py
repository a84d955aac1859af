"""Plotly.js served from the installed plotly package, made to work under a strict CSP.

At load and first plot, plotly.js injects <style> elements, which `style-src 'self'`
blocks. It has two opt-outs, both keyed on an element id being present in the page:

- `plotly.js-style-global` with class `no-inline-styles`: plotly then skips its global
  rules, so we serve those same rules as a stylesheet, /static/plotly.css, extracted
  from the installed plotly.min.js (so they follow the package version);
- bundled third-party CSS (maplibre, for map traces we never draw) is injected only if
  no element with its content-hash id exists; the page carries inert placeholders.

tests/web/test_browser.py fails on any CSP violation, which catches a plotly upgrade
that changes either mechanism.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.metadata import version

GLOBAL_STYLE_ID = "plotly.js-style-global"

_STRING = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
# Minifiers leave keys that are plain identifiers (like Y) unquoted.
_ENTRY = re.compile(rf"\s*({_STRING}|[A-Za-z_$][\w$]*)\s*:\s*({_STRING})\s*([,}}])")
_GUARD = re.compile(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@cache
def plotly_js() -> bytes:
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@cache
def plotly_version() -> str:
    return version("plotly")


def _unquote(literal: str) -> str:
    if literal[0] not in "\"'":
        return literal
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


@cache
def plotly_css() -> str:
    """Plotly's global style rules, as plotly.js would have inserted them.

    The rules are a literal object whose first key is "X,X div" (X and Y stand for the
    plot and notifier containers). plotly.js inserts each rule at position 0, so the
    sheet ends up in reverse source order, and so is ours.
    """
    source = plotly_js().decode("utf-8")
    start = source.find('{"X,X div":')
    if start < 0:
        raise RuntimeError("plotly.min.js no longer has the expected style rules")
    rules: list[tuple[str, str]] = []
    pos = start + 1
    while True:
        match = _ENTRY.match(source, pos)
        if match is None:
            raise RuntimeError("could not read plotly.js style rules")
        selector = _unquote(match.group(1))
        selector = re.sub(r"^,", " ,", selector)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append((selector, _unquote(match.group(2))))
        pos = match.end()
        if match.group(3) == "}":
            break
    lines = [f"/* plotly.js global styles, from plotly {plotly_version()} */"]
    lines += [f"{selector}{{{body}}}" for selector, body in reversed(rules)]
    return "\n".join(lines) + "\n"


@cache
def style_guard_ids() -> tuple[str, ...]:
    """Ids whose presence stops plotly.js from injecting bundled third-party CSS."""
    return tuple(_GUARD.findall(plotly_js().decode("utf-8")))
