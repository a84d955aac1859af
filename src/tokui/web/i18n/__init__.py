"""Japanese and English UI strings and the choice of language per request.

Messages live in ja.json and en.json next to this module; every key must exist in both
(tests/web/test_i18n.py checks it). Japanese is the reference language.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("ja", "en")
LANG_COOKIE = "tokui_lang"
# A year: the choice is a preference, not a secret.
LANG_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


@cache
def catalog(lang: str) -> dict[str, str]:
    text = (resources.files(__name__) / f"{lang}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def translate(lang: str, key: str, **values: object) -> str:
    """The message for `key`; falls back to Japanese, then to the key itself.

    Showing the key keeps a missing translation visible instead of blank.
    """
    message = catalog(lang).get(key) or catalog("ja").get(key) or key
    return message.format(**values) if values else message


def supported(lang: str | None) -> str | None:
    if lang is None:
        return None
    lang = lang.strip().lower()
    return lang if lang in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most, by q-value then order."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and q > 0:
            choices.append((-q, position, primary))
    return min(choices)[2] if choices else None


def resolve_language(
    *,
    cookie: str | None,
    user_language: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """Cookie (an explicit switch), then the user's saved choice, then the browser, then
    the workspace default. The ?lang= switch is handled before this by a redirect that
    sets the cookie."""
    return (
        supported(cookie)
        or supported(user_language)
        or from_accept_language(accept_language)
        or supported(default)
        or "ja"
    )
