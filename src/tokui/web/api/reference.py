"""A server-rendered reference of the API, built from its OpenAPI schema.

Swagger UI would need its JavaScript and CSS from a CDN or vendored; the strict CSP
allows neither a CDN nor inline scripts, so the reference is plain HTML from the same
schema that /api/v1/openapi.json serves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tokui.web.templating import render

router = APIRouter(include_in_schema=False)


def _type_text(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        parts = [_type_text(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return " | ".join(parts) + (" | null" if len(parts) < len(prop["anyOf"]) else "")
    if "enum" in prop:
        return " | ".join(repr(v) for v in prop["enum"])
    if "const" in prop:
        return repr(prop["const"])
    kind = str(prop.get("type", "any"))
    if kind == "array":
        return f"list[{_type_text(prop.get('items', {}))}]"
    if prop.get("format"):
        return f"{kind} ({prop['format']})"
    return kind


def _limits(prop: dict[str, Any]) -> str:
    names = {
        "minLength": "min length",
        "maxLength": "max length",
        "minItems": "min items",
        "maxItems": "max items",
        "minimum": "≥",
        "maximum": "≤",
    }
    found = []
    for key, label in names.items():
        for source in [prop, *prop.get("anyOf", [])]:
            if key in source:
                found.append(f"{label} {source[key]:,}")
    return ", ".join(found)


def schema_tables(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each component schema as rows of field, type, required, default, limits."""
    tables = []
    for name, comp in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(comp.get("required", []))
        rows = [
            {
                "field": field,
                "type": _type_text(prop),
                "required": field in required,
                "default": prop.get("default"),
                "limits": _limits(prop),
            }
            for field, prop in comp.get("properties", {}).items()
        ]
        tables.append({"name": name, "rows": rows, "description": comp.get("description", "")})
    return tables


@router.get("/docs")
def reference(request: Request) -> Response:
    schema = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": "/api/v1" + path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "responses": sorted(op.get("responses", {}).items()),
        }
        for path, item in schema.get("paths", {}).items()
        for method, op in item.items()
    ]
    return render(
        request,
        "api_reference.html",
        {"operations": operations, "tables": schema_tables(schema), "version": schema["info"]},
    )
