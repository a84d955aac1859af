"""The text part of an email, made from its HTML when the marketer did not write one.

Block elements become line breaks, links become "text ( URL )", images their alt text,
and style, script and head contents disappear. Mail clients that show the text part
(and spam filters that compare both parts) get the same words as the HTML.

Regular expressions rather than an HTML parser: this runs once per message of a bulk
send, and the input is our own layout around sandboxed, autoescaped output, not
arbitrary web HTML, so the few tag shapes below cover it at a fraction of the cost.
"""

from __future__ import annotations

import html
import re
from html.entities import html5

_FLAGS = re.IGNORECASE | re.DOTALL
_DROP = re.compile(r"<(head|style|script|title)\b.*?</\1\s*>", _FLAGS)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", _FLAGS)
_IMG = re.compile(r"""<img\b[^>]*?\balt\s*=\s*(["'])(.*?)\1[^>]*>""", _FLAGS)
_BR = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_LI = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_HR = re.compile(r"<hr\b[^>]*>", re.IGNORECASE)
_BLOCK = re.compile(
    r"</?(?:p|div|table|tr|h[1-6]|ul|ol|li|blockquote|section|article|header|footer|center)"
    r"\b[^>]*>",
    re.IGNORECASE,
)
_CELL = re.compile(r"<t[dh]\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TEXT_LINK_SCHEMES = ("http://", "https://", "mailto:")
# html.unescape's own pattern for a character reference.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


_LEGACY_NAME = max(len(name) for name in html5 if not name.endswith(";"))


def _charref(match: re.Match[str]) -> str:
    """What html.unescape makes of one reference, with its search for the longest
    legacy name that starts an unknown one ("&s=..." in every tracked URL) cut to the
    length of the longest such name: the others end in ";", which only the whole
    reference can (the pattern admits ";" at its end alone)."""
    name = match.group(1)
    if name[0] == "#" or name in html5:
        return html.unescape(match.group(0))
    for end in range(min(len(name) - 1, _LEGACY_NAME), 1, -1):
        if name[:end] in html5:
            return html5[name[:end]] + name[end:]
    return "&" + name


def _unescape(text: str) -> str:
    """html.unescape(text), character for character."""
    if "&" not in text:
        return text
    if text.count("&") == text.count("&amp;"):  # the usual case: escaped ampersands only
        return text.replace("&amp;", "&")
    return _CHARREF.sub(_charref, text)


def _link(match: re.Match[str]) -> str:
    href = _unescape(match.group(2)).strip()
    label = _unescape(_TAG.sub("", match.group(3))).strip()
    if not href.lower().startswith(_TEXT_LINK_SCHEMES):
        return label
    if not label:
        return href
    return label if label == href else f"{label} ( {href} )"


def html_to_text(source: str) -> str:
    text = _DROP.sub("", _COMMENT.sub("", source))
    text = text.replace("\r", "").replace("\n", " ")
    text = _LINK.sub(_link, text)
    text = _IMG.sub(lambda m: _unescape(m.group(2)), text)
    text = _BR.sub("\n", text)
    text = _LI.sub("\n・", text)
    text = _HR.sub("\n" + "-" * 20 + "\n", text)
    text = _BLOCK.sub("\n", text)
    text = _CELL.sub(" ", text)
    text = _SPACES.sub(" ", _unescape(_TAG.sub("", text)))
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
