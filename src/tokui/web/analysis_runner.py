"""Running analyses for web requests without letting one of them hold everybody up.

The warehouse connection is shared by the whole process behind WebContext's lock, so a
long analysis would block every other page that reads the warehouse. Three limits keep
that bounded:

- a request waits at most LOCK_WAIT_SECONDS for the lock, then gets "busy, try again";
- a query running longer than MAX_RUN_SECONDS is interrupted (DuckDB's interrupt,
  PostgreSQL's cancel) from a timer thread, and the page says so;
- results are kept for CACHE_SECONDS, so paging through a table, downloading it, or
  many people opening the same dashboard does not recompute it.

The time each analysis took is measured here and shown with its result.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from ibis.backends import BaseBackend
from starlette.requests import Request

from tokui.analytics.registry import Template
from tokui.analytics.run import run
from tokui.web.context import WebContext, web_context

LOCK_WAIT_SECONDS = 20.0
MAX_RUN_SECONDS = 120.0
CACHE_SECONDS = 300.0
CACHE_ENTRIES = 32
# Bigger results are not kept: a million-row frame per entry would exhaust memory.
CACHE_MAX_ROWS = 200_000


class WarehouseBusyError(RuntimeError):
    """The warehouse stayed busy with other work for longer than a request may wait."""


class AnalysisTimeoutError(RuntimeError):
    """The analysis ran longer than allowed and was interrupted."""


@dataclass(frozen=True)
class Outcome:
    df: pd.DataFrame
    seconds: float  # time spent computing (0 when served from the cache)
    waited: float  # time spent waiting for the warehouse
    computed_at: datetime
    cached: bool


def _cancel(con: BaseBackend) -> None:
    raw = getattr(con, "con", None)
    if raw is None:
        return
    if hasattr(raw, "interrupt"):  # DuckDB
        raw.interrupt()
    elif hasattr(raw, "cancel_safe"):  # psycopg 3
        raw.cancel_safe()


@contextmanager
def interrupt_after(con: BaseBackend, seconds: float) -> Iterator[threading.Event]:
    """Cancel whatever `con` runs once `seconds` have passed; the event says it fired."""
    fired = threading.Event()
    guard = threading.Lock()
    done = False

    def fire() -> None:
        # Never cancel after the block ended: it would hit the next caller's query.
        with guard:
            if not done:
                fired.set()
                _cancel(con)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        with guard:
            done = True
        timer.cancel()


class ResultCache:
    """A small LRU of results with an age limit, shared by the whole app."""

    def __init__(self, ttl: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES) -> None:
        self.ttl = ttl
        self.entries = entries
        self._items: OrderedDict[tuple[str, ...], tuple[float, Outcome]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Outcome | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if time.monotonic() - item[0] > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple[str, ...], outcome: Outcome) -> None:
        if len(outcome.df) > CACHE_MAX_ROWS:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), outcome)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


_CACHE_GUARD = threading.Lock()


def result_cache(request: Request) -> ResultCache:
    state = request.app.state
    with _CACHE_GUARD:
        cache: ResultCache | None = getattr(state, "analysis_cache", None)
        if cache is None:
            cache = ResultCache()
            state.analysis_cache = cache
    return cache


def cache_key(template: Template, raw: Mapping[str, str]) -> tuple[str, ...]:
    return (template.id, *(f"{k}={v}" for k, v in sorted(raw.items())))


def run_limited(
    con: BaseBackend,
    lock: threading.Lock,
    template: Template,
    raw: Mapping[str, str],
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
    max_seconds: float = MAX_RUN_SECONDS,
) -> tuple[pd.DataFrame, float, float]:
    """The result, seconds computing and seconds waiting; raises the two errors above."""
    started = time.perf_counter()
    if not lock.acquire(timeout=lock_wait):
        raise WarehouseBusyError(f"the warehouse stayed busy for {lock_wait:g} s")
    try:
        waited = time.perf_counter() - started
        began = time.perf_counter()
        with interrupt_after(con, max_seconds) as fired:
            try:
                df = run(con, template, raw)
            except Exception as exc:
                if fired.is_set():
                    raise AnalysisTimeoutError(
                        f"{template.id} ran longer than {max_seconds:g} s and was stopped"
                    ) from exc
                raise
        return df, time.perf_counter() - began, waited
    finally:
        lock.release()


def execute(ctx: WebContext, template: Template, raw: Mapping[str, str]) -> Outcome:
    df, seconds, waited = run_limited(ctx.ws.warehouse, ctx.warehouse_lock, template, raw)
    return Outcome(df, seconds, waited, ctx.clock.now(), cached=False)


def run_for_request(
    request: Request, template: Template, raw: Mapping[str, str], fresh: bool = False
) -> Outcome:
    cache = result_cache(request)
    key = cache_key(template, raw)
    if not fresh:
        hit = cache.get(key)
        if hit is not None:
            return Outcome(hit.df, hit.seconds, 0.0, hit.computed_at, cached=True)
    outcome = execute(web_context(request), template, raw)
    cache.put(key, outcome)
    return outcome
