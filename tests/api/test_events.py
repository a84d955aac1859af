"""POST /api/v1/events: exact rows, deduplication, stitching, all-or-nothing (both backends)."""

from __future__ import annotations

from datetime import datetime

from tests.api.conftest import Api, event
from tokui.ingest.stitch import stitch_identities
from tokui.refresh.pipeline import steps

COLUMNS = ("event_id", "occurred_at", "event_type", "anonymous_id", "customer_id", "product_id")


def _events(api: Api) -> list[tuple[object, ...]]:
    return [tuple(r[c] for c in COLUMNS) for r in api.rows("web_events", "event_id")]


def test_batch_lands_with_every_field(api: Api) -> None:
    response = api.post_events(
        [
            event(
                "e1",
                "cart_add",
                occurred_at="2025-05-31T10:00:00+09:00",
                session_id="s-1",
                product_id="P001",
                category="お茶",
                page_url="https://shop.example/p/P001",
                referrer="https://www.google.com/",
                quantity=2,
            ),
            event("e2", "search", occurred_at="2025-05-31 09:30", search_query="抹茶 ギフト"),
        ]
    )
    assert response.status_code == 200
    assert response.json() == {"received": 2, "accepted": 2, "duplicates": 0}
    rows = api.rows("web_events", "event_id")
    assert rows == [
        {
            "event_id": "e1",
            "occurred_at": datetime(2025, 5, 31, 1, 0),  # 10:00 JST is 01:00 UTC
            "event_type": "cart_add",
            "anonymous_id": "anon-1",
            "customer_id": None,
            "session_id": "s-1",
            "product_id": "P001",
            "category": "お茶",
            "search_query": None,
            "page_url": "https://shop.example/p/P001",
            "referrer": "https://www.google.com/",
            "quantity": 2,
            "source": "cart",
        },
        {
            "event_id": "e2",
            # No offset: the shop's local time (Asia/Tokyo).
            "occurred_at": datetime(2025, 5, 31, 0, 30),
            "event_type": "search",
            "anonymous_id": "anon-1",
            "customer_id": None,
            "session_id": None,
            "product_id": None,
            "category": None,
            "search_query": "抹茶 ギフト",
            "page_url": None,
            "referrer": None,
            "quantity": None,
            "source": "cart",
        },
    ]


def test_same_event_twice_is_stored_once(api: Api) -> None:
    batch = [event("e1"), event("e2"), event("e1")]
    first = api.post_events(batch)
    assert first.json() == {"received": 3, "accepted": 2, "duplicates": 1}
    # A retried batch, with a changed copy of e2: the first copy stays.
    again = api.post_events([event("e1"), event("e2", customer_id="C9"), event("e3")])
    assert again.json() == {"received": 3, "accepted": 1, "duplicates": 2}
    assert [(r["event_id"], r["customer_id"]) for r in api.rows("web_events", "event_id")] == [
        ("e1", None),
        ("e2", None),
        ("e3", None),
    ]


def test_login_attributes_later_events_and_refresh_backfills_earlier(api: Api) -> None:
    api.post_events(
        [
            event("a1", occurred_at="2025-05-31T10:00:00Z"),
            event("a2", "product_view", product_id="P1", occurred_at="2025-05-31T10:01:00Z"),
            event("b1", anonymous_id="anon-2", occurred_at="2025-05-31T10:02:00Z"),
        ]
    )
    login = event("l1", "login", customer_id="C1", occurred_at="2025-05-31T10:05:00Z")
    assert api.post_events([login]).json()["accepted"] == 1
    # An event sent after the login without a customer id is attributed as it is
    # written; one that names another customer keeps it.
    api.post_events(
        [
            event("a3", occurred_at="2025-05-31T10:06:00Z"),
            event("a4", customer_id="C7", occurred_at="2025-05-31T10:07:00Z"),
        ]
    )
    before = {r["event_id"]: r["customer_id"] for r in api.rows("web_events", "event_id")}
    assert before == {"a1": None, "a2": None, "a3": "C1", "a4": "C7", "b1": None, "l1": "C1"}
    # The refresh step gives the events sent before the login to the customer.
    with api.ctx.warehouse_lock:
        assert stitch_identities(api.ws.warehouse) == 2
        assert stitch_identities(api.ws.warehouse) == 0
    assert _events(api) == [
        ("a1", datetime(2025, 5, 31, 10, 0), "page_view", "anon-1", "C1", None),
        ("a2", datetime(2025, 5, 31, 10, 1), "product_view", "anon-1", "C1", "P1"),
        ("a3", datetime(2025, 5, 31, 10, 6), "page_view", "anon-1", "C1", None),
        ("a4", datetime(2025, 5, 31, 10, 7), "page_view", "anon-1", "C7", None),
        ("b1", datetime(2025, 5, 31, 10, 2), "page_view", "anon-2", None, None),
        ("l1", datetime(2025, 5, 31, 10, 5), "login", "anon-1", "C1", None),
    ]


def test_stitching_runs_before_the_customer_features() -> None:
    names = [s.name for s in steps()]
    assert names.index("web_identities") < names.index("customer_features")


def test_shared_browser_follows_the_latest_login(api: Api) -> None:
    """Two people log in on one browser: browsing before the first login is the first
    person's; after that, each anonymous event is the latest person to have logged in."""
    api.post_events(
        [
            event("x1", occurred_at="2025-05-31T09:00:00Z"),
            event("l1", "login", customer_id="C1", occurred_at="2025-05-31T09:10:00Z"),
            event("x2", occurred_at="2025-05-31T09:20:00Z"),
            event("l2", "login", customer_id="C2", occurred_at="2025-05-31T09:30:00Z"),
            event("x3", occurred_at="2025-05-31T09:40:00Z"),
        ]
    )
    # C1 logs in again later: the browser's links keep their first login time.
    api.post_events([event("l3", "login", customer_id="C1", occurred_at="2025-05-31T10:00:00Z")])
    api.post_events([event("x4", occurred_at="2025-05-31T09:50:00Z")])
    assert [(r["event_id"], r["customer_id"]) for r in api.rows("web_events", "event_id")] == [
        ("l1", "C1"),
        ("l2", "C2"),
        ("l3", "C1"),
        ("x1", "C1"),
        ("x2", "C1"),
        ("x3", "C2"),
        ("x4", "C2"),
    ]
    assert api.rows("web_identities", "customer_id") == [
        {"anonymous_id": "anon-1", "customer_id": "C1", "linked_at": datetime(2025, 5, 31, 9, 10)},
        {"anonymous_id": "anon-1", "customer_id": "C2", "linked_at": datetime(2025, 5, 31, 9, 30)},
    ]


def test_one_bad_event_rejects_the_whole_batch(api: Api) -> None:
    response = api.post_events(
        [
            event("ok-1"),
            event("bad-1", "cart_add", product_id="P1", quantity=0),
            event("bad-2", "cart_add"),
            event("bad-3", occurred_at="2025-02-30T10:00:00Z"),
        ]
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "3 validation error(s); nothing was written",
        "errors": [
            {
                "index": 1,
                "field": "quantity",
                "loc": "events[1].quantity",
                "type": "greater_than_equal",
                "message": "Input should be greater than or equal to 1",
            },
            {
                "index": 2,
                "field": None,
                "loc": "events[2]",
                "type": "missing_product",
                "message": "a cart_add event needs a product_id",
            },
            {
                "index": 3,
                "field": "occurred_at",
                "loc": "events[3].occurred_at",
                "type": "date_range",
                "message": "no such date: '2025-02-30T10:00:00Z'",
            },
        ],
    }
    assert api.count("web_events") == 0


def test_sql_looking_strings_are_stored_verbatim(api: Api) -> None:
    nasty = "x'); DROP TABLE web_events; --"
    response = api.post_events(
        [event(nasty, "search", search_query="' OR 1=1 --", anonymous_id='a"; DELETE FROM x')]
    )
    assert response.status_code == 200
    [row] = api.rows("web_events", "event_id")
    assert (row["event_id"], row["search_query"], row["anonymous_id"]) == (
        nasty,
        "' OR 1=1 --",
        'a"; DELETE FROM x',
    )
