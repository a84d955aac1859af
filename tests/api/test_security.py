"""Keys, origins, sizes, rate limits and the CSRF exemption of /api/v1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

from fastapi import FastAPI
from starlette.routing import Mount

from tests.api.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, SHOP_ORIGIN, Api, event
from tokui.state.api_sources import ApiSource, revoke_source
from tokui.state.db import session_scope
from tokui.web.api.keys import RateLimiter

BEARER = {"www-authenticate": 'Bearer realm="tokui-api"'}


def _status(response: object) -> tuple[int, str]:
    r = response
    return r.status_code, r.json()["detail"]  # type: ignore[attr-defined]


def _api_app(api: Api) -> FastAPI:
    for route in api.app.routes:
        if isinstance(route, Mount) and route.path == "/api/v1":
            assert isinstance(route.app, FastAPI)
            return route.app
    raise AssertionError("no /api/v1 mount")


def test_missing_unknown_and_malformed_keys_get_401(duck_api: Api) -> None:
    body = [event("e1")]
    no_key = duck_api.post_events(body, headers={})
    assert _status(no_key) == (
        401,
        "an API key is required: Authorization: Bearer <key> (see /api/v1/docs)",
    )
    assert no_key.headers["www-authenticate"] == BEARER["www-authenticate"]
    unknown = duck_api.post_events(body, headers={"authorization": "Bearer tk_sec_" + "A" * 43})
    assert _status(unknown) == (401, "unknown or revoked API key")
    # The right prefix and a wrong rest: found by prefix, refused by the digest.
    near = duck_api.secret[:-4] + "AAAA"
    assert _status(duck_api.post_events(body, headers={"authorization": f"Bearer {near}"})) == (
        401,
        "unknown or revoked API key",
    )
    basic = duck_api.post_events(body, headers={"authorization": "Basic dXNlcjpwdw=="})
    assert _status(basic) == (401, "Authorization must be 'Bearer <API key>'")
    x_api_key = duck_api.post_events(body, headers={"x-api-key": duck_api.secret})
    assert x_api_key.status_code == 200
    assert duck_api.count("web_events") == 1


def test_revoked_key_stops_at_the_next_request(duck_api: Api) -> None:
    assert duck_api.post_events([event("e1")]).status_code == 200
    with session_scope(duck_api.ws.sessions) as s:
        revoke_source(s, "cart", duck_api.clock.now().replace(tzinfo=None))
    assert _status(duck_api.post_events([event("e2")])) == (401, "unknown or revoked API key")
    assert duck_api.count("web_events") == 1


def test_key_is_stored_as_a_digest_and_last_use_recorded(duck_api: Api) -> None:
    duck_api.post_events([event("e1")])
    with session_scope(duck_api.ws.sessions) as s:
        source = s.query(ApiSource).filter_by(name="cart").one()
        assert source.key_hash != duck_api.secret
        assert len(source.key_hash) == 64
        assert duck_api.secret not in (source.key_hash, source.key_prefix)
        assert source.key_prefix == duck_api.secret[:16]
        assert source.last_used_at == duck_api.clock.now().replace(tzinfo=None)


def test_secret_key_in_the_url_is_refused(duck_api: Api) -> None:
    response = duck_api.client.post(
        f"/api/v1/events?key={duck_api.secret}", json={"events": [event("e1")]}
    )
    assert response.status_code == 401
    assert response.json()["detail"].startswith("secret keys must be sent in the Authorization")


def test_signed_in_session_cannot_call_the_api(duck_api: Api) -> None:
    """The API ignores cookies: a logged-in browser with a valid CSRF token still gets 401."""
    client = duck_api.client
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    login = client.post(
        "/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert login.status_code == 303
    assert client.get("/").status_code == 200  # signed in
    home = client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf is not None
    response = client.post(
        "/api/v1/events",
        json={"events": [event("e1")]},
        headers={"x-csrf-token": csrf.group(1)},
    )
    assert _status(response) == (
        401,
        "an API key is required: Authorization: Bearer <key> (see /api/v1/docs)",
    )
    assert duck_api.count("web_events") == 0


def test_public_key_only_posts_events_from_allowed_origins(duck_api: Api) -> None:
    url = f"/api/v1/events?key={duck_api.public}"
    body = json.dumps({"events": [event("e1")]})
    plain = {"content-type": "text/plain;charset=UTF-8"}
    ok = duck_api.client.post(url, content=body, headers=plain | {"origin": SHOP_ORIGIN})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == SHOP_ORIGIN
    assert ok.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in ok.headers
    other = duck_api.client.post(
        url, content=body, headers=plain | {"origin": "https://evil.example"}
    )
    assert _status(other) == (
        403,
        "origin 'https://evil.example' is not allowed for source 'shop-web'",
    )
    assert "access-control-allow-origin" not in other.headers
    no_origin = duck_api.client.post(url, content=body, headers=plain)
    assert _status(no_origin) == (
        403,
        "a public key is only accepted from a browser page (Origin header)",
    )
    orders = duck_api.client.post(
        f"/api/v1/orders?key={duck_api.public}",
        json={"orders": []},
        headers={"origin": SHOP_ORIGIN},
    )
    assert _status(orders) == (403, "a public (browser) key may only post web events")
    [row] = duck_api.rows("web_events", "event_id")
    assert row["source"] == "shop-web"


def test_cors_preflight(duck_api: Api) -> None:
    url = f"/api/v1/events?key={duck_api.public}"
    asked = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    ok = duck_api.client.options(url, headers=asked | {"origin": SHOP_ORIGIN})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP_ORIGIN
    assert ok.headers["access-control-allow-methods"] == "POST"
    assert ok.headers["access-control-allow-headers"] == "content-type"
    bad = duck_api.client.options(url, headers=asked | {"origin": "http://shop.example"})
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    secret = duck_api.client.options(
        "/api/v1/events", headers=asked | {"origin": SHOP_ORIGIN} | duck_api.auth
    )
    assert _status(secret) == (403, "secret keys are not for browsers")


def test_size_limits_and_malformed_bodies(duck_api: Api) -> None:
    too_many = duck_api.post_events([event(f"e{i}") for i in range(1001)])
    assert too_many.status_code == 413
    assert too_many.json()["detail"] == "a batch holds at most 1,000 events; split it"
    huge = duck_api.client.post(
        "/api/v1/events",
        content=b'{"events": ["' + b"x" * (2 * 1024 * 1024) + b'"]}',
        headers=duck_api.auth | {"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["detail"] == "body of 2,097,168 bytes; the limit is 2,097,152"
    broken = duck_api.client.post(
        "/api/v1/events",
        content=b'{"events": [',
        headers=duck_api.auth | {"content-type": "application/json"},
    )
    assert _status(broken) == (
        400,
        "malformed JSON: Invalid JSON: EOF while parsing a list at line 1 column 12",
    )
    form = duck_api.client.post("/api/v1/events", data={"a": "1"}, headers=duck_api.auth)
    assert _status(form) == (
        415,
        "send the body as application/json or text/plain, not 'application/x-www-form-urlencoded'",
    )
    empty = duck_api.post_events([])
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["type"] == "too_short"
    wrong_types = duck_api.post_events(
        [event("e1", quantity="2", product_id=7, event_type="cart_add")]
    )
    assert [(e["field"], e["type"]) for e in wrong_types.json()["errors"]] == [
        ("product_id", "string_type"),
        ("quantity", "int_type"),
    ]
    assert duck_api.count("web_events") == 0


def test_rate_limit_per_source_then_recovers(duck_api: Api) -> None:
    _api_app(duck_api).state.rate_limiter = RateLimiter(per_source=2, per_public_client=1)
    assert duck_api.post_events([event("e1")]).status_code == 200
    assert duck_api.post_events([event("e2")]).status_code == 200
    limited = duck_api.post_events([event("e3")])
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
    duck_api.clock.advance(timedelta(seconds=61))
    assert duck_api.post_events([event("e3")]).status_code == 200
    assert duck_api.count("web_events") == 3


def test_api_errors_are_json_and_main_app_has_no_openapi(duck_api: Api) -> None:
    missing = duck_api.client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "errors": []}
    assert duck_api.client.get("/openapi.json").status_code == 404
    assert duck_api.client.get("/docs").status_code == 404


def test_streamed_body_without_length_is_cut_at_the_limit(duck_api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ["'
        for _ in range(40):
            yield b"x" * 65_536
        yield b'"]}'

    response = duck_api.client.post(
        "/api/v1/events",
        content=chunks(),
        headers=duck_api.auth | {"content-type": "application/json"},
    )
    assert _status(response) == (413, "body larger than the limit of 2,097,152 bytes")


def test_public_key_rate_limit_is_per_client_address(duck_api: Api) -> None:
    _api_app(duck_api).state.rate_limiter = RateLimiter(per_source=100, per_public_client=1)
    url = f"/api/v1/events?key={duck_api.public}"
    headers = {"content-type": "text/plain", "origin": SHOP_ORIGIN}
    first = duck_api.client.post(
        url, content=json.dumps({"events": [event("p1")]}), headers=headers
    )
    assert first.status_code == 200
    second = duck_api.client.post(
        url, content=json.dumps({"events": [event("p2")]}), headers=headers
    )
    assert second.status_code == 429
    # The secret source is counted apart.
    assert duck_api.post_events([event("s1")]).status_code == 200


def test_snippet_is_served_as_javascript(duck_api: Api) -> None:
    response = duck_api.client.get("/static/tokui.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        ("text/javascript", "application/javascript")
    )
    assert "crypto.getRandomValues" in response.text
    assert 'credentials: "omit"' in response.text
