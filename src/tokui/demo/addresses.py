"""Plausible Japanese street addresses for simulated customers.

A few real cities per prefecture with the first three digits of their postal codes, a
town name from a list of common ones, a 丁目-番-号 and, for about a third, a building
and room. Made up below the city level: no address is meant to exist. Every character
is in cp932, so a DM export in Shift_JIS works on the demo data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# prefecture -> ((city, first three digits of its postal codes), ...)
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "北海道": (("札幌市中央区", "060"), ("旭川市", "070"), ("函館市", "040")),
    "青森県": (("青森市", "030"), ("八戸市", "031"), ("弘前市", "036")),
    "岩手県": (("盛岡市", "020"), ("一関市", "021"), ("奥州市", "023")),
    "宮城県": (("仙台市青葉区", "980"), ("石巻市", "986"), ("大崎市", "989")),
    "秋田県": (("秋田市", "010"), ("横手市", "013"), ("大館市", "017")),
    "山形県": (("山形市", "990"), ("鶴岡市", "997"), ("酒田市", "998")),
    "福島県": (("福島市", "960"), ("郡山市", "963"), ("いわき市", "970")),
    "茨城県": (("水戸市", "310"), ("つくば市", "305"), ("日立市", "317")),
    "栃木県": (("宇都宮市", "320"), ("小山市", "323"), ("足利市", "326")),
    "群馬県": (("前橋市", "371"), ("高崎市", "370"), ("太田市", "373")),
    "埼玉県": (
        ("さいたま市浦和区", "330"),
        ("川越市", "350"),
        ("川口市", "332"),
        ("所沢市", "359"),
    ),
    "千葉県": (("千葉市中央区", "260"), ("船橋市", "273"), ("柏市", "277"), ("市川市", "272")),
    "東京都": (
        ("千代田区", "101"),
        ("新宿区", "160"),
        ("世田谷区", "154"),
        ("練馬区", "177"),
        ("大田区", "144"),
        ("八王子市", "192"),
    ),
    "神奈川県": (
        ("横浜市中区", "231"),
        ("川崎市中原区", "211"),
        ("相模原市中央区", "252"),
        ("藤沢市", "251"),
    ),
    "新潟県": (("新潟市中央区", "951"), ("長岡市", "940"), ("上越市", "943")),
    "富山県": (("富山市", "930"), ("高岡市", "933")),
    "石川県": (("金沢市", "920"), ("小松市", "923"), ("白山市", "924")),
    "福井県": (("福井市", "910"), ("敦賀市", "914"), ("坂井市", "919")),
    "山梨県": (("甲府市", "400"), ("富士吉田市", "403"), ("笛吹市", "406")),
    "長野県": (("長野市", "380"), ("松本市", "390"), ("上田市", "386")),
    "岐阜県": (("岐阜市", "500"), ("大垣市", "503"), ("各務原市", "504")),
    "静岡県": (("静岡市葵区", "420"), ("浜松市中央区", "430"), ("沼津市", "410")),
    "愛知県": (("名古屋市中区", "460"), ("豊田市", "471"), ("岡崎市", "444"), ("一宮市", "491")),
    "三重県": (("津市", "514"), ("四日市市", "510"), ("鈴鹿市", "513")),
    "滋賀県": (("大津市", "520"), ("草津市", "525"), ("彦根市", "522")),
    "京都府": (("京都市中京区", "604"), ("宇治市", "611"), ("亀岡市", "621")),
    "大阪府": (("大阪市北区", "530"), ("堺市堺区", "590"), ("豊中市", "560"), ("東大阪市", "577")),
    "兵庫県": (("神戸市中央区", "650"), ("姫路市", "670"), ("西宮市", "662"), ("尼崎市", "660")),
    "奈良県": (("奈良市", "630"), ("橿原市", "634")),
    "和歌山県": (("和歌山市", "640"), ("田辺市", "646")),
    "鳥取県": (("鳥取市", "680"), ("米子市", "683")),
    "島根県": (("松江市", "690"), ("出雲市", "693")),
    "岡山県": (("岡山市北区", "700"), ("倉敷市", "710")),
    "広島県": (("広島市中区", "730"), ("福山市", "720"), ("呉市", "737")),
    "山口県": (("山口市", "753"), ("下関市", "750"), ("宇部市", "755")),
    "徳島県": (("徳島市", "770"), ("鳴門市", "772")),
    "香川県": (("高松市", "760"), ("丸亀市", "763")),
    "愛媛県": (("松山市", "790"), ("今治市", "794"), ("新居浜市", "792")),
    "高知県": (("高知市", "780"), ("南国市", "783")),
    "福岡県": (("福岡市中央区", "810"), ("北九州市小倉北区", "802"), ("久留米市", "830")),
    "佐賀県": (("佐賀市", "840"), ("唐津市", "847")),
    "長崎県": (("長崎市", "850"), ("佐世保市", "857")),
    "熊本県": (("熊本市中央区", "860"), ("八代市", "866")),
    "大分県": (("大分市", "870"), ("別府市", "874")),
    "宮崎県": (("宮崎市", "880"), ("都城市", "885")),
    "鹿児島県": (("鹿児島市", "892"), ("鹿屋市", "893")),
    "沖縄県": (("那覇市", "900"), ("沖縄市", "904")),
}

TOWNS = (
    "本町",
    "中央",
    "栄町",
    "緑町",
    "旭町",
    "東町",
    "西町",
    "南町",
    "北町",
    "若葉",
    "桜町",
    "新町",
    "大手町",
    "駅前",
    "松原",
    "青葉台",
    "泉町",
    "宮前",
    "川端町",
    "日吉町",
)
BUILDINGS = ("ハイツ", "コーポ", "メゾン", "レジデンス", "マンション", "パレス", "荘")
BUILDING_NAMES = (
    "さくら",
    "ひまわり",
    "グリーン",
    "サンライズ",
    "みどり",
    "富士見",
    "青葉",
    "若松",
)
BUILDING_SHARE = 0.35


def street_addresses(
    rng: np.random.Generator, prefectures: np.ndarray, names: list[str]
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(postal prefix of 3 digits, address1, address2) per customer.

    `prefectures` are indexes into `names` (tokui.demo.names.PREFECTURES order).
    address1 is the city and town (市区町村・町名), address2 the 丁目-番-号 and, for some,
    the building and room, the split EC-CUBE's 住所1 / 住所2 use.
    """
    n = len(prefectures)
    pick = rng.random(n)
    city = np.empty(n, dtype=object)
    prefix = np.empty(n, dtype=object)
    for k, pref in enumerate(names):
        sel = prefectures == k
        options = CITIES[pref]
        choice = np.minimum((pick[sel] * len(options)).astype(np.int64), len(options) - 1)
        city[sel] = np.array([c for c, _ in options], dtype=object)[choice]
        prefix[sel] = np.array([p for _, p in options], dtype=object)[choice]
    town = np.array(TOWNS, dtype=object)[rng.integers(len(TOWNS), size=n)]
    chome = rng.integers(1, 6, size=n)
    ban = rng.integers(1, 31, size=n)
    go = rng.integers(1, 21, size=n)
    building = rng.random(n) < BUILDING_SHARE
    b_name = np.array(BUILDING_NAMES, dtype=object)[rng.integers(len(BUILDING_NAMES), size=n)]
    b_kind = np.array(BUILDINGS, dtype=object)[rng.integers(len(BUILDINGS), size=n)]
    room = rng.integers(1, 6, size=n) * 100 + rng.integers(1, 10, size=n)
    number = pc.binary_join_element_wise(
        pc.cast(pa.array(chome), pa.string()),
        pc.cast(pa.array(ban), pa.string()),
        pc.cast(pa.array(go), pa.string()),
        "-",
    )
    flat = pc.binary_join_element_wise(
        pa.array(b_name), pa.array(b_kind), pc.cast(pa.array(room), pa.string()), "号室", ""
    )
    address2 = pc.if_else(
        pa.array(building), pc.binary_join_element_wise(number, flat, " "), number
    )
    address1 = pc.binary_join_element_wise(pa.array(city), pa.array(town), "")
    return pa.array(prefix), address1, address2
