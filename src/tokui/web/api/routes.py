"""The /api/v1 endpoints: web events, customers, products and orders.

Handlers stay thin: authenticate, read the body within its size limit, validate, and
hand the batch to tokui.ingest (the same core the file import uses) under the lock that
guards the process's single DuckDB connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from ibis.backends import BaseBackend
from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokui.ingest.api_models import (
    MAX_EVENTS,
    MAX_RECORDS,
    CustomerBatch,
    ErrorBody,
    EventBatch,
    EventResult,
    ItemError,
    OrderBatch,
    ProductBatch,
    UpsertResult,
)
from tokui.ingest.records import (
    RecordWrite,
    duplicate_keys,
    write_customers,
    write_orders,
    write_products,
)
from tokui.ingest.web_events import EventWrite, write_events
from tokui.scenarios.timers import KINDS as TIMER_KINDS
from tokui.scenarios.timers import SeenEvent
from tokui.scenarios.timers import notify as notify_timers
from tokui.state.api_sources import SourceInfo, SourceKind
from tokui.warehouse.load import LoadError
from tokui.web.api.errors import ApiError, item_errors
from tokui.web.api.keys import (
    RateLimiter,
    allowed_origin,
    authenticate,
    cors_headers,
    rate_limit,
)
from tokui.web.context import WebContext

router = APIRouter()

# About 1 KB per event at most; 1,000 events with long URLs stay well under this.
EVENTS_MAX_BYTES = 2 * 1024 * 1024
RECORDS_MAX_BYTES = 8 * 1024 * 1024
JSON_TYPES = frozenset({"application/json"})
# sendBeacon and CORS "simple" requests can only send text/plain without a preflight.
EVENT_TYPES = frozenset({"application/json", "text/plain"})

Batch = TypeVar("Batch", bound=BaseModel)

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Malformed JSON",
        401: "Missing, unknown or revoked API key",
        403: "Key not allowed here (public key on a server endpoint, origin not allowed)",
        413: "Body or batch too large",
        415: "Not JSON",
        422: "Validation errors, by item index and field; nothing was written",
        429: "Rate limit; see Retry-After",
    }.items()
}


def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.tokui
    return ctx


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def _caller(request: Request, public_allowed: bool) -> tuple[SourceInfo, str | None]:
    ctx = _ctx(request)
    source = await run_in_threadpool(authenticate, request, ctx)
    if source.kind is SourceKind.public and not public_allowed:
        raise ApiError(403, "a public (browser) key may only post web events")
    origin = allowed_origin(request, source)
    rate_limit(request, ctx, _limiter(request), source)
    return source, origin


async def _body(request: Request, types: frozenset[str], limit: int) -> bytes:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in types:
        raise ApiError(415, f"send the body as {' or '.join(sorted(types))}, not {media!r}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body of {int(declared):,} bytes; the limit is {limit:,}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"body larger than the limit of {limit:,} bytes")
    return bytes(body)


def _validate(model: type[Batch], body: bytes, collection: str, ctx: WebContext, cap: int) -> Batch:
    try:
        return model.model_validate_json(
            body, strict=True, context={"timezone": ctx.ws.settings.timezone}
        )
    except ValidationError as exc:
        errors = item_errors(exc, collection)
        bad_json = [e for e in errors if e.type == "json_invalid"]
        if bad_json:
            raise ApiError(400, f"malformed JSON: {bad_json[0].message}") from None
        if any(e.type == "too_long" and e.loc == collection for e in errors):
            raise ApiError(
                413, f"a batch holds at most {cap:,} {collection}; split it", errors
            ) from None
        raise ApiError(
            422, f"{len(errors)} validation error(s); nothing was written", errors
        ) from None


def _reject_duplicates(errors: list[ItemError]) -> None:
    if errors:
        raise ApiError(422, f"{len(errors)} duplicate key(s); nothing was written", errors)


async def _write(ctx: WebContext, fn: Callable[..., Any], *args: Any) -> Any:
    def locked() -> Any:
        with ctx.warehouse_lock:
            con: BaseBackend = ctx.ws.warehouse
            try:
                return fn(con, *args)
            except LoadError as exc:
                # Validation should have caught it; the transaction rolled back.
                raise ApiError(422, f"the warehouse refused the batch: {exc}") from exc

    return await run_in_threadpool(locked)


def _upsert_result(result: RecordWrite, table: str, lines: str | None = None) -> UpsertResult:
    counts = result.tables[table]
    line_counts = None
    if lines is not None:
        c = result.tables[lines]
        line_counts = {
            "inserted": c.inserted,
            "updated": c.updated,
            "unchanged": c.unchanged,
            "removed": c.removed,
        }
    return UpsertResult(
        received=result.received,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        lines=line_counts,
    )


@router.post(
    "/events",
    response_model=EventResult,
    responses=ERRORS,
    openapi_extra={"x-request-model": "EventBatch"},
    summary="Post a batch of web events",
)
async def post_events(request: Request) -> Response:
    """Up to 1,000 web events; each event_id is stored once (later copies count as
    duplicates). Secret or public key. Events are attributed to a customer through
    login events (identity stitching, see docs/api.md)."""
    source, origin = await _caller(request, public_allowed=True)
    ctx = _ctx(request)
    body = await _body(request, EVENT_TYPES, EVENTS_MAX_BYTES)
    batch = _validate(EventBatch, body, "events", ctx, MAX_EVENTS)
    result = await _write(ctx, write_events, batch.events, source.name)
    payload = EventResult(
        received=result.received, accepted=result.accepted, duplicates=result.duplicates
    )
    return JSONResponse(
        payload.model_dump(), headers=cors_headers(origin), background=_timers(ctx, result)
    )


def _timers(ctx: WebContext, result: EventWrite) -> BackgroundTask | None:
    """Cart adds and product views set their scenarios' abandonment timers right after
    the response goes out (tokui.scenarios.timers), not at the next tick."""
    seen = [SeenEvent(t, c, at) for t, c, at in result.attributed if t in TIMER_KINDS]
    if not seen:
        return None
    return BackgroundTask(notify_timers, ctx.ws.sessions, seen, ctx.clock.now())


@router.options("/events", include_in_schema=False)
async def events_preflight(request: Request) -> Response:
    """CORS preflight for browsers sending JSON; the public key is in the query."""
    source = await run_in_threadpool(authenticate, request, _ctx(request))
    origin = allowed_origin(request, source)
    if origin is None:
        raise ApiError(403, "secret keys are not for browsers")
    headers = cors_headers(origin) | {
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post(
    "/customers",
    response_model=UpsertResult,
    responses=ERRORS,
    openapi_extra={"x-request-model": "CustomerBatch"},
    summary="Upsert customers by customer_id",
)
async def post_customers(request: Request) -> UpsertResult:
    """Up to 1,000 customers, each a full record (absent fields become empty; absent
    consents are false). Secret key only."""
    await _caller(request, public_allowed=False)
    ctx = _ctx(request)
    batch = _validate(
        CustomerBatch,
        await _body(request, JSON_TYPES, RECORDS_MAX_BYTES),
        "customers",
        ctx,
        MAX_RECORDS,
    )
    _reject_duplicates(duplicate_keys(batch.customers, "customer_id", "customers"))
    result = await _write(ctx, write_customers, batch.customers)
    return _upsert_result(result, "customers")


@router.post(
    "/products",
    response_model=UpsertResult,
    responses=ERRORS,
    openapi_extra={"x-request-model": "ProductBatch"},
    summary="Upsert products by product_id",
)
async def post_products(request: Request) -> UpsertResult:
    """Up to 1,000 products, each a full record. Secret key only."""
    await _caller(request, public_allowed=False)
    ctx = _ctx(request)
    batch = _validate(
        ProductBatch,
        await _body(request, JSON_TYPES, RECORDS_MAX_BYTES),
        "products",
        ctx,
        MAX_RECORDS,
    )
    _reject_duplicates(duplicate_keys(batch.products, "product_id", "products"))
    result = await _write(ctx, write_products, batch.products)
    return _upsert_result(result, "products")


@router.post(
    "/orders",
    response_model=UpsertResult,
    responses=ERRORS,
    openapi_extra={"x-request-model": "OrderBatch"},
    summary="Upsert orders with their lines by order_id",
)
async def post_orders(request: Request) -> UpsertResult:
    """Up to 1,000 orders, each with all its lines: lines of a resent order that are no
    longer in it are removed. Secret key only."""
    await _caller(request, public_allowed=False)
    ctx = _ctx(request)
    batch = _validate(
        OrderBatch,
        await _body(request, JSON_TYPES, RECORDS_MAX_BYTES),
        "orders",
        ctx,
        MAX_RECORDS,
    )
    _reject_duplicates(duplicate_keys(batch.orders, "order_id", "orders"))
    result = await _write(ctx, write_orders, batch.orders)
    return _upsert_result(result, "orders", lines="order_items")
