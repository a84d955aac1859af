"""Renders docs/analyses.md from the template registry, so the catalogue and its
documentation never drift.

Regenerate with `tokui analyze docs --output docs/analyses.md` (or
`python -m tokui.analytics.docs > docs/analyses.md`); a test fails when the file is stale.
"""

from __future__ import annotations

from tokui.analytics.registry import CATEGORIES, Param, Template, templates
from tokui.warehouse.backends import COMPILE_ONLY_BACKENDS, RUNTIME_BACKENDS

INTRO = """\
# Analysis templates / 分析テンプレート

Generated from the registry (`tokui.analytics.registry`) by `tokui analyze docs`; do not
edit by hand. {count} templates in {categories} categories. Run one with
`tokui analyze run ID --param key=value --format table|csv|xlsx [--output FILE]`, or
from the web page.

Conventions / 約束事:
- Every template is an Ibis expression. It gives the same rows on
  {runtime}
  (tests/analytics/test_all_templates_run.py, tests/backends) and hand-computed results
  on a hand-made shop (tests/analytics/test_*.py). Its SQL for {compiled} is only
  compiled and snapshot-tested (docs/backends.md). A backend that cannot run a
  template is named in its `unsupported` field (tokui.analytics.capabilities) and in
  the last column below. すべてのテンプレートは次のエンジンで同じ結果になることを
  テストしています: {runtime} ({compiled} はSQL生成のみ)。
- Purchases are completed orders of known customers; dates are shop-local (JST). The
  reference date `as_of` defaults to the last order date. 購入は完了した受注、日付は日本時間。
- Rates are rounded half up to 4 decimals (amounts per customer to whole yen) with the
  same arithmetic on every engine, and are empty when the denominator is 0.
  率は小数4桁 (四捨五入)、分母が0のときは空欄。
- Medians and quartiles interpolate linearly between the two middle values (as
  PostgreSQL `percentile_cont` and DuckDB `quantile_cont`). 中央値は線形補間。
- Row order: each template orders by ids, codes, numbers or dates; where it orders by
  text (a category or prefecture name), rows are sorted by Unicode code point after
  fetching, never by the database collation. Ties inside a ranking (e.g. two categories
  with the same amount competing to be an order's main category) are broken by the
  text in the database's collation: identical on DuckDB and on PostgreSQL with the C
  collation, and possibly different under a ja_JP collation, only for exact ties.
  並び順はID・コード・数値・日付、または取得後のコードポイント順 (照合順序に依存しない)。
- Exports: CSV is UTF-8 with a byte-order mark (BOM), so Excel on Japanese Windows opens
  it without garbling Japanese text; xlsx is written with openpyxl.
  CSVはBOM付きUTF-8 (Excelで文字化けしない)。
- Parameter kinds: `date` (YYYY-MM-DD), `int`, `float`, `choice` (one of the listed
  values), `int_list` (comma-separated, strictly increasing). An unknown or malformed
  parameter is an error naming it; nothing runs.
"""


def _param(p: Param) -> str:
    default = p.default
    if isinstance(default, tuple):
        default = ",".join(str(v) for v in default)
    text = f"`{p.name}`"
    if default is not None:
        text += f"={default}"
    if p.choices:
        text += f" ({'/'.join(p.choices)})"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(t: Template) -> str:
    params = ", ".join(_param(p) for p in t.params) or "-"
    backends = "all"
    if t.unsupported:
        backends += " but " + "; ".join(f"{b} ({why})" for b, why in t.unsupported.items())
    cells = (
        f"`{t.id}`",
        t.name_ja,
        t.name_en,
        params,
        f"{t.description_ja}<br>{t.description_en}",
        backends,
    )
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render() -> str:
    found = templates()
    used = [c for c in CATEGORIES if any(t.category == c for t in found)]
    parts = [
        INTRO.format(
            count=len(found),
            categories=len(used),
            runtime=", ".join(RUNTIME_BACKENDS),
            compiled=" and ".join(COMPILE_ONLY_BACKENDS),
        )
    ]
    for key in used:
        ja, en = CATEGORIES[key]
        group = [t for t in found if t.category == key]
        parts.append(f"\n## {ja} / {en} (`{key}`, {len(group)})\n\n")
        parts.append("| id | 名称 | name | parameters | definition | backends |\n")
        parts.append("|---|---|---|---|---|---|\n")
        parts.extend(_row(t) + "\n" for t in group)
    return "".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
