"""`yolo-mlops`: the single entry point. Heavy libraries are imported only after the environment is set."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from yolo_mlops.cli import (
    data_commands,
    gitlab_commands,
    model_commands,
    promotion_commands,
    services_commands,
    training_commands,
    zenml_commands,
)
from yolo_mlops.core.errors import ServiceUnavailable, UserError

COMMAND_GROUPS = (
    data_commands,
    training_commands,
    promotion_commands,
    model_commands,
    services_commands,
    zenml_commands,
    gitlab_commands,
)

# Client libraries whose exceptions mean "that server failed us" (by top-level module), and the server named.
_SERVERS = {
    "mlflow": "MLflow",
    "zenml": "ZenML",
    "botocore": "S3",
    "boto3": "S3",
    "s3fs": "S3",
    "pymysql": "MySQL",
    "sqlalchemy": "the database",
    "requests": "a server",
    "urllib3": "a server",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-mlops", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure, not one line")
    groups = parser.add_subparsers(dest="group", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(groups)
    return parser


def service_fault(exc: BaseException) -> ServiceUnavailable | None:
    """The exception as a server fault naming the server, or None when it is not one (a bug keeps its traceback)."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    server = _SERVERS.get(type(exc).__module__.split(".")[0])
    if server is None and isinstance(exc, ConnectionError | TimeoutError):
        server = "a server"
    if server is None:
        return None
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return ServiceUnavailable(f"{server}: {detail[:400]}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    # The one error boundary: a documented failure is one line and an exit code, never a traceback.
    try:
        return command(args)
    except Exception as exc:
        if args.debug:
            raise
        fault = service_fault(exc)
        if fault is not None:
            print(f"error: {fault}", file=sys.stderr)
            return int(getattr(args, "service_fault_exit", fault.exit_code))
        if isinstance(exc, UserError):
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        raise
