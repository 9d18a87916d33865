"""Shared fixtures. Integration tests run the real CLI in subprocesses with their own state dir and HOME."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from yolo_mlops.adapters.process_env import configure_process_env

# The test process itself imports mlflow and ultralytics (to read runs, load weights): point their config
# and caches into a scratch dir first, as the CLI does, so that nothing lands in $HOME.
configure_process_env(Path(tempfile.mkdtemp(prefix="yolo-mlops-tests-")))

REPO = Path(__file__).resolve().parents[1]
NO_NETWORK = REPO / "tests" / "support" / "no_network"
CLI = [sys.executable, "-m", "yolo_mlops.cli"]


def cli_env(state_dir: Path, home: Path, network_log: Path, **extra: str) -> dict[str, str]:
    """An environment like a fresh user's: empty HOME, own state dir, network attempts logged and refused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ZENML_", "YOLO_", "CI_"))}
    env.update(
        HOME=str(home),
        YOLO_MLOPS_STATE_DIR=str(state_dir),
        PYTHONPATH=str(NO_NETWORK),
        NETWORK_ATTEMPTS_LOG=str(network_log),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


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
