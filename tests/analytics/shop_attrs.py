"""Order and customer attributes on top of tests/analytics/shop_extra.py.

The shared shops leave channels, payments, coupons, ranks and acquisition channels
empty; the templates that break results down by them read this version, where:

  order  channel payment coupon gift  subscription shipping prefecture
  og1    web     card    -      yes   -            東京都
  og2    phone   cod     -      -     -            東京都
  og3    web     card    G4     yes   -            東京都
  on1    app     cod     -      -     -            -
  oi1    web     card    -      -     s1           北海道
  oi2    web     card    -      -     -            北海道
  oi3    app     card    -      -     -            北海道
  oi4    app     card    -      -     -            北海道
  os1    web     bank    -      -     s2           福岡県
  os2    web     bank    -      -     s2           福岡県
  ob1    app     card    G1     -     s3           大阪府
  ob2    app     card    -      -     -            大阪府

  customer  acquisition  rank    birth (age band at 2025-12-31)
  g         search       gold    1980-06-01 (40s)
  n         ad           -       1999-12-31 (20s)
  i         search       silver  -
  s         ad           bronze  1960-01-01 (60s)
  r         -            -       -
  b         line         silver  -
"""

from __future__ import annotations

from collections.abc import Iterator

from ibis.backends import BaseBackend

from tests.analytics.shop_extra import AS_OF, open_shop
from tokui.warehouse import bulk_load

__all__ = ["AS_OF", "open_rich_shop"]

ORDER_ATTRS = {
    "og1": ("web", "card", None, True, None, "東京都"),
    "og2": ("phone", "cod", None, False, None, "東京都"),
    "og3": ("web", "card", "G4", True, None, "東京都"),
    "on1": ("app", "cod", None, False, None, None),
    "oi1": ("web", "card", None, False, "s1", "北海道"),
    "oi2": ("web", "card", None, False, None, "北海道"),
    "oi3": ("app", "card", None, False, None, "北海道"),
    "oi4": ("app", "card", None, False, None, "北海道"),
    "os1": ("web", "bank", None, False, "s2", "福岡県"),
    "os2": ("web", "bank", None, False, "s2", "福岡県"),
    "ob1": ("app", "card", "G1", False, "s3", "大阪府"),
    "ob2": ("app", "card", None, False, None, "大阪府"),
}
CUSTOMER_ATTRS = {
    "g": ("search", "gold"),
    "n": ("ad", None),
    "i": ("search", "silver"),
    "s": ("ad", "bronze"),
    "r": (None, None),
    "b": ("line", "silver"),
}


def load_attributes(con: BaseBackend) -> None:
    o = con.table("orders").execute()
    cols = ("channel", "payment_method", "coupon_code", "is_gift", "subscription_id")
    for i, col in enumerate((*cols, "shipping_prefecture")):
        o[col] = [ORDER_ATTRS[x][i] for x in o.order_id]
    bulk_load(con, "orders", o, replace=True)
    c = con.table("customers").execute()
    c["acquisition_channel"] = [CUSTOMER_ATTRS[x][0] for x in c.customer_id]
    c["rank"] = [CUSTOMER_ATTRS[x][1] for x in c.customer_id]
    bulk_load(con, "customers", c, replace=True)


def open_rich_shop(warehouse_url: str) -> Iterator[BaseBackend]:
    for con in open_shop(warehouse_url):
        load_attributes(con)
        yield con
