"""The real service stack as native processes: MariaDB + SeaweedFS (S3) + MLflow server with basic auth +
ZenML server, reached with a real service-account API key. Started once for the module on free ports
with freshly generated credentials, by the CLI (`stack up --native`), and stopped at the end.

Every command the CI jobs would run goes through the CLI in a subprocess whose environment holds only
what a CI job gets: the server URLs, the credentials and the API key.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.conftest import CLI, NO_NETWORK, REPO, TINY_BASELINE, TINY_GRID, TRAINING_STARTED, plain, run_cli

pytestmark = pytest.mark.integration

CAMPAIGN = "stack-campaign"
TRAINER_CAMPAIGN = "trainer-campaign"


def free_port_block(width: int = 5) -> int:
    """A port P with P..P+width free (SeaweedFS uses a few beside its S3 port, and +10000 for gRPC)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + width + 10000 > 65535:
            continue
        ports = [*range(base, base + width), *range(base + 10000, base + 10000 + width)]
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("no free port block")


def free_stack_ports() -> dict[str, str]:
    """Free ports for one stack (S3 with the block SeaweedFS uses beside it)."""
    return {
        "S3_PORT": str(free_port_block()),
        "MYSQL_PORT": str(free_port_block(1)),
        "MLFLOW_PORT": str(free_port_block(1)),
        "ZENML_PORT": str(free_port_block(1)),
    }


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def token() -> str:
    return secrets.token_hex(12)


def env_file_values(state, name: str) -> dict[str, str]:
    """A file `stack up` wrote under <state>/stack (empty when it is missing: `up` failed)."""
    path = state / "stack" / name
    return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.is_file() else {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("stack")
    state, home, project = root / "state", root / "home", root / "project"
    for folder in (home, project / "configs"):
        folder.mkdir(parents=True)
    values = {
        **free_stack_ports(),
        "MINIO_ROOT_USER": f"s3user{token()}",
        "MINIO_ROOT_PASSWORD": token(),
        "MLFLOW_DB_NAME": "mlflow",
        "MLFLOW_DB_USER": "mlflowdb",
        "MLFLOW_DB_PASSWORD": token(),
        "ZENML_DB_NAME": "zenml",
        "ZENML_DB_USER": "zenmldb",
        "ZENML_DB_PASSWORD": token(),
        "MLFLOW_TRACKING_USERNAME": "mlflowadmin",
        "MLFLOW_TRACKING_PASSWORD": token(),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": token(),
        "ZENML_SERVER_JWT_SECRET_KEY": token() + token(),
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY": token() + token(),
        "ZENML_ADMIN_USERNAME": "zenmladmin",
        "ZENML_ADMIN_PASSWORD": token(),
    }
    env_file = root / "stack.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    base_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "YOLO_MLOPS_STATE_DIR": str(state),
        "PYTHONPATH": str(NO_NETWORK),
        "NETWORK_ATTEMPTS_LOG": str(root / "network.log"),
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    up = subprocess.run(
        [*CLI, "stack", "up", "--native", "--env-file", str(env_file)],
        cwd=project,
        env=base_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    up_seconds = time.monotonic() - started
    ci_env = {**base_env, **env_file_values(state, "client.env"), "YOLO_MLOPS_CAMPAIGN": CAMPAIGN}
    trainer_env = {**base_env, **env_file_values(state, "trainer.env"), "YOLO_MLOPS_CAMPAIGN": TRAINER_CAMPAIGN}
    yield {
        "root": root,
        "state": state,
        "home": home,
        "project": project,
        "values": values,
        "env_file": env_file,
        "base_env": base_env,
        "ci_env": ci_env,
        "trainer_env": trainer_env,
        "up": up,
        "up_seconds": up_seconds,
        "outputs": [up.stdout, up.stderr],
    }
    subprocess.run([*CLI, "stack", "down", "--env-file", str(env_file)], cwd=project, env=base_env, timeout=120)


def cli(stack: dict, args: list[str], env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    result = run_cli(args, stack["project"], env or stack["ci_env"], timeout=timeout)
    stack["outputs"] += [result.stdout, result.stderr]
    return result


def test_stack_comes_up_and_writes_client_variables(stack):
    up = stack["up"]
    assert up.returncode == 0, up.stdout + up.stderr
    assert "stack up as native processes" in up.stdout
    for name in ("client.env", "trainer.env"):
        assert oct((stack["state"] / "stack" / name).stat().st_mode & 0o777) == "0o600"
    promoter, trainer = stack["ci_env"], stack["trainer_env"]
    assert promoter["MLFLOW_TRACKING_USERNAME"] == "yolo-mlops-promoter"
    assert trainer["MLFLOW_TRACKING_USERNAME"] == "yolo-mlops-trainer"
    for name in ("MLFLOW_TRACKING_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ZENML_STORE_API_KEY"):
        assert promoter[name] != trainer[name], f"{name}: the trainer has the promoter's"
    assert promoter["ZENML_STORE_API_KEY"].startswith("ZENKEY_")
    print(f"native stack up from nothing in {stack['up_seconds']:.1f} s")


def test_status_preflight_passes_with_ci_variables_only(stack):
    status = cli(stack, ["stack", "status", "--shared"])
    assert status.returncode == 0, status.stdout + status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        ["ok", "variables:"],
        ["ok", "credentials:"],
        ["ok", "s3:"],
        ["ok", "mlflow:"],
        ["ok", "zenml:"],
    ]


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"ZENML_STORE_API_KEY": "ZENKEY_not-a-key"}, "FAIL zenml: "),
        ({"MLFLOW_TRACKING_PASSWORD": "wrong-password"}, "refused MLFLOW_TRACKING_USERNAME/PASSWORD (HTTP 401)"),
        ({"AWS_SECRET_ACCESS_KEY": "wrong"}, "FAIL s3: "),
        ({"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}, "FAIL mlflow: http://127.0.0.1:9 unreachable"),
        ({"ZENML_STORE_URL": ""}, "FAIL variables: ZENML_STORE_URL is not set"),
        (
            {"CI": "true", "MLFLOW_TRACKING_PASSWORD": "local-only-change-me"},
            "FAIL credentials: MLFLOW_TRACKING_PASSWORD",
        ),
    ],
)
def test_status_names_what_is_wrong(stack, change, failing):
    status = cli(stack, ["stack", "status", "--shared"], {**stack["ci_env"], **change})
    assert status.returncode == 1
    assert failing in status.stdout, status.stdout


def test_register_stack_with_the_api_key_is_idempotent(stack):
    first = cli(stack, ["zenml", "register-stack"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created stack yolo-mlops" in first.stdout
    second = cli(stack, ["zenml", "register-stack"])
    assert second.returncode == 0 and "nothing changed" in second.stdout


def test_register_stack_without_the_key_says_which_variable(stack):
    env = {k: v for k, v in stack["ci_env"].items() if k != "ZENML_STORE_API_KEY"}
    result = cli(stack, ["zenml", "register-stack"], env)
    assert result.returncode == 2 and "ZENML_STORE_API_KEY is not set" in result.stderr


def test_dvc_push_and_pull_through_s3(stack, tmp_path):
    work = tmp_path / "repo"
    work.mkdir()
    env = {**stack["ci_env"], "DVC_NO_ANALYTICS": "1"}
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    (work / ".dvc").mkdir()
    shutil.copy(REPO / ".dvc" / "config", work / ".dvc" / "config")
    shutil.copy(REPO / ".dvcignore", work / ".dvcignore")
    assert (
        run_cli(["data", "synth", "--out", "data", "--train", "8", "--val", "4", "--size", "64"], work, env).returncode
        == 0
    )
    subprocess.run([*dvc, "add", "-q", "data"], cwd=work, env=env, check=True)
    endpoint = stack["ci_env"]["MLFLOW_S3_ENDPOINT_URL"]
    subprocess.run([*dvc, "remote", "modify", "--local", "s3", "endpointurl", endpoint], cwd=work, env=env, check=True)
    subprocess.run([*dvc, "push", "-q", "-r", "s3"], cwd=work, env=env, check=True)
    shutil.rmtree(work / "data")
    shutil.rmtree(work / ".dvc" / "cache")
    subprocess.run([*dvc, "pull", "-q", "-r", "s3"], cwd=work, env=env, check=True)
    assert len(list((work / "data" / "images" / "train").glob("*.png"))) == 8
    assert s3_keys(stack, "dvc")


def s3(env: dict, access_key: str, secret_key: str):
    return boto3.client(
        "s3",
        endpoint_url=env["MLFLOW_S3_ENDPOINT_URL"],
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
    )


def s3_keys(stack: dict, bucket: str) -> list[str]:
    """The objects in a bucket, listed as the stack's operator (each identity sees only its own buckets)."""
    client = s3(stack["ci_env"], stack["values"]["MINIO_ROOT_USER"], stack["values"]["MINIO_ROOT_PASSWORD"])
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


# ---- two identities: the trainer (merge requests, branches) and the promoter --------------------------
# Placed before the promoter's campaign: with no champion yet, the trainer's gate would register a first model.


def test_preflight_passes_with_the_trainers_variables_and_an_unpadded_api_key(stack):
    key = stack["trainer_env"]["ZENML_STORE_API_KEY"]
    assert key.endswith("="), "ZenML keys are padded base64: the case GitLab cannot mask"
    env = {**stack["trainer_env"], "ZENML_STORE_API_KEY": key.rstrip("=")}
    status = cli(stack, ["stack", "status", "--shared"], env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "ok   zenml: " in status.stdout and "API key accepted" in status.stdout
    assert "buckets zenml, dvc present" in status.stdout


def test_trainer_logs_runs_but_may_not_register_move_aliases_or_write_data(stack):
    env = stack["trainer_env"]
    client = mlflow_client(env)
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    run = client.create_run(experiment.experiment_id, tags={"campaign": "trainer-permissions"})
    client.log_metric(run.info.run_id, "mAP50", 0.5)
    client.set_terminated(run.info.run_id)
    refused = [
        lambda: client.create_model_version("yolo_tiny_person", f"{run.info.artifact_uri}/weights", run.info.run_id),
        lambda: client.set_registered_model_alias("yolo_tiny_person", "staging", "1"),
        lambda: client.set_registered_model_tag("yolo_tiny_person", "ledger.0", "{}"),
    ]
    for call in refused:
        with pytest.raises(MlflowException) as caught:
            call()
        assert caught.value.get_http_status_code() == 403
    trainer_s3 = s3(env, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    trainer_s3.put_object(Bucket="zenml", Key="trainer-check", Body=b"ok")
    with pytest.raises(ClientError, match="AccessDenied"):
        trainer_s3.put_object(Bucket="dvc", Key="trainer-check", Body=b"no")
    promoter = stack["ci_env"]
    s3(promoter, promoter["AWS_ACCESS_KEY_ID"], promoter["AWS_SECRET_ACCESS_KEY"]).put_object(
        Bucket="dvc", Key="promoter-check", Body=b"ok"
    )


def test_trainer_trains_and_dry_runs_the_gate_but_a_real_gate_could_not_decide(stack):
    """The merge-request flow with the trainer's variables only: the ZenML stack registered with them
    (ZenML's tracker logs with the credentials in its secret), a pipeline, the gate as a dry run; the
    gate that would register the winner is refused by MLflow and says so in one line, exit 4."""
    project, env = stack["project"], stack["trainer_env"]
    write_project(project)
    (project / "configs" / "grid-one.yaml").write_text("base: baseline.yaml\ngrid:\n  imgsz: [64]\n")
    steps = {
        "register": ["zenml", "register-stack"],
        "synth": ["data", "synth", "--out", "data", "--train", "16", "--val", "8", "--size", "64"],
        "baseline": ["train", "baseline", "--config", "configs/baseline.yaml"],
        "grid": ["train", "grid", "--config", "configs/grid-one.yaml", "--cell", "1/1"],
    }
    for name, args in steps.items():
        result = cli(stack, args, env)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    gate = ["gate", "--baseline", "configs/baseline.yaml", "--grid", "configs/grid-one.yaml"]
    dry = cli(stack, [*gate, "--dry-run"], env)
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert "gate: first_model" in dry.stdout
    real = cli(stack, gate, env)
    assert real.returncode == 4, real.stdout[-3000:] + real.stderr[-3000:]
    (line,) = [line for line in real.stdout.splitlines() if line.startswith("gate: ")]
    assert line.startswith("gate: no_decision — could not decide: MLflow at ")
    assert "registering the model version failed" in line and "Permission denied" in line, line
    assert "Traceback" not in real.stdout + real.stderr
    client = mlflow_client(stack["ci_env"])
    assert client.search_model_versions("name = 'yolo_tiny_person'") == []  # nothing half-registered
    (trained,) = client.search_runs(
        [client.get_experiment_by_name("cv_yolo_tiny").experiment_id],
        f"tags.campaign = '{TRAINER_CAMPAIGN}' and tags.pipeline = 'baseline'",
    )
    assert trained.info.status == "FINISHED"


def write_project(project) -> None:
    """The tiny configs and a git repository; a gate with floors of 0, because the tiny models score ~0 and
    these tests are about what the gate may do, not about the policy."""
    (project / "configs" / "baseline.yaml").write_text(TINY_BASELINE)
    (project / "configs" / "grid.yaml").write_text(TINY_GRID)
    (project / "configs" / "registry.yaml").write_text((REPO / "configs" / "registry.yaml").read_text())
    (project / "configs" / "gate.yaml").write_text(
        "gate:\n  floors: {mAP50: 0.0}\n  min_improvement: {absolute: 0.0}\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)


@pytest.fixture(scope="module")
def server_campaign(stack) -> dict:
    """The tiny baseline and a 2-cell grid (two shards), then the gate, all against the servers."""
    write_project(stack["project"])
    assert cli(stack, ["zenml", "register-stack"]).returncode == 0
    results = {
        "synth": cli(stack, ["data", "synth", "--out", "data", "--train", "16", "--val", "8", "--size", "64"]),
        "baseline": cli(stack, ["train", "baseline", "--config", "configs/baseline.yaml"]),
        "shard1": cli(stack, ["train", "grid", "--config", "configs/grid.yaml", "--cell", "1/2"]),
        "shard2": cli(stack, ["train", "grid", "--config", "configs/grid.yaml", "--cell", "2/2"]),
    }
    results["gate"] = cli(stack, ["gate", "--baseline", "configs/baseline.yaml", "--grid", "configs/grid.yaml"])
    return results


def mlflow_client(env: dict) -> MlflowClient:
    """A client with these variables' MLflow credentials (MLflow reads them from the environment)."""
    os.environ["MLFLOW_TRACKING_USERNAME"] = env["MLFLOW_TRACKING_USERNAME"]
    os.environ["MLFLOW_TRACKING_PASSWORD"] = env["MLFLOW_TRACKING_PASSWORD"]
    return MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"], registry_uri=env["MLFLOW_TRACKING_URI"])


def test_pipelines_and_gate_run_against_the_servers(stack, server_campaign):
    for name, result in server_campaign.items():
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "gate: first_model" in server_campaign["gate"].stdout
    client = mlflow_client(stack["ci_env"])
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    runs = client.search_runs([experiment.experiment_id], f"tags.campaign = '{CAMPAIGN}'")
    assert sorted(r.data.tags["pipeline"] for r in runs) == ["baseline", "grid", "grid"]
    assert client.get_model_version_by_alias("yolo_tiny_person", "staging").version == "1"
    assert any(k.endswith("best.pt") for k in s3_keys(stack, "mlflow"))  # artifacts proxied into S3
    assert s3_keys(stack, "zenml")  # ZenML's artifact store on S3


def test_pipeline_runs_belong_to_the_service_account(stack, server_campaign):
    env = stack["ci_env"]
    url = env["ZENML_STORE_URL"]
    form = urllib.parse.urlencode({"grant_type": "zenml-api-key", "password": env["ZENML_STORE_API_KEY"]}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/v1/login", data=form)) as response:
        access = json.load(response)["access_token"]
    request = urllib.request.Request(
        f"{url}/api/v1/runs?size=50&hydrate=true", headers={"Authorization": f"Bearer {access}"}
    )
    with urllib.request.urlopen(request) as response:
        runs = json.load(response)["items"]
    mine = [r for r in runs if CAMPAIGN in r["name"]]
    assert len(mine) == 3
    assert {r["resources"]["user"]["name"] for r in mine} == {"yolo-mlops-ci"}
    assert {r["body"]["status"] for r in mine} == {"completed"}


def test_mlflow_killed_mid_pipeline_fails_clearly_and_resumes_from_cache(stack, server_campaign):
    """MLflow dies after training, while the pipeline is evaluating: the run fails naming the cause,
    nothing is registered, and once `stack up` restarted MLflow the re-run reuses the trained step."""
    config = stack["project"] / "configs" / "kill.yaml"
    config.write_text(TINY_BASELINE.replace("seed: 0", "seed: 7"))  # a config nothing has trained yet
    env = {**stack["ci_env"], "YOLO_MLOPS_CAMPAIGN": "mid-kill", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    command = [*CLI, "train", "baseline", "--config", str(config)]
    process = subprocess.Popen(
        command, cwd=stack["project"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output, killed = [], False
    for line in process.stdout:
        output.append(line)
        if not killed and "Step evaluate_model has started" in plain(line):
            os.killpg(int((stack["state"] / "stack" / "mlflow" / "pid").read_text()), signal.SIGKILL)
            killed = True
    failed_output = "".join(output)
    stack["outputs"].append(failed_output)
    assert process.wait(timeout=600) == 1 and killed, failed_output[-3000:]
    assert "error: pipeline run baseline-mid-kill-" in failed_output and "failed" in failed_output
    assert f"127.0.0.1:{stack['values']['MLFLOW_PORT']}" in failed_output  # the step's log names the server
    assert "Traceback" not in failed_output.split("error: pipeline run")[-1]

    # MLflow is down, ZenML up: the gate and the manual moves could not decide, in one line naming MLflow,
    # within a bounded time (YOLO_MLOPS_SERVER_TIMEOUT_S), and move nothing (checked once it is back).
    mlflow_address = f"127.0.0.1:{stack['values']['MLFLOW_PORT']}"
    for args in (
        ["gate", "--campaign", "mid-kill", "--out", str(stack["project"] / "gate-down")],
        ["promote", "--from", "staging", "--to", "production"],
        ["rollback", "--alias", "staging"],
    ):
        started = time.monotonic()
        down = cli(stack, args, {**env, "YOLO_MLOPS_SERVER_TIMEOUT_S": "10"}, timeout=300)
        said = down.stdout + down.stderr
        assert down.returncode == 4, said[-3000:]
        assert mlflow_address in said and "Traceback" not in said, said[-3000:]
        assert time.monotonic() - started < 120, args  # a hang detector, not a timing target (bench/)

    up = subprocess.run(
        [*CLI, "stack", "up", "--native", "--env-file", str(stack["env_file"])],
        cwd=stack["project"],
        env=stack["base_env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    client = mlflow_client(stack["ci_env"])
    assert len(client.search_model_versions("name = 'yolo_tiny_person'")) == 1  # nothing half-registered
    assert client.get_model_version_by_alias("yolo_tiny_person", "staging").version == "1"
    with pytest.raises(MlflowException):  # the promote above, made while MLflow was down, moved nothing
        client.get_model_version_by_alias("yolo_tiny_person", "production")
    rerun = cli(stack, ["train", "baseline", "--config", str(config)], env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert TRAINING_STARTED in plain(failed_output)
    assert TRAINING_STARTED not in plain(rerun.stdout + rerun.stderr)  # the trained step, from cache
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    runs = client.search_runs([experiment.experiment_id], "tags.campaign = 'mid-kill'")
    # The failed pipeline's training run holds the weights but no final metrics (its summary never ran);
    # the re-run's summary run carries them, pointing at it.
    (summary,) = [r for r in runs if "source_run_id" in r.data.tags]
    (trained,) = [r for r in runs if r is not summary]
    assert summary.info.status == "FINISHED" and summary.data.tags["cached"] == "true"
    assert summary.data.tags["source_run_id"] == trained.info.run_id and "mAP50" not in trained.data.metrics


def test_port_taken_is_named(stack, tmp_path):
    ports = free_stack_ports()
    values = {**stack["values"], **ports}
    env_file = tmp_path / "taken.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env = {**stack["base_env"], "YOLO_MLOPS_STATE_DIR": str(tmp_path / "state")}
    up = [*CLI, "stack", "up", "--native", "--env-file", str(env_file)]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(ports["MLFLOW_PORT"])))
        squatter.listen()
        result = subprocess.run(up, cwd=stack["project"], env=env, capture_output=True, text=True, timeout=300)
    down = subprocess.run(
        [*CLI, "stack", "down", "--env-file", str(env_file)],
        cwd=stack["project"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"mlflow: port {ports['MLFLOW_PORT']} on 127.0.0.1 is already taken" in result.stderr
    assert "MLFLOW_PORT" in result.stderr
    assert "database" in down.stdout and "s3" in down.stdout  # what did start is stopped again


def test_no_credential_in_any_log_or_report(stack, server_campaign):
    secret_values = [v for k, v in stack["values"].items() if k.endswith(("PASSWORD", "SECRET_KEY"))]
    secret_values += [stack[env]["ZENML_STORE_API_KEY"] for env in ("ci_env", "trainer_env")]
    secret_values += env_file_values(stack["state"], "identities.env").values()
    written = [
        p
        for p in stack["state"].rglob("*")
        if p.is_file() and p.suffix in (".log", ".json", ".md", ".txt", ".xml", ".env")
    ]
    # The files meant to hold credentials: each identity's variables, their generated credentials, the S3
    # server's identities.
    stores = [p for p in written if p.name in ("client.env", "trainer.env", "identities.env", "identities.json")]
    assert len(stores) == 4 and all(p.stat().st_mode & 0o077 == 0 for p in stores), "credential files not 0600"
    written = [p for p in written if p not in stores]
    assert written
    for path in written:
        text = path.read_text(errors="replace")
        for secret in secret_values:
            assert secret not in text, f"a credential appears in {path}"
    for output in stack["outputs"]:
        for secret in secret_values:
            assert secret not in output, "a credential appears in a command's output"


def test_a_service_that_dies_while_starting_is_named_with_its_log(stack, tmp_path):
    """A database server that exits at once (a broken install): `stack up` names it and shows its log."""
    broken = tmp_path / "bin"
    broken.mkdir()
    server = broken / "mariadbd"
    server.write_text(
        "#!/bin/sh\necho 'mariadbd: cannot open the data directory (simulated broken install)' >&2\nexit 1\n"
    )
    server.chmod(0o755)
    ports = free_stack_ports()
    env_file = tmp_path / "broken.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in {**stack["values"], **ports}.items()))
    env = {
        **stack["base_env"],
        "YOLO_MLOPS_STATE_DIR": str(tmp_path / "state"),
        "PATH": f"{broken}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [*CLI, "stack", "up", "--native", "--env-file", str(env_file)],
        cwd=stack["project"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    subprocess.run([*CLI, "stack", "down", "--env-file", str(env_file)], cwd=stack["project"], env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: database exited while starting; last lines of its log:" in result.stderr
    assert "cannot open the data directory (simulated broken install)" in result.stderr
    assert "Traceback" not in result.stderr
