"""What the pipeline benches share: the arguments, a fresh state dir (before any heavy import reads it), the
dataset (generated when absent), tracking set up once, and the baseline config's planned run."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PipelineBench:
    args: argparse.Namespace
    state: Path
    planned: Any  # training.planning.PlannedRun
    settings: Any  # core.settings.Settings
    tracking_uri: str


def start(doc: str, prefix: str, add_args: Callable[[argparse.ArgumentParser], None] | None = None) -> PipelineBench:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/cpu/baseline.yaml"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    if add_args is not None:
        add_args(parser)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["YOLO_MLOPS_STATE_DIR"] = str(state)
    os.environ["YOLO_MLOPS_CAMPAIGN"] = "bench"
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from yolo_mlops.configuration.environment import current_settings
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.training.campaign import prepare_tracking
    from yolo_mlops.training.planning import plan_baseline

    if not (args.data / "data.yaml").exists():
        synthesize(args.data)
    planned = plan_baseline(args.config)[0]
    settings = current_settings()
    tracking_uri = prepare_tracking(settings)  # one-time set-up (stack, experiment), not per run
    return PipelineBench(args, state, planned, settings, tracking_uri)
