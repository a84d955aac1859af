from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import login
from tokui.web.security import CONTENT_SECURITY_POLICY

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def test_policy_text() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/app.css", "/nowhere", "/"])
def test_headers_on_every_response(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.headers["content-security-policy"] == EXPECTED_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"


def test_pages_are_not_cached_but_plotly_is(client: TestClient) -> None:
    login(client)
    assert client.get("/").headers["cache-control"] == "no-store"
    js = client.get("/static/plotly.min.js?v=7.1.0")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"plotly.js" in js.content[:200]
    assert js.headers["content-security-policy"] == EXPECTED_CSP


def test_no_inline_script_or_style_in_pages(client: TestClient) -> None:
    login(client)
    for path in ["/", "/login", "/settings/users", "/customers"]:
        html = client.get(path).text
        assert "<style" not in html
        assert " style=" not in html
        assert " on" + "click=" not in html
        for chunk in html.split("<script")[1:]:
            head, _, body = chunk.partition(">")
            inline = body.split("</script>")[0].strip()
            # Only data blocks and external files.
            assert 'type="application/json"' in head or ("src=" in head and not inline)


def test_not_found_page(client: TestClient) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404
    assert "ページが見つかりません" in r.text


def test_api_docs_are_off(client: TestClient) -> None:
    for path in ["/docs", "/redoc", "/openapi.json"]:
        assert client.get(path).status_code == 404


def test_plotly_styles_are_served_as_a_stylesheet(client: TestClient) -> None:
    from tokui.web.plotly_assets import style_guard_ids

    css = client.get("/static/plotly.css?v=7.1.0")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".js-plotly-plot .plotly .main-svg{" in css.text
    assert ".plotly-notifier{" in css.text
    # The opt-out markers plotly.js looks for before injecting inline <style>.
    login(client)
    html = client.get("/").text
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in html
    for guard in style_guard_ids():
        assert f'id="{guard}"' in html
