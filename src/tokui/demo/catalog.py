"""The product catalogue: Japanese food products, launches, premium lines, stock-outs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tokui.demo.calendar import Calendar

# category -> (item, base price in yen)
ITEMS: dict[str, tuple[tuple[str, int], ...]] = {
    "野菜": (
        ("有機野菜セット", 2980),
        ("じゃがいも 5kg", 1980),
        ("玉ねぎ 5kg", 1880),
        ("にんじん 3kg", 1280),
        ("旬の葉物野菜 3点", 1480),
        ("ミニトマト 1kg", 1680),
        ("アスパラガス 1kg", 3480),
        ("とうもろこし 6本", 2480),
        ("さつまいも 3kg", 2280),
        ("京野菜セット", 3980),
    ),
    "果物": (
        ("りんご 5kg", 3980),
        ("みかん 5kg", 3480),
        ("シャインマスカット 2房", 6980),
        ("白桃 6玉", 4980),
        ("いちご 2パック", 3280),
        ("さくらんぼ 500g", 5980),
        ("メロン 1玉", 6480),
        ("ラ・フランス 3kg", 4280),
        ("梨 5kg", 3980),
        ("完熟マンゴー 2玉", 7980),
    ),
    "肉": (
        ("黒毛和牛 切り落とし 500g", 3980),
        ("和牛サーロインステーキ 2枚", 9800),
        ("豚肩ロース 1kg", 2980),
        ("鶏もも肉 2kg", 2480),
        ("手ごねハンバーグ 10個", 3480),
        ("生ハム 200g", 2180),
        ("和牛すき焼き用 400g", 6980),
        ("ソーセージ詰め合わせ", 2580),
        ("厚切り牛タン 500g", 4980),
        ("鴨ロース 300g", 2280),
    ),
    "魚介": (
        ("紅ずわい蟹 1kg", 5980),
        ("ほたて貝柱 500g", 3980),
        ("いくら醤油漬け 250g", 4980),
        ("干物セット", 3280),
        ("天然ぶり 切り身", 2480),
        ("うなぎ蒲焼き 2尾", 6980),
        ("辛子明太子 500g", 3480),
        ("甘えび 500g", 2980),
        ("銀鮭 切り身 10切", 3280),
        ("釜揚げしらす 500g", 2480),
    ),
    "米": (
        ("コシヒカリ 5kg", 3480),
        ("あきたこまち 5kg", 3280),
        ("ゆめぴりか 5kg", 3680),
        ("玄米 5kg", 2980),
        ("無洗米 5kg", 3580),
        ("もち米 2kg", 1980),
        ("雑穀米 500g", 1280),
        ("つや姫 5kg", 3780),
    ),
    "調味料": (
        ("天然醸造醤油 1L", 980),
        ("有機味噌 1kg", 1480),
        ("無添加だしパック 30袋", 2160),
        ("純米酢 900ml", 880),
        ("本みりん 1L", 1280),
        ("オリーブオイル 500ml", 1980),
        ("ゆず胡椒", 680),
        ("藻塩", 480),
        ("黒七味", 780),
        ("玉締めごま油", 1080),
    ),
    "スイーツ": (
        ("抹茶ロールケーキ", 2980),
        ("バスクチーズケーキ", 3200),
        ("和菓子詰め合わせ", 2480),
        ("生チョコレート", 1980),
        ("季節のフルーツタルト", 3980),
        ("どら焼き 10個", 2160),
        ("焼き菓子セット", 2680),
        ("なめらかプリン 6個", 2400),
        ("長崎カステラ", 2160),
        ("ジェラート 8個", 3480),
    ),
    "飲料": (
        ("天然水 2L×6本", 1080),
        ("深蒸し茶 100g", 1280),
        ("純米吟醸 720ml", 2980),
        ("クラフトビール 6本", 3280),
        ("りんごジュース 6本", 3480),
        ("有機コーヒー豆 500g", 2480),
        ("米麹甘酒 6本", 2160),
        ("ほうじ茶ティーバッグ", 980),
        ("梅酒 720ml", 2480),
        ("炭酸水 24本", 2380),
    ),
    "乳製品": (
        ("牧場の牛乳 1L×3本", 1280),
        ("飲むヨーグルト 6本", 1980),
        ("チーズ詰め合わせ", 3480),
        ("発酵バター 200g", 1480),
        ("ギリシャヨーグルト 6個", 1680),
        ("カマンベール", 1280),
        ("ジャージー牛乳 1L×2本", 1580),
    ),
    "ギフトセット": (
        ("黒毛和牛ギフト", 8800),
        ("海鮮詰め合わせギフト", 7800),
        ("旬のフルーツギフト", 6800),
        ("スイーツギフト", 4800),
        ("調味料ギフト", 3800),
        ("地ビールギフト", 5500),
        ("銘茶ギフト", 4300),
        ("ハム・ソーセージギフト", 5800),
        ("手延べそうめんギフト", 3500),
        ("高級フルーツ詰め合わせ", 10800),
    ),
    "定期便": (
        ("旬の野菜 定期便", 3480),
        ("お米 定期便 5kg", 3280),
        ("天然水 定期便", 2980),
        ("季節の果物 定期便", 4980),
        ("無添加だし 定期便", 1980),
        ("ヨーグルト 定期便", 2480),
        ("コーヒー豆 定期便", 2680),
        ("牛乳 定期便", 1980),
    ),
}
CATEGORIES = tuple(ITEMS)
SHOPPING_CATEGORIES = tuple(c for c in CATEGORIES if c != "定期便")
ORIGINS = ("北海道産", "青森県産", "長野県産", "新潟県産", "静岡県産", "熊本県産", "鹿児島県産")
NEW_PREFIXES = ("【新商品】", "季節限定 ", "数量限定 ", "新登場 ")
PREMIUM_PREFIX = "特選 "
# which subscription product an ingredient lover of a category would take
SUBSCRIPTION_FOR = {
    "野菜": 0,
    "米": 1,
    "飲料": 2,
    "果物": 3,
    "調味料": 4,
    "乳製品": 5,
}


@dataclass
class Catalog:
    """Products as columns; index i is product P{i+1:05d}. Sorted by launch day."""

    product_id: np.ndarray
    name: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    price: np.ndarray
    premium: np.ndarray
    launch_day: np.ndarray  # float days; negative = launched before the simulation
    stockout_from: np.ndarray  # day, or +inf
    stockout_to: np.ndarray
    final_status: np.ndarray
    stock_quantity: np.ndarray

    def __len__(self) -> int:
        return len(self.product_id)

    @property
    def subscription_products(self) -> np.ndarray:
        return np.flatnonzero(self.category == CATEGORIES.index("定期便"))

    def to_arrow(self, cal: Calendar) -> pa.Table:
        cats = np.array(CATEGORIES, dtype=object)[self.category]
        launched = cal.to_date(self.launch_day)
        return pa.table(
            {
                "product_id": self.product_id,
                "sku": np.char.add(
                    "SKU-", np.char.zfill(np.arange(1, len(self) + 1).astype(str), 6)
                ),
                "name": self.name,
                "category": cats,
                "subcategory": np.where(self.premium, "プレミアム", "スタンダード"),
                "price": self.price,
                "is_subscription": cats == "定期便",
                "is_gift": cats == "ギフトセット",
                "launched_on": launched,
                "stock_status": self.final_status,
                "stock_quantity": self.stock_quantity,
            }
        )


def _round_price(x: np.ndarray) -> np.ndarray:
    # Japanese shop prices end in 80 or 00 more often than not; round to 10 yen at least.
    return (np.round(x / 10.0) * 10).astype(np.int64)


def build_catalog(rng: np.random.Generator, cal: Calendar, new_per_month: float) -> Catalog:
    names: list[str] = []
    cats: list[int] = []
    prices: list[float] = []
    premium: list[bool] = []
    launch: list[float] = []
    for ci, cat in enumerate(CATEGORIES):
        for item, base in ITEMS[cat]:
            if cat == "定期便":
                variants = [("", 1.0, False)]
            else:
                origin = ORIGINS[int(rng.integers(len(ORIGINS)))]
                variants = [("", 1.0, False), (f"{origin} ", 1.1, False)]
                if rng.random() < 0.5:
                    variants.append((PREMIUM_PREFIX, 1.6, True))
            for prefix, factor, prem in variants:
                names.append(f"{prefix}{item}")
                cats.append(ci)
                prices.append(base * factor * rng.uniform(0.9, 1.1))
                premium.append(prem)
                launch.append(-float(rng.uniform(30, 1000)))
    months = cal.days / 30.4
    n_new = int(rng.poisson(new_per_month * months))
    shop_cats = [CATEGORIES.index(c) for c in SHOPPING_CATEGORIES]
    for _ in range(n_new):
        ci = shop_cats[int(rng.integers(len(shop_cats)))]
        item, base = ITEMS[CATEGORIES[ci]][int(rng.integers(len(ITEMS[CATEGORIES[ci]])))]
        prefix = NEW_PREFIXES[int(rng.integers(len(NEW_PREFIXES)))]
        prem = bool(rng.random() < 0.3)
        names.append(f"{prefix}{PREMIUM_PREFIX if prem else ''}{item}")
        cats.append(ci)
        prices.append(base * (1.6 if prem else 1.0) * rng.uniform(0.9, 1.2))
        premium.append(prem)
        launch.append(float(rng.uniform(0, cal.days)))
    order = np.argsort(np.array(launch), kind="stable")
    n = len(names)
    launch_day = np.array(launch)[order]
    has_stockout = rng.random(n) < 0.15
    s_from = np.where(has_stockout, rng.uniform(0, cal.days, n), np.inf)
    s_from = np.maximum(s_from, launch_day + 7)
    s_to = s_from + rng.uniform(5, 30, n)
    is_sub = np.array(cats)[order] == CATEGORIES.index("定期便")
    s_from[is_sub] = np.inf
    s_to[is_sub] = np.inf
    out_now = (s_from <= cal.days) & (s_to > cal.days)
    status = np.where(
        out_now, "out_of_stock", np.where(rng.random(n) < 0.05, "low_stock", "in_stock")
    )
    quantity = np.where(
        out_now,
        0,
        np.where(status == "low_stock", rng.integers(1, 10, n), rng.integers(20, 500, n)),
    )
    return Catalog(
        product_id=np.array([f"P{i + 1:05d}" for i in range(n)], dtype=object),
        name=np.array(names, dtype=object)[order],
        category=np.array(cats, dtype=np.int16)[order],
        price=_round_price(np.array(prices)[order]),
        premium=np.array(premium)[order],
        launch_day=launch_day,
        stockout_from=s_from,
        stockout_to=s_to,
        final_status=status.astype(object),
        stock_quantity=quantity.astype(np.int64),
    )


class ProductPicker:
    """Draws launched, in-stock products from pools (category, premium) at given times."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.pools: dict[tuple[int, bool], np.ndarray] = {}
        for ci in range(len(CATEGORIES)):
            for prem in (False, True):
                idx = np.flatnonzero((catalog.category == ci) & (catalog.premium == prem))
                if len(idx):
                    self.pools[(ci, prem)] = idx  # already sorted by launch
        self.all = np.arange(len(catalog))

    def _draw(self, rng: np.random.Generator, pool: np.ndarray, t: np.ndarray) -> np.ndarray:
        launched = np.searchsorted(self.catalog.launch_day[pool], t, side="right")
        launched = np.maximum(launched, 1)
        return pool[np.floor(rng.random(len(t)) * launched).astype(np.int64)]

    def pick(
        self, rng: np.random.Generator, category: np.ndarray, premium: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        out = np.empty(len(t), dtype=np.int64)
        for (ci, prem), pool in self.pools.items():
            sel = np.flatnonzero((category == ci) & (premium == prem))
            if len(sel):
                out[sel] = self._draw(rng, pool, t[sel])
        missing = np.flatnonzero(
            ~np.isin(category * 2 + premium.astype(np.int64), [c * 2 + p for c, p in self.pools])
        )
        if len(missing):
            out[missing] = self.pick(
                rng, category[missing], np.zeros(len(missing), bool), t[missing]
            )
        return self._avoid_stockouts(rng, out, t)

    def pick_new(self, rng: np.random.Generator, t: np.ndarray, within: float) -> np.ndarray:
        """Products launched in the `within` days before t (novelty); any launched if none."""
        launch = self.catalog.launch_day
        hi = np.searchsorted(launch, t, side="right")
        lo = np.searchsorted(launch, t - within, side="left")
        lo = np.where(hi - lo < 1, 0, lo)
        hi = np.maximum(hi, 1)
        idx = lo + np.floor(rng.random(len(t)) * (hi - lo)).astype(np.int64)
        is_sub = self.catalog.category[idx] == CATEGORIES.index("定期便")
        if is_sub.any():
            # a subscription product is not bought as a one-off; take a standard one instead
            cats = rng.choice(
                [CATEGORIES.index(c) for c in SHOPPING_CATEGORIES], size=int(is_sub.sum())
            )
            idx[is_sub] = self.pick(rng, cats, np.zeros(len(cats), bool), t[is_sub])
        return self._avoid_stockouts(rng, idx, t)

    def _avoid_stockouts(
        self, rng: np.random.Generator, idx: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        c = self.catalog
        for _ in range(3):
            out = np.flatnonzero((c.stockout_from[idx] <= t) & (t < c.stockout_to[idx]))
            if not len(out):
                break
            # out of stock: the customer takes another product of the same pool
            cats = c.category[idx[out]].astype(np.int64)
            prem = c.premium[idx[out]]
            for (ci, pr), pool in self.pools.items():
                sel = np.flatnonzero((cats == ci) & (prem == pr))
                if len(sel):
                    idx[out[sel]] = self._draw(rng, pool, t[out[sel]])
        return idx
