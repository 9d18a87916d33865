"""What several command groups share: the process settings and common arguments."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.settings import CAMPAIGN_ID_RULE, Settings, check_campaign_id

DEFAULT_DATA = Path("data")
DEFAULT_DVC_FILE = Path("data.dvc")
DEFAULT_REGISTRY = Path("configs/registry.yaml")
DEFAULT_POLICY = Path("configs/gate.yaml")


def settings_and_env() -> Settings:
    """The settings from the environment, with every tool's config and telemetry switches set; call it
    before importing zenml, mlflow or ultralytics (each reads them at import time)."""
    from yolo_mlops.configuration.environment import current_settings
    from yolo_mlops.configuration.process_env import configure_process_env

    settings = current_settings()
    configure_process_env(settings.state_dir)
    return settings


def campaign_dir(state_dir: Path, campaign: str) -> Path:
    """`<state>/campaigns/<campaign>`, resolved (symlinks too) and checked to stay there: reports and
    leaderboards are written to it."""
    root = (state_dir / "campaigns").resolve()
    folder = (root / check_campaign_id(campaign, "the campaign id")).resolve()
    if folder.parent != root:
        raise ConfigError(f"campaign id {campaign!r} names a folder outside {root}; use {CAMPAIGN_ID_RULE}.")
    return folder


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high]; argparse names the flag and exits 2 otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{value} is out of range; it must be {bound}")
        return value

    return parse


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1 (a share of the images)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range; it must be between 0 and 1, exclusive")
    return value


def add_registry_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="registry config")


def add_gate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY, help="gate policy")
    parser.add_argument(
        "--stage-transition", action="store_true", help="also perform MLflow's deprecated stage transition"
    )


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset directory (default: data)")
    parser.add_argument("--dvc-file", type=Path, default=DEFAULT_DVC_FILE, help="DVC file tracking it")
    add_registry_arg(parser)


Subcommands = argparse._SubParsersAction
