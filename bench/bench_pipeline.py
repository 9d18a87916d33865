"""Pipeline overhead bench (not a test): the CPU baseline config through the ZenML pipeline vs bare Ultralytics.

Prints, from one process and one fresh state dir:
  (b) bare Ultralytics training with the same arguments,
  (a) the same config as a cold pipeline run (validate + train + evaluate + summarize, MLflow tracking),
  (c) the unchanged pipeline re-run (served from ZenML's cache),
and the ratios a/b (target <= 1.10) and c/a (target <= 0.10).

Usage: .venv/bin/python bench/bench_pipeline.py [--config configs/cpu/baseline.yaml] [--data data]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

MODEL = "yolo_tiny_person_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/cpu/baseline.yaml"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="yolo-mlops-bench-"))
    os.environ["YOLO_MLOPS_STATE_DIR"] = str(state)
    os.environ["YOLO_MLOPS_CAMPAIGN"] = "bench"
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from yolo_mlops.adapters import ultralytics_runtime
    from yolo_mlops.configuration.environment import current_settings
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.training.campaign import execute, prepare_tracking
    from yolo_mlops.training.planning import plan_baseline

    if not (args.data / "data.yaml").exists():
        synthesize(args.data)
    planned = plan_baseline(args.config)[0]
    settings = current_settings()
    prepare_tracking(settings)  # one-time set-up (stack, experiment), not per run

    started = time.perf_counter()
    ultralytics_runtime.train(planned.params, (args.data / "data.yaml").resolve(), state / "bare" / "run")
    bare = time.perf_counter() - started

    started = time.perf_counter()
    execute(planned, args.data, settings, Path.cwd(), MODEL)
    cold = time.perf_counter() - started

    started = time.perf_counter()
    row = execute(planned, args.data, settings, Path.cwd(), MODEL)
    rerun = time.perf_counter() - started
    assert row.cached, "the unchanged re-run retrained"

    print(f"\nconfig {args.config}: {planned.params.to_dict()}")
    print(f"(b) bare Ultralytics training : {bare:7.1f} s")
    print(f"(a) pipeline, cold            : {cold:7.1f} s   a/b = {cold / bare:.3f}  (target <= 1.10)")
    print(f"(c) pipeline, unchanged re-run: {rerun:7.1f} s   c/a = {rerun / cold:.3f}  (target <= 0.10)")


if __name__ == "__main__":
    main()
