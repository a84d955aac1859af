"""Errors of the ingestion API: one JSON shape, `{"detail": ..., "errors": [...]}`.

Validation problems name the item (its 0-based index in the batch) and the field, so a
cart can fix and resend exactly what was wrong; nothing of a rejected batch is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokui.ingest.api_models import ItemError


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[ItemError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


def _loc_text(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def item_errors(exc: ValidationError, collection: str) -> list[ItemError]:
    """pydantic's errors as (index, field) pairs under the batch's list."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        index = None
        field = None
        if len(loc) >= 2 and loc[0] == collection and isinstance(loc[1], int):
            index = loc[1]
            field = _loc_text(loc[2:]) or None
        elif loc:
            field = _loc_text(loc)
        out.append(
            ItemError(
                index=index,
                field=field,
                loc=_loc_text(loc) or "(body)",
                type=str(err["type"]),
                message=str(err["msg"]),
            )
        )
    return out


def install_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        body = {"detail": exc.detail, "errors": [e.model_dump() for e in exc.errors]}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {"detail": str(exc.detail), "errors": []},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
