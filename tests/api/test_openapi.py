"""The API's OpenAPI schema and its server-rendered reference page."""

from __future__ import annotations

from tests.api.conftest import Api


def test_openapi_lists_only_the_api_with_request_bodies(duck_api: Api) -> None:
    response = duck_api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert {p: sorted(ops) for p, ops in schema["paths"].items()} == {
        "/events": ["post"],
        "/customers": ["post"],
        "/products": ["post"],
        "/orders": ["post"],
    }
    refs = {
        path: ops["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path, ops in schema["paths"].items()
    }
    assert refs == {
        "/events": "#/components/schemas/EventBatch",
        "/customers": "#/components/schemas/CustomerBatch",
        "/products": "#/components/schemas/ProductBatch",
        "/orders": "#/components/schemas/OrderBatch",
    }
    components = schema["components"]["schemas"]
    event = components["WebEventIn"]
    assert event["required"] == ["event_id", "occurred_at", "event_type"]
    assert event["properties"]["event_type"]["enum"] == [
        "page_view",
        "product_view",
        "category_view",
        "search",
        "cart_add",
        "cart_remove",
        "favorite",
        "login",
    ]
    assert components["EventBatch"]["properties"]["events"]["maxItems"] == 1000
    assert sorted(schema["paths"]["/orders"]["post"]["responses"]) == [
        "200",
        "400",
        "401",
        "403",
        "413",
        "415",
        "422",
        "429",
    ]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_reference_page_renders_under_the_csp(duck_api: Api) -> None:
    response = duck_api.client.get("/api/v1/docs?lang=en", follow_redirects=True)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<h1 class="page-title">Ingestion API reference</h1>' in html
    for path in ("/api/v1/events", "/api/v1/customers", "/api/v1/products", "/api/v1/orders"):
        assert f"<code>{path}</code>" in html
    assert '<section class="panel" id="schema-WebEventIn">' in html
    # No third-party asset and no inline script.
    assert "https://" not in html.split("<body", 1)[1].replace("https://shop", "")
    assert "<script>" not in html
