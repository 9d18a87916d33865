"""`yolo-mlops stack up|down|status`: the server stack (MLflow, ZenML, S3, MySQL) and its preflight."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from yolo_mlops.cli.shared import Subcommands, settings_and_env
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.service_config import StackConfig, ci_stack_up_refusal
from yolo_mlops.services import compose, env_files


def cmd_stack_up(args: argparse.Namespace) -> int:
    refusal = ci_stack_up_refusal(os.environ)
    if refusal:
        raise UserError(refusal)
    settings = settings_and_env()
    config, source = env_files.load_stack_config(args.env_file)
    if source.endswith(".env.example"):
        print("using the local-only defaults of .env.example (copy it to .env to change them)")
    if not args.native and compose.docker_engine_answers():
        subprocess.run([*compose.compose_command(source), "up", "-d", "--wait"], check=True)
        print("stack up with docker compose")
    else:
        from yolo_mlops.services.native import NativeStack, StackError

        try:
            timings = NativeStack(config, env_files.stack_dir(settings.state_dir)).up()
        except StackError as exc:
            raise UserError(str(exc)) from None
        print("stack up as native processes: " + ", ".join(f"{k} ready at {v} s" for k, v in timings.items()))
    client = {**config.client_env(), "ZENML_STORE_API_KEY": _local_api_key(settings.state_dir, config)}
    path = env_files.write_client_env(settings.state_dir, client)
    print(f"client variables (with secrets, mode 0600): {path}\n  use them with: set -a; . {path}; set +a")
    return 0


def _local_api_key(state_dir: Path, config: StackConfig) -> str:
    """The local stack's CI service-account key: the one kept from an earlier `up` while the server
    accepts it, else a new one from `zenml bootstrap` run as the local admin in a child process."""
    from yolo_mlops.services.preflight import zenml_api_key_status

    kept = env_files.load_client_env(state_dir).get("ZENML_STORE_API_KEY")
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
        command = [sys.executable, "-m", "yolo_mlops.cli", "zenml", "bootstrap", "--rotate", "--output-file"]
        subprocess.run([*command, str(key_file)], env=env, check=True, stdout=subprocess.DEVNULL)
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
    local = env_files.client_env_file(settings.state_dir).is_file() and not args.shared
    env = {**os.environ, **env_files.load_client_env(settings.state_dir)} if local else dict(os.environ)
    checks = preflight(env, local_stack=local)
    for check in checks:
        print(check)
    return 0 if all(c.ok for c in checks) else 1


def add_commands(groups: Subcommands) -> None:
    stack_group = groups.add_parser("stack", help="the service stack: MLflow, ZenML, S3, MySQL").add_subparsers(
        dest="command", required=True
    )
    for name, func, text in (
        ("up", cmd_stack_up, "start the services (docker compose if a Docker engine answers, else native)"),
        ("down", cmd_stack_down, "stop exactly what `up` started"),
        ("status", cmd_stack_status, "preflight: each service reachable, credentials and API key accepted"),
    ):
        command = stack_group.add_parser(name, help=text)
        command.add_argument("--env-file", type=Path, help="stack settings (default: .env, else .env.example)")
        command.add_argument("--native", action="store_true", help="processes even where Docker answers")
        command.add_argument("--shared", action="store_true", help="servers shared by URL, not a local stack")
        command.set_defaults(func=func)
