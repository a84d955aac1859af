"""The canonical warehouse schema.

One declaration drives the DDL on every backend, the documentation in docs/data-model.md
and the import validation. Money is an integer amount in the shop's currency (yen has no
minor unit). Timestamps are UTC without a zone; dates are the shop's local calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from tokui.warehouse.sql import transaction


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    nullable: bool
    ja: str
    en: str
    values: tuple[str, ...] = ()  # allowed values of a coded column

    @property
    def ibis_type(self) -> dt.DataType:
        return dt.dtype(self.dtype).copy(nullable=self.nullable)


@dataclass(frozen=True)
class TableSpec:
    name: str
    ja: str
    en: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> "table.column"
    note: str = ""  # how the table is filled, for docs/data-model.md

    @property
    def schema(self) -> ibis.Schema:
        return ibis.schema({c.name: c.ibis_type for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def C(
    name: str, dtype: str, nullable: bool, ja: str, en: str, values: tuple[str, ...] = ()
) -> Column:
    return Column(name, dtype, nullable, ja, en, values)


GENDERS = ("male", "female", "other", "unknown")
ORDER_STATUSES = ("completed", "pending", "cancelled", "returned")
STOCK_STATUSES = ("in_stock", "low_stock", "out_of_stock", "discontinued")
SUBSCRIPTION_STATUSES = ("active", "paused", "cancelled")
CYCLE_UNITS = ("week", "month")
DELIVERY_STATUSES = ("scheduled", "shipped", "skipped", "cancelled")
SUBSCRIPTION_EVENT_TYPES = ("start", "skip", "cycle_change", "pause", "resume", "cancel")
WEB_EVENT_TYPES = (
    "page_view",
    "product_view",
    "category_view",
    "search",
    "cart_add",
    "cart_remove",
    "favorite",
    "login",
)
POINT_KINDS = ("earn", "use", "expire", "adjust")
STOCK_EVENT_TYPES = ("out_of_stock", "restock")
DISCOUNT_TYPES = ("amount", "percent", "free_shipping")

CUSTOMERS = TableSpec(
    "customers",
    "顧客",
    "Customers",
    (
        C("customer_id", "string", False, "顧客ID (カートの会員ID)", "Customer id (the cart's id)"),
        C("email", "string", True, "メールアドレス", "Email address"),
        C("name", "string", True, "氏名", "Full name"),
        C("name_kana", "string", True, "氏名 (カナ)", "Full name in katakana"),
        C("gender", "string", True, "性別", "Gender", GENDERS),
        C("birth_date", "date", True, "生年月日", "Date of birth"),
        C("prefecture", "string", True, "都道府県", "Prefecture (e.g. 東京都)"),
        C("postal_code", "string", True, "郵便番号 (7桁)", "Postal code, 7 digits"),
        C(
            "address1",
            "string",
            True,
            "住所1 (市区町村・町名など。都道府県は別の列)",
            "Address line 1: city and town onwards (the prefecture is its own column)",
        ),
        C(
            "address2",
            "string",
            True,
            "住所2 (続き: 番地・建物名・部屋番号など)",
            "Address line 2: the rest (block number, building, room)",
        ),
        C("phone", "string", True, "電話番号", "Phone number"),
        C("registered_at", "timestamp", False, "会員登録日時 (UTC)", "Registration time (UTC)"),
        C("rank", "string", True, "会員ランク", "Membership rank"),
        C("email_opt_in", "boolean", False, "メール配信許諾", "Consents to marketing email"),
        C("line_opt_in", "boolean", False, "LINE配信許諾 (友だち)", "Follows the LINE account"),
        C("dm_opt_in", "boolean", False, "DM (郵送) 許諾", "Accepts postal direct mail"),
        C("push_opt_in", "boolean", False, "アプリプッシュ許諾", "Accepts app push"),
        C("line_user_id", "string", True, "LINEユーザーID", "LINE user id"),
        C("time_zone", "string", False, "タイムゾーン", "Time zone (IANA name)"),
        C("acquisition_channel", "string", True, "獲得経路", "Acquisition channel"),
        C("updated_at", "timestamp", True, "最終更新日時 (UTC)", "Last update (UTC)"),
    ),
    ("customer_id",),
    note="The postal address is `postal_code`, `prefecture`, `address1` and `address2`; "
    "a postal DM prints 〒, 都道府県 + address1, address2 and the name (docs/messaging.md). "
    "The Shopify and EC-CUBE profiles map their address columns onto them (EC-CUBE 住所1 / "
    "住所2; Shopify City + Address1 / Address2). 郵送DMの宛名は郵便番号・都道府県・住所1・"
    "住所2・氏名から作ります。",
)

PRODUCTS = TableSpec(
    "products",
    "商品",
    "Products",
    (
        C("product_id", "string", False, "商品ID", "Product id"),
        C("sku", "string", True, "商品コード (SKU)", "SKU"),
        C("name", "string", False, "商品名", "Product name"),
        C("category", "string", False, "カテゴリ", "Category"),
        C("subcategory", "string", True, "サブカテゴリ", "Subcategory"),
        C("price", "int64", False, "販売価格 (税込)", "Price, tax included"),
        C("is_subscription", "boolean", False, "定期便商品", "Sold as a subscription"),
        C("is_gift", "boolean", False, "ギフト商品", "Gift item"),
        C("launched_on", "date", True, "発売日", "Launch date"),
        C("stock_status", "string", False, "在庫状況", "Stock status", STOCK_STATUSES),
        C("stock_quantity", "int64", True, "在庫数", "Units in stock"),
        C("updated_at", "timestamp", True, "最終更新日時 (UTC)", "Last update (UTC)"),
    ),
    ("product_id",),
)

ORDERS = TableSpec(
    "orders",
    "受注",
    "Orders",
    (
        C("order_id", "string", False, "受注ID", "Order id"),
        C("customer_id", "string", True, "顧客ID (ゲスト購入は空)", "Customer id (empty: guest)"),
        C("ordered_at", "timestamp", False, "受注日時 (UTC)", "Order time (UTC)"),
        C("status", "string", False, "対応状況", "Status", ORDER_STATUSES),
        C("channel", "string", True, "受注経路 (web, app, phone...)", "Sales channel"),
        C("subtotal", "int64", False, "商品小計", "Item subtotal"),
        C("discount", "int64", False, "値引き (クーポン等)", "Discount (coupons etc.)"),
        C("shipping_fee", "int64", False, "送料", "Shipping fee"),
        C("points_used", "int64", False, "利用ポイント", "Points used"),
        C("total", "int64", False, "支払合計", "Amount paid"),
        C("points_earned", "int64", False, "付与ポイント", "Points earned"),
        C("coupon_code", "string", True, "利用クーポンコード", "Coupon code used"),
        C("subscription_id", "string", True, "定期契約ID (定期便の受注)", "Subscription id"),
        C("payment_method", "string", True, "支払方法", "Payment method"),
        C("shipping_prefecture", "string", True, "配送先都道府県", "Shipping prefecture"),
        C("is_gift", "boolean", False, "ギフト配送 (送り先が別)", "Shipped as a gift"),
    ),
    ("order_id",),
    {"customer_id": "customers.customer_id"},
)

ORDER_ITEMS = TableSpec(
    "order_items",
    "受注明細",
    "Order lines",
    (
        C("order_id", "string", False, "受注ID", "Order id"),
        C("line_no", "int32", False, "明細番号", "Line number"),
        C("product_id", "string", False, "商品ID", "Product id"),
        C("product_name", "string", True, "商品名 (受注時)", "Product name at order time"),
        C("category", "string", True, "カテゴリ (受注時)", "Category at order time"),
        C("quantity", "int32", False, "数量", "Quantity"),
        C("unit_price", "int64", False, "単価 (税込)", "Unit price, tax included"),
        C("amount", "int64", False, "金額", "Line amount"),
    ),
    ("order_id", "line_no"),
    {"order_id": "orders.order_id", "product_id": "products.product_id"},
)

SUBSCRIPTIONS = TableSpec(
    "subscriptions",
    "定期契約",
    "Subscriptions",
    (
        C("subscription_id", "string", False, "定期契約ID", "Subscription id"),
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C("product_id", "string", False, "定期商品ID", "Product id"),
        C("quantity", "int32", False, "数量", "Quantity per delivery"),
        C("unit_price", "int64", False, "単価 (税込)", "Unit price, tax included"),
        C("cycle_unit", "string", False, "周期の単位", "Cycle unit", CYCLE_UNITS),
        C("cycle_interval", "int32", False, "周期 (2週ごと等)", "Cycle length in units"),
        C("status", "string", False, "契約状況", "Status", SUBSCRIPTION_STATUSES),
        C("started_at", "timestamp", False, "申込日時 (UTC)", "Start (UTC)"),
        C("cancelled_at", "timestamp", True, "解約日時 (UTC)", "Cancellation (UTC)"),
        C("cancel_reason", "string", True, "解約理由", "Cancellation reason"),
        C("next_delivery_on", "date", True, "次回お届け予定日", "Next delivery date"),
        C("updated_at", "timestamp", True, "最終更新日時 (UTC)", "Last update (UTC)"),
    ),
    ("subscription_id",),
    {"customer_id": "customers.customer_id", "product_id": "products.product_id"},
)

SUBSCRIPTION_DELIVERIES = TableSpec(
    "subscription_deliveries",
    "定期お届け",
    "Subscription deliveries",
    (
        C("subscription_id", "string", False, "定期契約ID", "Subscription id"),
        C("delivery_number", "int32", False, "お届け回数 (1回目=1)", "Delivery number (1 = first)"),
        C("scheduled_on", "date", False, "お届け予定日", "Scheduled date"),
        C("status", "string", False, "状況", "Status", DELIVERY_STATUSES),
        C("shipped_at", "timestamp", True, "出荷日時 (UTC)", "Shipped (UTC)"),
        C("order_id", "string", True, "受注ID", "Order id of the shipment"),
        C("amount", "int64", True, "金額", "Amount charged"),
    ),
    ("subscription_id", "delivery_number"),
    {"subscription_id": "subscriptions.subscription_id"},
)

SUBSCRIPTION_EVENTS = TableSpec(
    "subscription_events",
    "定期契約の変更履歴",
    "Subscription changes",
    (
        C("event_id", "string", False, "イベントID", "Event id"),
        C("subscription_id", "string", False, "定期契約ID", "Subscription id"),
        C("occurred_at", "timestamp", False, "発生日時 (UTC)", "Time (UTC)"),
        C("event_type", "string", False, "種別", "Type", SUBSCRIPTION_EVENT_TYPES),
        C("old_value", "string", True, "変更前 (周期など)", "Value before (e.g. cycle)"),
        C("new_value", "string", True, "変更後", "Value after"),
        C("reason", "string", True, "理由", "Reason"),
    ),
    ("event_id",),
    {"subscription_id": "subscriptions.subscription_id"},
)

WEB_EVENTS = TableSpec(
    "web_events",
    "Web行動",
    "Web events",
    (
        C("event_id", "string", False, "イベントID (重複排除キー)", "Event id (dedup key)"),
        C("occurred_at", "timestamp", False, "発生日時 (UTC)", "Time (UTC)"),
        C("event_type", "string", False, "種別", "Type", WEB_EVENT_TYPES),
        C("anonymous_id", "string", True, "匿名ID (Cookie)", "Anonymous (cookie) id"),
        C("customer_id", "string", True, "顧客ID (ログイン時)", "Customer id when known"),
        C("session_id", "string", True, "セッションID", "Session id"),
        C("product_id", "string", True, "商品ID", "Product id"),
        C("category", "string", True, "カテゴリ", "Category"),
        C("search_query", "string", True, "検索語", "Search query"),
        C("page_url", "string", True, "ページURL", "Page URL"),
        C("referrer", "string", True, "参照元", "Referrer"),
        C("quantity", "int32", True, "数量 (カート)", "Quantity (cart events)"),
        C("source", "string", True, "送信元", "Sending source"),
    ),
    ("event_id",),
)

POINT_TRANSACTIONS = TableSpec(
    "point_transactions",
    "ポイント履歴",
    "Point transactions",
    (
        C("transaction_id", "string", False, "履歴ID", "Transaction id"),
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C("occurred_at", "timestamp", False, "発生日時 (UTC)", "Time (UTC)"),
        C("kind", "string", False, "種別 (付与/利用/失効/調整)", "Kind", POINT_KINDS),
        C("points", "int64", False, "ポイント (付与は正、利用・失効は負)", "Signed points"),
        C("expires_on", "date", True, "有効期限 (付与分)", "Expiry date of earned points"),
        C("order_id", "string", True, "受注ID", "Order id"),
        C("reason", "string", True, "理由", "Reason"),
    ),
    ("transaction_id",),
    {"customer_id": "customers.customer_id"},
)

COUPONS = TableSpec(
    "coupons",
    "クーポン",
    "Coupons",
    (
        C("coupon_id", "string", False, "クーポンID", "Coupon id"),
        C("name", "string", False, "クーポン名", "Name"),
        C("discount_type", "string", False, "値引き種別", "Discount type", DISCOUNT_TYPES),
        C("discount_value", "int64", False, "値引き額または率(%)", "Amount or percent"),
        C("min_order_amount", "int64", True, "利用条件 (最低購入金額)", "Minimum order"),
        C("valid_from", "timestamp", True, "有効期間開始 (UTC)", "Valid from (UTC)"),
        C("valid_until", "timestamp", True, "有効期間終了 (UTC)", "Valid until (UTC)"),
        C("created_at", "timestamp", False, "作成日時 (UTC)", "Created (UTC)"),
    ),
    ("coupon_id",),
)

COUPON_GRANTS = TableSpec(
    "coupon_grants",
    "クーポン付与",
    "Coupon grants",
    (
        C("grant_id", "string", False, "付与ID", "Grant id"),
        C("coupon_id", "string", False, "クーポンID", "Coupon id"),
        C("customer_id", "string", False, "顧客ID", "Customer id"),
        C("code", "string", False, "固有クーポンコード", "Unique code"),
        C("granted_at", "timestamp", False, "付与日時 (UTC)", "Granted (UTC)"),
        C("expires_at", "timestamp", True, "有効期限 (UTC)", "Expiry (UTC)"),
        C("used_at", "timestamp", True, "利用日時 (UTC)", "Used (UTC)"),
        C("order_id", "string", True, "利用した受注ID", "Order id where used"),
        C("source", "string", True, "付与元 (シナリオ等)", "Granted by (scenario...)"),
    ),
    ("grant_id",),
    {"coupon_id": "coupons.coupon_id", "customer_id": "customers.customer_id"},
)

# Stock changes over time: products only holds the current status, and a restock notice
# needs the moment a product came back (and when it ran out, to know who waited for it).
STOCK_EVENTS = TableSpec(
    "stock_events",
    "在庫の変化",
    "Stock changes",
    (
        C("event_id", "string", False, "イベントID", "Event id"),
        C("product_id", "string", False, "商品ID", "Product id"),
        C("occurred_at", "timestamp", False, "発生日時 (UTC)", "Time (UTC)"),
        C("event_type", "string", False, "種別 (在庫切れ/再入荷)", "Type", STOCK_EVENT_TYPES),
        C("quantity", "int64", True, "変化後の在庫数", "Units in stock after the change"),
    ),
    ("event_id",),
    {"product_id": "products.product_id"},
    note="One row per change of a product's stock: `out_of_stock` when it runs out, `restock` "
    "when it can be bought again. Import it from the cart's stock history with an import "
    "profile (product imports only keep the current status); the demo simulator writes it "
    "from its stock-outs. The restock trigger (docs/scenarios.md) reads it: the customers who "
    "favourited the product, or viewed or carted it while it was out, get the notice. "
    "在庫切れ・再入荷の履歴。再入荷通知シナリオが使います。",
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        CUSTOMERS,
        PRODUCTS,
        ORDERS,
        ORDER_ITEMS,
        SUBSCRIPTIONS,
        SUBSCRIPTION_DELIVERIES,
        SUBSCRIPTION_EVENTS,
        WEB_EVENTS,
        POINT_TRANSACTIONS,
        COUPONS,
        COUPON_GRANTS,
        STOCK_EVENTS,
    )
}


def dialect_of(con: BaseBackend) -> str:
    return str(con.name)


def create_table_sql(spec: TableSpec, dialect: str) -> str:
    """DDL for one table, with its primary key (Ibis's create_table cannot declare keys).

    Built from our own declaration with sqlglot, so identifiers are always quoted.
    Foreign keys are documented, not enforced: loads arrive in any order and analytics
    must tolerate orphans from real carts (e.g. deleted members).
    """
    if dialect == "clickhouse":
        return _clickhouse_create_sql(spec)
    column_defs = spec.schema.to_sqlglot_column_defs(dialect)
    pk = sge.PrimaryKey(expressions=[sge.to_identifier(k, quoted=True) for k in spec.primary_key])
    create = sge.Create(
        this=sge.Schema(this=sge.to_table(spec.name, quoted=True), expressions=[*column_defs, pk]),
        kind="TABLE",
        exists=True,
    )
    return create.sql(dialect)


def _clickhouse_create_sql(spec: TableSpec) -> str:
    """ClickHouse DDL: a MergeTree sorted by the key. ClickHouse does not enforce keys;
    they only order the data (bulk_load checks each batch for duplicates)."""
    from tokui.warehouse.clickhouse import column_type

    def ident(name: str) -> str:
        return str(sge.to_identifier(name, quoted=True).sql("clickhouse"))

    columns = ", ".join(f"{ident(c.name)} {column_type(c.ibis_type)}" for c in spec.columns)
    key = ", ".join(ident(k) for k in spec.primary_key)
    return (
        f"CREATE TABLE IF NOT EXISTS {ident(spec.name)} ({columns}) "
        f"ENGINE = MergeTree ORDER BY ({key})"
    )


def add_column_sql(spec: TableSpec, column: str, dialect: str) -> str:
    """ALTER TABLE ... ADD COLUMN for a nullable column declared after the table was made."""
    [definition] = [d for d in spec.schema.to_sqlglot_column_defs(dialect) if d.name == column]
    alter = sge.Alter(
        this=sge.Table(this=sge.to_identifier(spec.name, quoted=True)),
        kind="TABLE",
        actions=[definition],
    )
    return alter.sql(dialect)


def create_schema(con: BaseBackend) -> list[str]:
    """Create every missing canonical table; returns the names created.

    A table made by an older version gets the nullable columns declared since (added at
    the end; loads name their columns, so the order does not matter).
    """
    existing = set(con.list_tables())
    created = []
    for spec in TABLES.values():
        if spec.name in existing:
            present = set(con.table(spec.name).columns)
            for col in spec.columns:
                if col.name not in present and col.nullable:
                    with transaction(con) as execute:
                        execute(add_column_sql(spec, col.name, dialect_of(con)))
            continue
        if con.name == "pyspark":
            # Spark tables have no keys; Ibis maps the types (timestamps without a zone
            # are TIMESTAMP_NTZ, as in DuckDB).
            con.create_table(spec.name, schema=spec.schema)
        else:
            with transaction(con) as execute:
                execute(create_table_sql(spec, dialect_of(con)))
        created.append(spec.name)
    return created
