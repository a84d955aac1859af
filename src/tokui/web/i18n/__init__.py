"""Japanese and English UI strings and the choice of language per request.

Messages live in ja.json and en.json next to this module, plus one pair of files per area
(`imports.ja.json`, `imports.en.json`, ...) so that each area keeps its own strings. Every
key must exist in both languages and in one file only (tests/web/test_i18n.py checks it).
Japanese is the reference language.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("ja", "en")
LANG_COOKIE = "tokui_lang"
# A year: the choice is a preference, not a secret.
LANG_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


def catalog_files(lang: str) -> list[str]:
    """The base file first, then the area files in name order."""
    names = sorted(
        entry.name
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(f".{lang}.json")
    )
    return [f"{lang}.json", *names]


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for name in catalog_files(lang):
        text = (resources.files(__name__) / name).read_text(encoding="utf-8")
        part: dict[str, str] = json.loads(text)
        clash = data.keys() & part.keys()
        if clash:
            # Two areas claiming one key would make one of them show the wrong text.
            raise ValueError(f"i18n/{name}: keys already defined elsewhere: {sorted(clash)}")
        data.update(part)
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
