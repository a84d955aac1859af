"""POST /api/v1/customers, /products, /orders: upserts by natural key (both backends)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tests.api.conftest import Api


def _post(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/api/v1/{path}", json=body, headers=api.auth)


def _order(lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    order = {
        "order_id": "O1",
        "customer_id": "C1",
        "ordered_at": "2025/05/31 10:00",
        "shipping_prefecture": "大阪",
        "discount": 100,
        "shipping_fee": 500,
        "items": lines,
    }
    order.update(fields)
    return order


def test_customers_are_normalised_like_file_imports(api: Api) -> None:
    customer = {
        "customer_id": "C1",
        "email": " Hanako@Example.JP ",
        "name": "山田 花子",
        "prefecture": "Tokyo",
        "postal_code": "〒１００−０００１",
        "address1": "千代田区千代田",
        "address2": "1-1 千代田ハイツ101",
        "birth_date": "1990年4月1日",
        "registered_at": "2024-01-05 10:00",
        "email_opt_in": True,
    }
    first = _post(api, "customers", {"customers": [customer]})
    assert first.status_code == 200
    assert first.json() == {
        "received": 1,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "lines": None,
    }
    [row] = api.rows("customers", "customer_id")
    assert row == {
        "customer_id": "C1",
        "email": "hanako@example.jp",
        "name": "山田 花子",
        "name_kana": None,
        "gender": None,
        "birth_date": date(1990, 4, 1),
        "prefecture": "東京都",
        "postal_code": "1000001",
        "address1": "千代田区千代田",
        "address2": "1-1 千代田ハイツ101",
        "phone": None,
        "registered_at": datetime(2024, 1, 5, 1, 0),
        "rank": None,
        "email_opt_in": True,
        # Consent is never assumed.
        "line_opt_in": False,
        "dm_opt_in": False,
        "push_opt_in": False,
        "line_user_id": None,
        "time_zone": "Asia/Tokyo",
        "acquisition_channel": None,
        "updated_at": None,
    }
    same = _post(api, "customers", {"customers": [customer]}).json()
    assert (same["inserted"], same["updated"], same["unchanged"]) == (0, 0, 1)
    changed = _post(
        api,
        "customers",
        {"customers": [customer | {"rank": "gold"}, customer | {"customer_id": "C2"}]},
    ).json()
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (1, 1, 0)
    assert [(r["customer_id"], r["rank"]) for r in api.rows("customers", "customer_id")] == [
        ("C1", "gold"),
        ("C2", None),
    ]


def test_orders_upsert_with_lines_and_drop_stale_lines(api: Api) -> None:
    lines = [
        {"product_id": "P1", "product_name": "煎茶", "quantity": 2, "unit_price": 1200},
        {"product_id": "P2", "quantity": 1, "unit_price": 800, "amount": 700},
    ]
    first = _post(api, "orders", {"orders": [_order(lines)]})
    assert first.json() == {
        "received": 1,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "lines": {"inserted": 2, "updated": 0, "unchanged": 0, "removed": 0},
    }
    [order] = api.rows("orders", "order_id")
    assert order == {
        "order_id": "O1",
        "customer_id": "C1",
        "ordered_at": datetime(2025, 5, 31, 1, 0),
        "status": "completed",
        "channel": None,
        "subtotal": 3100,  # 2 x 1,200 + 700
        "discount": 100,
        "shipping_fee": 500,
        "points_used": 0,
        "total": 3500,  # 3,100 - 100 + 500
        "points_earned": 0,
        "coupon_code": None,
        "subscription_id": None,
        "payment_method": None,
        "shipping_prefecture": "大阪府",
        "is_gift": False,
    }
    assert api.rows("order_items", ["order_id", "line_no"]) == [
        {
            "order_id": "O1",
            "line_no": 1,
            "product_id": "P1",
            "product_name": "煎茶",
            "category": None,
            "quantity": 2,
            "unit_price": 1200,
            "amount": 2400,
        },
        {
            "order_id": "O1",
            "line_no": 2,
            "product_id": "P2",
            "product_name": None,
            "category": None,
            "quantity": 1,
            "unit_price": 800,
            "amount": 700,
        },
    ]
    # The cart resends the order: cancelled, with one line at a new quantity and the
    # second line gone.
    edited = [{"product_id": "P1", "product_name": "煎茶", "quantity": 3, "unit_price": 1200}]
    second = _post(api, "orders", {"orders": [_order(edited, status="cancelled")]})
    assert second.json() == {
        "received": 1,
        "inserted": 0,
        "updated": 1,
        "unchanged": 0,
        "lines": {"inserted": 0, "updated": 1, "unchanged": 0, "removed": 1},
    }
    assert [
        (r["line_no"], r["quantity"], r["amount"])
        for r in api.rows("order_items", ["order_id", "line_no"])
    ] == [(1, 3, 3600)]
    assert [(r["status"], r["subtotal"], r["total"]) for r in api.rows("orders", "order_id")] == [
        ("cancelled", 3600, 4000)
    ]


def test_products_errors_name_item_and_field_and_write_nothing(api: Api) -> None:
    good = {"product_id": "P1", "name": "煎茶", "category": "お茶", "price": 1200}
    response = _post(
        api,
        "products",
        {
            "products": [
                good,
                good | {"product_id": "P2", "price": "1,200"},
                good | {"product_id": "P3", "stock_status": "sold"},
                good | {"product_id": "P4", "colour": "green"},
            ]
        },
    )
    assert response.status_code == 422
    assert [(e["index"], e["field"], e["type"]) for e in response.json()["errors"]] == [
        (1, "price", "int_type"),
        (2, "stock_status", "literal_error"),
        (3, "colour", "extra_forbidden"),
    ]
    duplicate = _post(api, "products", {"products": [good, good | {"price": 1}]})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [
        {
            "index": 1,
            "field": "product_id",
            "loc": "products[1].product_id",
            "type": "duplicate_key",
            "message": "product_id 'P1' already at products[0]",
        }
    ]
    assert api.count("products") == 0
    ok = _post(api, "products", {"products": [good]})
    assert ok.json()["inserted"] == 1
    [row] = api.rows("products", "product_id")
    assert (row["price"], row["stock_status"], row["is_subscription"]) == (1200, "in_stock", False)
