"""Every string of the customer, import and privacy pages exists in both languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.people.helpers import sign_in
from tokui.state.models import Role

# A message key shown instead of its text (translate() falls back to the key).
RAW_KEY = re.compile(r"(?<![/\w.-])(?:customers|imports|privacy)\.[a-z_]+(?:\.[a-z_]+)*")
PAGES = [
    "/customers",
    "/customers?q=zzz",
    "/customers/d",
    "/customers/x",
    "/customers/r",
    "/customers/d/delete",
    "/import",
    "/settings/privacy",
]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_message_key_shows(web: TestClient, lang: str) -> None:
    sign_in(web, Role.admin)
    web.get(f"/?lang={lang}")
    for path in PAGES:
        r = web.get(path)
        assert r.status_code == 200, path
        assert f'<html lang="{lang}">' in r.text
        text = r.text.replace("/static/customers.css", "")
        assert RAW_KEY.findall(text) == [], path
