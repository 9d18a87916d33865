"""The package layout the README promises: every package listed, no two modules share a stem, one definition
of the metrics."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "yolo_mlops"


def _packages() -> list[str]:
    return sorted(p.parent.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE)


def test_readme_lists_every_top_level_package():
    section = (REPO / "README.md").read_text().split("## Where things live", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^      (\w+)/", section, flags=re.M))
    top_level = {name.split("/")[0] for name in _packages()}
    assert listed == top_level


def test_no_two_modules_share_a_stem():
    stems = Counter(p.stem for p in PACKAGE.rglob("*.py") if p.stem not in ("__init__", "__main__"))
    assert [stem for stem, count in stems.items() if count > 1] == []


def test_long_modules_say_why():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > 320:
            docstring = text.split('"""', 2)[1]
            assert "Over 300 lines on purpose" in docstring, path.relative_to(REPO)


def test_metric_names_are_defined_once():
    defining = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if re.search(r'\(\s*"mAP50",\s*"mAP50_95",\s*"precision"', p.read_text())
        or re.search(r'"mAP50"\s*:\s*(HIGHER|"higher")', p.read_text())
        or 'Metric("mAP50"' in p.read_text()
    ]
    assert defining == ["core/metrics.py"]


def test_the_cli_starts_without_numpy():
    """Every command reads the gate policy; only a gate that compares models needs numpy (paired_bootstrap)."""
    probe = "import sys, yolo_mlops.cli.main, yolo_mlops.configuration.config_files; print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
