"""Renders docs/data-model.md from the schema declaration, so the two never drift.

Regenerate with `python -m tokui.warehouse.docs > docs/data-model.md`; a test fails when
the file is stale.
"""

from __future__ import annotations

from tokui.warehouse.schema import TABLES

INTRO = """\
# Data model / データモデル

The canonical warehouse schema: every import profile maps a cart's export onto these
tables, and every analysis reads them. Generated from `src/tokui/warehouse/schema.py`
(`python -m tokui.warehouse.docs > docs/data-model.md`); do not edit by hand.

取込プロファイルはカートのエクスポートをこの標準スキーマに変換し、すべての分析はこの
テーブルを読みます。

Conventions / 約束事:
- Money is an integer amount in the shop's currency (JPY has no minor unit).
  金額は円の整数 (税込)。
- Timestamps (`*_at`) are UTC without a zone; dates (`*_on`, `birth_date`) are the shop's
  local calendar (Asia/Tokyo). 日時はUTC、日付は日本時間の暦日。
- Keys are text: cart ids are kept as the cart wrote them. IDは文字列のまま保持。
- Foreign keys are documented, not enforced: exports arrive in any order and real carts
  delete members. 外部キーは文書上のみ (強制しない)。
"""


def render() -> str:
    parts = [INTRO]
    for spec in TABLES.values():
        parts.append(f"\n## {spec.name}\n\n{spec.ja} / {spec.en}. ")
        parts.append(f"Primary key / 主キー: ({', '.join(spec.primary_key)})")
        if spec.foreign_keys:
            refs = ", ".join(f"{c} → {t}" for c, t in spec.foreign_keys.items())
            parts.append(f"; references / 参照: {refs}")
        parts.append(".\n\n")
        if spec.note:
            parts.append(f"{spec.note}\n\n")
        parts.append("| column | type | null | 意味 | meaning | values |\n")
        parts.append("|---|---|---|---|---|---|\n")
        for c in spec.columns:
            null = "yes" if c.nullable else "no"
            values = ", ".join(c.values)
            parts.append(f"| `{c.name}` | {c.dtype} | {null} | {c.ja} | {c.en} | {values} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
