"""Seed variance bench (not a test): one config trained with k seeds, the spread of the primary metric.

Training on one machine is bit-identical for one seed (`deterministic=True`); what changes between runs
that users call "the same" is the seed (weight init, batch order) and the machine. This bench measures
the first: the spread a gate margin must exceed before "better" means more than a lucky seed.

Prints one line per seed (mAP50, mAP50_95, train seconds) and mean / min / max / sample std of mAP50.

Usage: .venv/bin/python bench/bench_seed_variance.py [--config configs/cpu/baseline.yaml | --config
       configs/cpu/grid.yaml --cell 4/4] [--seeds 3] [--data data]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/cpu/baseline.yaml"))
    parser.add_argument("--cell", help="I/N: with a grid config, the cell to train (e.g. 4/4)")
    parser.add_argument("--seeds", type=int, default=3, help="k: train with seeds 0..k-1 (default 3)")
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 to measure a spread")

    state = Path(tempfile.mkdtemp(prefix="yolo-mlops-bench-seeds-"))
    os.environ["YOLO_MLOPS_STATE_DIR"] = str(state)
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from yolo_mlops.adapters import ultralytics_runtime
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.training.planning import plan_baseline, plan_grid

    if not (args.data / "data.yaml").exists():
        synthesize(args.data)
    data_yaml = (args.data / "data.yaml").resolve()
    (planned,) = plan_grid(args.config, args.cell) if args.cell else plan_baseline(args.config)
    print(f"config {args.config} {planned.name}: {planned.params.to_dict()}", flush=True)

    scores = []
    for seed in range(args.seeds):
        params = replace(planned.params, seed=seed)
        started = time.perf_counter()
        result = ultralytics_runtime.train(params, data_yaml, state / f"seed-{seed}")
        metrics = ultralytics_runtime.evaluate(
            result.best_weights, data_yaml, params.imgsz, params.batch, result.device
        )
        seconds = time.perf_counter() - started
        scores.append(metrics["mAP50"])
        print(
            f"seed {seed}: mAP50 {metrics['mAP50']:.3f}  mAP50_95 {metrics['mAP50_95']:.3f}  "
            f"train+eval {seconds:.0f} s",
            flush=True,
        )
    print(
        f"\nmAP50 over {len(scores)} seeds: mean {statistics.mean(scores):.3f}  min {min(scores):.3f}  "
        f"max {max(scores):.3f}  std {statistics.stdev(scores):.3f}  range {max(scores) - min(scores):.3f}"
    )


if __name__ == "__main__":
    main()
