"""`yolo-mlops stack up|down|status`: the server stack (MLflow, ZenML, S3, MySQL) and its preflight."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from yolo_mlops.cli.shared import DEFAULT_REGISTRY, Subcommands, settings_and_env
from yolo_mlops.configuration.config_files import RegistryConfig, load_registry
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.service_config import (
    IDENTITY_CREDENTIALS,
    PROMOTER,
    TRAINER,
    StackConfig,
    ci_stack_up_refusal,
    mlflow_username,
)
from yolo_mlops.services import compose, env_files


def cmd_stack_up(args: argparse.Namespace) -> int:
    refusal = ci_stack_up_refusal(os.environ)
    if refusal:
        raise UserError(refusal)
    settings = settings_and_env()
    config, source = env_files.load_stack_config(args.env_file)
    if source.endswith(".env.example"):
        print("using the local-only defaults of .env.example (copy it to .env to change them)")
    config = config.with_identities(env_files.identity_credentials(settings.state_dir))
    if not args.native and compose.docker_engine_answers():
        subprocess.run([*compose.compose_command(source), "up", "-d", "--wait"], check=True)
        print("stack up with docker compose (MinIO: both identities use its root keys, see the README)")
        config = config.with_root_s3_keys()
    else:
        from yolo_mlops.services.native import NativeStack, StackError

        try:
            timings = NativeStack(config, env_files.stack_dir(settings.state_dir)).up()
        except StackError as exc:
            raise UserError(str(exc)) from None
        print("stack up as native processes: " + ", ".join(f"{k} ready at {v} s" for k, v in timings.items()))
    _mlflow_identities(config, settings.experiment_name, _model_name(args.registry))
    for identity in (PROMOTER, TRAINER):
        path = env_files.client_env_file(settings.state_dir, identity)
        client = {**config.client_env(identity), "ZENML_STORE_API_KEY": _local_api_key(path, config, identity)}
        env_files.write_env_file(path, client)
        print(f"{identity}'s client variables (with secrets, mode 0600): {path}")
    print(f"  use them with: set -a; . {env_files.client_env_file(settings.state_dir)}; set +a")
    return 0


def _model_name(registry: Path | None) -> str:
    """The registered model the promoter manages: from --registry, else configs/registry.yaml where the
    project has one, else the default name."""
    path = registry or (DEFAULT_REGISTRY if DEFAULT_REGISTRY.is_file() else None)
    return (load_registry(path) if path else RegistryConfig()).model_name


def _mlflow_identities(config: StackConfig, experiment_name: str, model_name: str) -> None:
    """The trainer and promoter users, with EDIT on the experiment; MANAGE on the model for the promoter."""
    from yolo_mlops.adapters.mlflow_permissions import PermissionSetupError, ensure_identities

    users = {
        mlflow_username(identity): (config[IDENTITY_CREDENTIALS[identity][0]], identity == PROMOTER)
        for identity in (PROMOTER, TRAINER)
    }
    admin = (config["MLFLOW_TRACKING_USERNAME"], config["MLFLOW_TRACKING_PASSWORD"])
    try:
        ensure_identities(config.mlflow_uri, admin, experiment_name, model_name, users)
    except PermissionSetupError as exc:
        raise UserError(str(exc)) from None


def _local_api_key(env_file: Path, config: StackConfig, identity: str) -> str:
    """The local stack's API key of an identity's service account: the one kept in its env file from an earlier
    `up` while the server accepts it, else a new one from `zenml bootstrap` run as the local admin in a child
    process."""
    from yolo_mlops.services.preflight import zenml_api_key_status

    kept = env_files.read_env_file(env_file).get("ZENML_STORE_API_KEY")
    if kept and zenml_api_key_status(config.zenml_url, kept) == 200:
        return kept
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "key"
        env = {
            **os.environ,
            "ZENML_STORE_URL": config.zenml_url,
            "ZENML_STORE_USERNAME": config["ZENML_ADMIN_USERNAME"],
            "ZENML_STORE_PASSWORD": config["ZENML_ADMIN_PASSWORD"],
            "ZENML_CONFIG_PATH": str(Path(tmp) / "zenml-admin"),  # the admin's login stays out of the state dir
        }
        env.pop("ZENML_STORE_API_KEY", None)
        command = [sys.executable, "-m", "yolo_mlops.cli", "zenml", "bootstrap", "--rotate", "--identity", identity]
        subprocess.run([*command, "--output-file", str(key_file)], env=env, check=True, stdout=subprocess.DEVNULL)
        return key_file.read_text().strip()


def cmd_stack_down(args: argparse.Namespace) -> int:
    from yolo_mlops.services.native import NativeStack

    settings = settings_and_env()
    config, source = env_files.load_stack_config(args.env_file)
    stopped = NativeStack(config, env_files.stack_dir(settings.state_dir)).down()
    if stopped:
        print("stopped native services: " + ", ".join(stopped))
    elif not args.native and compose.docker_engine_answers():
        subprocess.run([*compose.compose_command(source), "down"], check=True)
        print("stack down with docker compose")
    else:
        print("nothing to stop: no native service of this state dir runs")
    return 0


def cmd_stack_status(args: argparse.Namespace) -> int:
    from yolo_mlops.services.preflight import preflight

    settings = settings_and_env()
    # Shared servers: the job's own variables only. A local stack: those `stack up` wrote, unless overridden.
    local = env_files.client_env_file(settings.state_dir, args.identity).is_file() and not args.shared
    env = {**os.environ, **env_files.load_client_env(settings.state_dir, args.identity)} if local else dict(os.environ)
    checks = preflight(env, local_stack=local)
    for check in checks:
        print(check)
    return 0 if all(c.ok for c in checks) else 1


def add_commands(groups: Subcommands) -> None:
    stack_group = groups.add_parser("stack", help="the service stack: MLflow, ZenML, S3, MySQL").add_subparsers(
        dest="command", required=True
    )
    commands = {}
    for name, func, text in (
        ("up", cmd_stack_up, "start the services (docker compose if a Docker engine answers, else native)"),
        ("down", cmd_stack_down, "stop exactly what `up` started"),
        ("status", cmd_stack_status, "preflight: each service reachable, credentials and API key accepted"),
    ):
        commands[name] = command = stack_group.add_parser(name, help=text)
        command.add_argument("--env-file", type=Path, help="stack settings (default: .env, else .env.example)")
        command.add_argument("--native", action="store_true", help="processes even where Docker answers")
        command.add_argument("--shared", action="store_true", help="servers shared by URL, not a local stack")
        command.set_defaults(func=func)
    commands["up"].add_argument(
        "--registry", type=Path, help="the model the promoter manages (default: configs/registry.yaml if present)"
    )
    commands["status"].add_argument(
        "--identity",
        choices=[PROMOTER, TRAINER],
        default=PROMOTER,
        help="a local stack: check the variables `up` wrote for this identity (default: promoter, client.env)",
    )
