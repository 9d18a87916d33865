"""The gate's report files, written from the rendered report (JSON, Markdown, JUnit, dotenv, ledger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from yolo_mlops.core.decision_report import render_dotenv, render_junit, render_markdown

REPORT_FILES = ("gate_report.json", "gate_report.md", "gate_junit.xml", "gate.env", "ledger.json")


def write_reports(report: dict[str, Any], ledger: list[dict[str, Any]] | None, out_dir: Path) -> list[Path]:
    """The report files; ledger.json only when the ledger was read (None: the registry was unreachable, and an
    empty file must not replace a real one from an earlier run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        "gate_report.json": json.dumps(report, indent=2) + "\n",
        "gate_report.md": render_markdown(report),
        "gate_junit.xml": render_junit(report),
        "gate.env": render_dotenv(report),
    }
    if ledger is not None:
        contents["ledger.json"] = json.dumps(ledger, indent=2) + "\n"
    for name, text in contents.items():
        (out_dir / name).write_text(text)
    return [out_dir / name for name in REPORT_FILES if name in contents]
