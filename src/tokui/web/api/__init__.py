"""The ingestion API, a FastAPI sub-application mounted at /api/v1.

Its own application so that it has its own OpenAPI schema (/api/v1/openapi.json, only
these routes) and JSON errors, while the main app keeps its HTML error pages and no
OpenAPI at all. The main app's middleware still wraps it: security headers, and the
CSRF middleware, which lets /api/v1 through because the API authenticates by key, not by
cookie (see keys.py and docs/security.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from tokui import __version__
from tokui.ingest.api_models import CustomerBatch, EventBatch, OrderBatch, ProductBatch
from tokui.web.api.errors import install_handlers
from tokui.web.api.keys import RateLimiter
from tokui.web.api.reference import router as reference_router
from tokui.web.api.routes import router
from tokui.web.context import WebContext
from tokui.web.templating import make_templates

API_PREFIX = "/api/v1"
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m for m in (EventBatch, CustomerBatch, ProductBatch, OrderBatch)
}


def create_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="Tokui ingestion API",
        version=__version__,
        description="Push web events, customers, products and orders into Tokui's warehouse.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.tokui = ctx
    api.state.templates = make_templates()
    api.state.rate_limiter = RateLimiter()
    api.include_router(router)
    api.include_router(reference_router)
    install_handlers(api)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = build_openapi(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def build_openapi(api: FastAPI) -> dict[str, Any]:
    """The schema, with the request bodies the handlers validate themselves.

    Handlers read the raw body (to enforce the size limit before parsing), so FastAPI
    cannot see their body models; each route names its model in `x-request-model`.
    """
    schema = get_openapi(
        title=api.title,
        version=api.version,
        description=api.description,
        routes=api.routes,
        servers=[{"url": API_PREFIX}],
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            name = operation.pop("x-request-model", None)
            if name is None:
                continue
            model = REQUEST_MODELS[name]
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in body.pop("$defs", {}).items():
                components[def_name] = definition
            components[name] = body
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
            operation["security"] = [{"apiKey": []}]
    schema["components"]["securitySchemes"] = {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer <key> (tokui sources create NAME)",
        }
    }
    return schema
