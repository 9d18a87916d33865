"""`yolo-mlops demo` through the CLI, at tiny sizes: the main campaign and its gate, then "the next push" (a
challenger config) and its gate, which weighs the new weights against Staging with the paired bootstrap
and prints the difference with its interval.

The demo runs on the session's tiny campaign project (its data and its baseline/grid configs, so the first
campaign's runs come from ZenML's cache); the challenger (imgsz 96 with another seed) trains for real.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.conftest import REPO, TINY_BASELINE, TINY_GRID, cli_env, run_cli

pytestmark = pytest.mark.integration

CHALLENGER = "base: baseline.yaml\ngrid:\n  imgsz: [96]\n  seed: [1]\n"
# Tiny models are far below the shipped floor: the policy here keeps everything else as shipped.
POLICY = (
    "gate:\n  floors: {mAP50: 0.0}\n  comparison: {confidence: 0.95, min_improvement: 0.0, resamples: 1000, seed: 0}\n"
)
INTERVAL = re.compile(r"[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] at 95 %: (promoted|.*: kept)")


def demo_configs(project, model: str) -> str:
    folder = project / f"demo-{model}"
    folder.mkdir()
    for name, text in {
        "baseline.yaml": TINY_BASELINE,
        "grid.yaml": TINY_GRID,
        "challenger.yaml": CHALLENGER,
        "gate.yaml": POLICY,
        "registry.yaml": f"registry:\n  model_name: {model}\n",
    }.items():
        (folder / name).write_text(text)
    return folder.name


def test_the_demo_gates_the_next_push_with_an_interval(tiny_campaign):
    project, model = tiny_campaign["project"], f"demo_{uuid.uuid4().hex[:8]}"
    configs, campaign = demo_configs(project, model), f"demo-{model}"
    env = {**tiny_campaign["env"], "YOLO_MLOPS_CAMPAIGN": campaign}
    args = ["demo", "--configs", configs, "--policy", f"{configs}/gate.yaml", "--registry", f"{configs}/registry.yaml"]
    result = run_cli(args, project, env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]

    first = json.loads((tiny_campaign["state"] / "campaigns" / campaign / "gate" / "gate_report.json").read_text())
    assert first["outcome"] == "first_model" and first["comparison"] is None
    assert f"demo leaderboard — campaign {campaign}" in result.stdout

    # The next push: its own campaign, one new run (the challenger trains; nothing of it is cached).
    next_campaign = f"{campaign}-next"
    assert f"the next push: {configs}/challenger.yaml" in result.stdout
    rows = json.loads((tiny_campaign["state"] / "campaigns" / next_campaign / "leaderboard.json").read_text())
    assert [(row["config"], row["cached"]) for row in rows] == [("grid 1/1", False)]

    second = json.loads(
        (tiny_campaign["state"] / "campaigns" / next_campaign / "gate" / "gate_report.json").read_text()
    )
    assert second["outcome"] in ("promote", "keep_champion"), second["reason"]
    summary = second["comparison"]["summary"]
    assert INTERVAL.fullmatch(summary), summary
    assert summary in result.stdout  # the verdict with its interval, as the user reads it
    assert (
        result.stdout.rstrip()
        .splitlines()[-1]
        .startswith(f"Use the Staging model: yolo-mlops predict --model models:/{model}@staging")
    )


def test_a_campaign_id_too_long_for_the_next_push_stops_before_training(tmp_path):
    env = cli_env(tmp_path / "state", tmp_path, tmp_path / "network.log", YOLO_MLOPS_CAMPAIGN="c" * 62)
    args = ["demo", "--configs", str(REPO / "configs" / "cpu"), "--data", str(tmp_path / "no-data")]
    result = run_cli(args, tmp_path, env, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the demo's second campaign" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "no-data").exists() and not (tmp_path / "state" / "campaigns").exists()
