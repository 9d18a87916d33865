"""`yolo-mlops zenml bootstrap|register-stack`: the CI service account and the shared ZenML stack."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from yolo_mlops.cli.shared import Subcommands, settings_and_env
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.service_config import CLIENT_VARIABLES, PROMOTER, ZENML_SERVICE_ACCOUNTS


def cmd_zenml_bootstrap(args: argparse.Namespace) -> int:
    missing = [k for k in ("ZENML_STORE_URL", "ZENML_STORE_USERNAME", "ZENML_STORE_PASSWORD") if not os.environ.get(k)]
    if missing:
        raise UserError(f"{missing[0]} is not set: bootstrap runs as a ZenML admin (URL, username, password).")
    settings_and_env()
    from yolo_mlops.adapters import zenml_client

    account = ZENML_SERVICE_ACCOUNTS[args.identity]
    key = zenml_client.bootstrap(account, rotate=args.rotate)
    if key is None:
        print(f"service account {account} exists; its key stays valid (--rotate issues a new one)")
        return 0
    if args.output_file:
        args.output_file.touch(mode=0o600)
        args.output_file.write_text(key + "\n")
        print(f"API key of service account {account} written to {args.output_file} (mode 0600)")
    else:
        print(
            f"API key of service account {account} (shown once; store it as the masked "
            f"CI/CD variable ZENML_STORE_API_KEY):\n{key}"
        )
    return 0


def cmd_zenml_register_stack(args: argparse.Namespace) -> int:
    missing = [k for k in CLIENT_VARIABLES if not os.environ.get(k)]
    if missing:
        raise UserError(f"{missing[0]} is not set: register-stack needs {', '.join(CLIENT_VARIABLES)}.")
    settings_and_env()
    from yolo_mlops.adapters import zenml_client

    changes = zenml_client.register_stack(
        zenml_client.StackTarget(
            s3_endpoint=os.environ["MLFLOW_S3_ENDPOINT_URL"],
            artifact_bucket=os.environ.get("S3_BUCKET_ZENML", "zenml"),
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            mlflow_uri=os.environ["MLFLOW_TRACKING_URI"],
            mlflow_username=os.environ["MLFLOW_TRACKING_USERNAME"],
            mlflow_password=os.environ["MLFLOW_TRACKING_PASSWORD"],
        )
    )
    print("; ".join(changes) if changes else "nothing changed")
    print(f"active stack: {zenml_client.STACK}")
    return 0


def add_commands(groups: Subcommands) -> None:
    zenml_group = groups.add_parser("zenml", help="ZenML server: service account, stack").add_subparsers(
        dest="command", required=True
    )
    bootstrap = zenml_group.add_parser("bootstrap", help="as an admin: create a CI service account, show its key")
    bootstrap.add_argument("--rotate", action="store_true", help="issue a new key if the account exists")
    bootstrap.add_argument(
        "--identity",
        choices=list(ZENML_SERVICE_ACCOUNTS),
        default=PROMOTER,
        help=", ".join(f"{k}: service account {v}" for k, v in ZENML_SERVICE_ACCOUNTS.items()) + " (default promoter)",
    )
    bootstrap.add_argument("--output-file", type=Path, help="write the key here (mode 0600) instead of printing it")
    bootstrap.set_defaults(func=cmd_zenml_bootstrap)
    register = zenml_group.add_parser("register-stack", help="with the API key: secrets, S3 store, MLflow tracker")
    register.set_defaults(func=cmd_zenml_register_stack)
