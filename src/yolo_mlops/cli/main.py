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
from yolo_mlops.core.errors import UserError

COMMAND_GROUPS = (
    data_commands,
    training_commands,
    promotion_commands,
    model_commands,
    services_commands,
    zenml_commands,
    gitlab_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-mlops", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
