"""The service stack's settings (the variables of .env / .env.example), parsed and checked (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from yolo_mlops.core.errors import ConfigError

LOCAL_ONLY_PREFIX = "local-only-"
# Used inside connection URIs and SQL statements, so kept to characters that need no quoting.
_SAFE = re.compile(r"^[A-Za-z0-9._~-]+$")

CREDENTIALS = (
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MLFLOW_DB_PASSWORD",
    "ZENML_DB_PASSWORD",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_FLASK_SERVER_SECRET_KEY",
    "ZENML_SERVER_JWT_SECRET_KEY",
    "ZENML_SECRETS_STORE_ENCRYPTION_KEY",
    "ZENML_ADMIN_USERNAME",
    "ZENML_ADMIN_PASSWORD",
)
NAMES = ("MLFLOW_DB_NAME", "MLFLOW_DB_USER", "ZENML_DB_NAME", "ZENML_DB_USER")
PORTS = {"S3_PORT": 9000, "MYSQL_PORT": 3306, "MLFLOW_PORT": 5000, "ZENML_PORT": 8237}
BUCKETS = {"S3_BUCKET_MLFLOW": "mlflow", "S3_BUCKET_ZENML": "zenml", "S3_BUCKET_DVC": "dvc"}
PORTS_AS_TEXT = {k: str(v) for k, v in PORTS.items()}
# What every job needs to reach the servers (`stack up` writes them for a local stack).
CLIENT_VARIABLES = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ZENML_STORE_URL",
    "ZENML_STORE_API_KEY",
)
SERVER_URL_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_S3_ENDPOINT_URL", "ZENML_STORE_URL")
CI_LOCAL_STACK_OPT_IN = "YOLO_MLOPS_CI_LOCAL_STACK"


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def port(self, key: str) -> int:
        return int(self.values[key])

    @property
    def buckets(self) -> list[str]:
        return [self.values[k] for k in BUCKETS]

    @property
    def secrets(self) -> list[str]:
        """Every credential value: none of them may appear in a log or report."""
        return [self.values[k] for k in CREDENTIALS]

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self['S3_PORT']}"

    @property
    def mlflow_uri(self) -> str:
        return f"http://127.0.0.1:{self['MLFLOW_PORT']}"

    @property
    def zenml_url(self) -> str:
        return f"http://127.0.0.1:{self['ZENML_PORT']}"

    def client_env(self) -> dict[str, str]:
        """What pipelines, the gate and DVC need to use this stack (the README's environment contract)."""
        return {
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
            "MLFLOW_TRACKING_USERNAME": self["MLFLOW_TRACKING_USERNAME"],
            "MLFLOW_TRACKING_PASSWORD": self["MLFLOW_TRACKING_PASSWORD"],
            "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": self["MINIO_ROOT_USER"],
            "AWS_SECRET_ACCESS_KEY": self["MINIO_ROOT_PASSWORD"],
            "ZENML_STORE_URL": self.zenml_url,
        }


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; comments and blank lines ignored, optional quotes stripped."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def resolve_stack_config(file_values: Mapping[str, str], env: Mapping[str, str], source: str) -> StackConfig:
    """The environment overrides the file; every credential and name must be set and URI-safe."""
    values = {**PORTS_AS_TEXT, **BUCKETS, **file_values}
    values.update({k: v for k, v in env.items() if k in (*CREDENTIALS, *NAMES, *PORTS, *BUCKETS)})
    for key in (*CREDENTIALS, *NAMES):
        if not values.get(key):
            raise ConfigError(f"{key} is not set: add it to {source} or the environment (see .env.example).")
    for key in (*CREDENTIALS, *NAMES, *BUCKETS):
        if not _SAFE.match(values[key]):
            raise ConfigError(f"{key} in {source} may only hold A-Z a-z 0-9 . _ ~ - (it goes into URIs and SQL).")
    for key in PORTS:
        if not values[key].isdigit() or not 0 < int(values[key]) < 65536:
            raise ConfigError(f"{key}={values[key]!r} in {source} is not a TCP port.")
    if len(values["MLFLOW_TRACKING_PASSWORD"]) < 12:
        raise ConfigError(f"MLFLOW_TRACKING_PASSWORD in {source} must have at least 12 characters (MLflow's rule).")
    return StackConfig(values)


def local_defaults_in_use(values: Mapping[str, str]) -> list[str]:
    """Names of the variables (server side or client side) still holding a `local-only-` default."""
    names = (*CREDENTIALS, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    return [k for k in names if str(values.get(k, "")).startswith(LOCAL_ONLY_PREFIX)]


def ci_stack_up_refusal(env: Mapping[str, str]) -> str | None:
    """Why `stack up` must not start servers in this environment, or None when it may.

    In CI a stack started on the runner would run with .env.example's public credentials and outlive the
    job, and a job on another runner could not reach it: only the documented opt-in allows it."""
    if env.get("CI") != "true" or env.get(CI_LOCAL_STACK_OPT_IN) == "true":
        return None
    named = [k for k in SERVER_URL_VARIABLES if env.get(k)]
    if named:
        return (
            f"stack up refused in CI: {named[0]} names a server already; check the servers with "
            f"`yolo-mlops stack status --shared` (or set {CI_LOCAL_STACK_OPT_IN}=true to start a local stack)."
        )
    return (
        f"stack up refused in CI: no server is configured; set the CI/CD variables {', '.join(CLIENT_VARIABLES)} "
        f"to your servers, or {CI_LOCAL_STACK_OPT_IN}=true to start a local stack on this runner "
        "(a single shell runner or a local pipeline)."
    )
