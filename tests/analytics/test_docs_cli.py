"""docs/analyses.md stays in step with the registry; the CLI lists, runs and exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.analytics.shop_attrs import load_attributes
from tests.analytics.shop_extra import load_extra
from tests.features.shop import load_shop
from tokui.analytics.docs import render
from tokui.analytics.registry import templates
from tokui.cli import app

DOCS = Path(__file__).parents[2] / "docs" / "analyses.md"
runner = CliRunner()


def test_docs_are_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "regenerate: tokui analyze docs --output docs/analyses.md"
    )


def test_docs_list_every_template_with_its_parameters() -> None:
    text = render()
    for t in templates():
        line = next(x for x in text.splitlines() if x.startswith(f"| `{t.id}` |"))
        assert t.name_ja in line and t.name_en in line
        for p in t.params:
            assert f"`{p.name}`" in line, (t.id, p.name)
    assert "`churn_days`=240" in text and "`amount`=70000" in text


def test_docs_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "a.md"
    r = runner.invoke(app, ["analyze", "docs", "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == render()


def test_list_one_per_line_id_first_and_filtered() -> None:
    r = runner.invoke(app, ["analyze", "list", "--category", "cpm"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert [x.split("\t")[0] for x in lines] == [t.id for t in templates("cpm")]
    assert lines[0].split("\t")[1:3] == ["cpm", "顧客ポートフォリオ分析 (CPM)"]
    r = runner.invoke(app, ["analyze", "list", "--format", "json", "--category", "gift"])
    assert [t["id"] for t in json.loads(r.stdout)] == [
        "gift_buyer_self_purchases",
        "gift_monthly",
        "seasonal_gift_buyers",
    ]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    from tokui.workspace import Workspace

    home = tmp_path / "ws"
    r = runner.invoke(
        app,
        ["init", "--home", str(home), "--admin-email", "a@example.com"],
        env={"TOKUI_ADMIN_PASSWORD": "long-enough-pw"},
    )
    assert r.exit_code == 0, r.output
    ws = Workspace.open(home)
    load_shop(ws.warehouse)
    load_extra(ws.warehouse)
    load_attributes(ws.warehouse)
    ws.close()
    return home


def _run(home: Path, *args: str) -> object:
    return runner.invoke(app, ["analyze", "run", *args, "--home", str(home)])


def test_run_csv_has_bom_and_japanese(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "pref.csv"
    r = _run(home, "sales_by_shipping_prefecture", "-p", "as_of=2025-12-31", "--format", "csv",
             "--output", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "shipping_prefecture,orders,customers,revenue,average_order_value,revenue_share"
    )
    assert lines[1] == "大阪府,2,1,17000,8500.0,0.2872"


def test_run_xlsx(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cpm.xlsx"
    r = _run(home, "cpm", "-p", "as_of=2025-12-31", "--format", "xlsx", "-o", str(out))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("group_order", "cpm_group", "cpm_status", "cpm_label")
    assert len(values) == 11
    assert [r[3] for r in values[1:] if r[4]] == [
        "初回現役客",
        "よちよち現役客",
        "よちよち離脱客",
        "コツコツ現役客",
    ]


def test_run_table_and_errors_name_the_parameter(home: Path) -> None:
    r = _run(home, "sales_by_channel", "-p", "as_of=2025-12-31")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "phone" in r.output  # type: ignore[attr-defined]
    for args, message in (
        (("rfm_transition_r", "-p", "from_date=2026-01-01", "-p", "as_of=2025-12-31"),
         "from_date: must be before the reference date"),
        (("cpm", "-p", "amount=lots"), "amount: 'lots' is not a valid int"),
        (("cpm", "-p", "colour=red"), "unknown parameter(s) colour"),
        (("cpm", "-p", "amount"), "expected key=value"),
        (("no_such",), "no analysis template 'no_such'"),
        (("cpm", "--format", "pdf"), "unknown format 'pdf'"),
        (("cpm", "--format", "xlsx"), "--format xlsx needs --output FILE"),
    ):  # fmt: skip
        r = _run(home, *args)
        assert r.exit_code == 1, args  # type: ignore[attr-defined]
        assert message in " ".join(r.output.split()), (args, r.output)  # type: ignore[attr-defined]
