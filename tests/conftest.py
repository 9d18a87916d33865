"""Shared fixtures. Integration tests run the real CLI in subprocesses with their own state dir and HOME."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from yolo_mlops.configuration.process_env import configure_process_env

# One state dir for the session, shared by the CLI subprocesses and this process: the test process itself
# imports mlflow, zenml and ultralytics (to read runs, load weights, run the gate in-process), and points
# their config and caches there first, as the CLI does, so that nothing lands in $HOME.
SESSION_STATE = Path(tempfile.mkdtemp(prefix="yolo-mlops-tests-"))
os.environ["YOLO_MLOPS_STATE_DIR"] = str(SESSION_STATE)
configure_process_env(SESSION_STATE)

REPO = Path(__file__).resolve().parents[1]
NO_NETWORK = REPO / "tests" / "support" / "no_network"
CLI = [sys.executable, "-m", "yolo_mlops.cli"]


def cli_env(state_dir: Path, home: Path, network_log: Path, **extra: str) -> dict[str, str]:
    """An environment like a fresh user's: empty HOME, own state dir, network attempts logged and refused."""
    # The outer CI=true (as .ci/run has it) would change what `stack up` and the preflight do: tests set it themselves.
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith(("MLFLOW_", "ZENML_", "YOLO_", "CI_"))}
    env.update(
        HOME=str(home),
        YOLO_MLOPS_STATE_DIR=str(state_dir),
        PYTHONPATH=str(NO_NETWORK),
        NETWORK_ATTEMPTS_LOG=str(network_log),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
TRAINING_STARTED = "Step train_yolo has started"


def plain(text: str) -> str:
    """Output without terminal colour codes (ZenML colours step names)."""
    return _ANSI.sub("", text)


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def sandbox(tmp_path: Path) -> dict:
    """A project folder, an empty HOME and a state dir, for one CLI invocation or a few."""
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    return {
        "project": project,
        "home": home,
        "network_log": tmp_path / "network.log",
        "env": cli_env(tmp_path / "state", home, tmp_path / "network.log"),
    }


CAMPAIGN = "test-campaign"
TINY_BASELINE = "train:\n  epochs: 2\n  imgsz: 64\n  batch: 8\n  nbs: 8\n  seed: 0\n  device: cpu\n"
TINY_GRID = "base: baseline.yaml\ngrid:\n  imgsz: [64, 96]\n"


@pytest.fixture(scope="session")
def tiny_campaign(tmp_path_factory) -> dict:
    """A real campaign on the session state: a tiny dataset, the baseline and a 2-cell grid run as two
    CI-style shards through the CLI (baseline: 2 epochs at 64 px; grid: imgsz 64 and 96)."""
    root = tmp_path_factory.mktemp("campaign")
    project, home = root / "project", root / "home"
    for folder in (project / "configs", home):
        folder.mkdir(parents=True)
    (project / "configs" / "baseline.yaml").write_text(TINY_BASELINE)
    (project / "configs" / "grid.yaml").write_text(TINY_GRID)
    for name in ("gate.yaml", "registry.yaml"):
        (project / "configs" / name).write_text((REPO / "configs" / name).read_text())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "feature-x"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "configs"], cwd=project, check=True)
    network_log = root / "network.log"
    env = cli_env(SESSION_STATE, home, network_log, YOLO_MLOPS_CAMPAIGN=CAMPAIGN)
    synth = ["data", "synth", "--out", "data", "--train", "16", "--val", "8", "--size", "64"]
    results = {
        "synth": run_cli(synth, project, env),
        "baseline": run_cli(["train", "baseline", "--config", "configs/baseline.yaml"], project, env),
        "shard1": run_cli(["train", "grid", "--config", "configs/grid.yaml", "--cell", "1/2"], project, env),
        "shard2": run_cli(["train", "grid", "--config", "configs/grid.yaml", "--cell", "2/2"], project, env),
    }
    for name, result in results.items():
        assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    return {
        "project": project,
        "home": home,
        "state": SESSION_STATE,
        "env": env,
        "network_log": network_log,
        "results": results,
        "commit": commit,
    }
