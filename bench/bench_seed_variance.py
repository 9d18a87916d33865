"""Seed variance and the gate's paired comparison, measured side by side (a bench, not a test).

One config is trained with seeds 0..k-1. Training on one machine is bit-identical for one seed
(`deterministic=True`); what changes between runs that users call "the same" is the seed (weight init,
batch order) and the machine. This bench measures the first, and what the gate makes of it: every ordered
pair of seeds goes through the gate's own paired comparison (`promotion.paired_comparison.score_pair`, the
policy of configs/gate.yaml), as if seed j were the champion and seed i a candidate. A same-config retrain
is not progress, so the gate's `comparison.min_improvement` must sit above the LOWER bound of every such
pair; the bench prints the smallest margin (rounded up to 0.005) that keeps them all out. Each comparison
is timed: it is what the paired comparison adds to a gate (both models predict on the val split, AP50, the
bootstrap), measured in the same run as the spread.

Prints one line per seed (mAP50, mAP50_95, train seconds), mean / min / max / sample std of mAP50, one
line per pair, the comparison's cost and the margin the data asks for.

Usage: .venv/bin/python bench/bench_seed_variance.py [--config configs/cpu/grid.yaml --cell 4/4 |
       --config configs/cpu/baseline.yaml --cell ''] [--seeds 5] [--data data] [--policy configs/gate.yaml]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

MARGIN_STEP = 0.005


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/cpu/grid.yaml"))
    parser.add_argument("--cell", default="4/4", help="grid cell I/N (default 4/4); empty for a baseline")
    parser.add_argument("--seeds", type=int, default=5, help="k: train with seeds 0..k-1 (default 5)")
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--policy", type=Path, default=Path("configs/gate.yaml"))
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 to measure a spread")

    state = Path(tempfile.mkdtemp(prefix="yolo-mlops-bench-seeds-"))
    os.environ["YOLO_MLOPS_STATE_DIR"] = str(state)
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from yolo_mlops.adapters import ultralytics_runtime
    from yolo_mlops.configuration.config_files import load_gate_policy
    from yolo_mlops.core.policy import ComparisonPolicy, paired_summary
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5
    from yolo_mlops.promotion.paired_comparison import score_pair
    from yolo_mlops.training.planning import plan_baseline, plan_grid

    if not (args.data / "data.yaml").exists():
        synthesize(args.data)
    data_yaml = (args.data / "data.yaml").resolve()
    comparison = load_gate_policy(args.policy).comparison or ComparisonPolicy()
    (planned,) = plan_grid(args.config, args.cell) if args.cell else plan_baseline(args.config)
    print(f"config {args.config} {planned.name}: {planned.params.to_dict()}", flush=True)

    weights, scores = [], []
    for seed in range(args.seeds):
        params = replace(planned.params, seed=seed)
        started = time.perf_counter()
        result = ultralytics_runtime.train(params, data_yaml, state / f"seed-{seed}")
        train_seconds = time.perf_counter() - started
        metrics = ultralytics_runtime.evaluate(
            result.best_weights, data_yaml, params.imgsz, params.batch, result.device
        )
        weights.append(result.best_weights)
        scores.append(metrics["mAP50"])
        print(
            f"seed {seed}: mAP50 {metrics['mAP50']:.3f}  mAP50_95 {metrics['mAP50_95']:.3f}  "
            f"train {train_seconds:.0f} s",
            flush=True,
        )
    print(
        f"\nmAP50 over {len(scores)} seeds: mean {statistics.mean(scores):.3f}  min {min(scores):.3f}  "
        f"max {max(scores):.3f}  std {statistics.stdev(scores):.3f}  range {max(scores) - min(scores):.3f}"
    )

    md5, imgsz = dataset_md5(args.data), planned.params.imgsz
    print(
        f"\nthe gate's paired comparison (confidence {comparison.confidence}, {comparison.resamples} resamples), "
        "seed i as candidate against seed j as champion:"
    )
    walls, cpus, lowers = [], [], []
    for i, j in itertools.permutations(range(args.seeds), 2):
        started, started_cpu = time.perf_counter(), time.process_time()
        difference = score_pair(args.data, md5, (weights[i], imgsz), (weights[j], imgsz), comparison)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        lowers.append(difference.lower)
        words = paired_summary(comparison, difference, difference.lower > comparison.min_improvement)
        scores_text = f"AP50 {difference.candidate:.3f} vs {difference.champion:.3f}"
        print(f"  seed {i} vs seed {j}: {scores_text}  {words}", flush=True)
    margin = max(0.0, math.ceil(max(lowers) / MARGIN_STEP) * MARGIN_STEP)
    promoted = sum(lower > comparison.min_improvement for lower in lowers)
    print(
        f"\ncost of one paired comparison ({difference.images} val images at {imgsz} px, both models + bootstrap): "
        f"wall median {statistics.median(walls):.1f} s (max {max(walls):.1f} s), CPU median "
        f"{statistics.median(cpus):.1f} s, over {len(walls)}; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"same-config pairs the policy's min_improvement {comparison.min_improvement} would promote: "
        f"{promoted} of {len(lowers)}; highest lower bound {max(lowers):+.3f}: a min_improvement of "
        f"{margin:.3f} keeps every reseed out"
    )


if __name__ == "__main__":
    main()
