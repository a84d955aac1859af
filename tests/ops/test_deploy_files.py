"""docs/deploy.md shows the example files of deploy/ inline; they must not drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["systemd/tokui-worker@.service", "nginx/tokui.conf"])
def test_the_doc_shows_the_file_as_it_is(name: str) -> None:
    text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
    assert text in DOC


def test_the_web_unit_differs_from_the_worker_unit_as_the_doc_says() -> None:
    web = (ROOT / "deploy" / "systemd" / "tokui-web@.service").read_text(encoding="utf-8")
    for line in (
        "Description=Tokui web app on port %i",
        "ExecStart=/opt/tokui/venv/bin/tokui serve --host 127.0.0.1 --port %i --no-delivery",
        "Restart=on-failure",
        "TimeoutStopSec=30",
    ):
        assert line in web.splitlines()
        assert f"`{line}`" in " ".join(DOC.split())
