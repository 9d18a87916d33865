"""Serving costs bench (not a test): what the MLflow model + ONNX twin add to a training run, and how long the
gate's servable check takes, beside a plain pipeline run of the CPU baseline config.

Prints, from one fresh state dir:
  (a) one cold pipeline run (train + model logging + ONNX export + evaluate + summarize),
  (e) its model logging + ONNX export (the run's `model_export_seconds` metric), e/a (target <= 0.05),
  (s) the servable check on that run's model (subprocess load, predict on N val images, ONNX twin) (target <= 15 s).

Usage: .venv/bin/python bench/bench_model.py [--config configs/cpu/baseline.yaml] [--data data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pipeline_setup import start

MODEL = "yolo_tiny_person_bench"


def _policy_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=Path("configs/gate.yaml"))


def main() -> None:
    bench = start(__doc__, "yolo-mlops-bench-model-", _policy_arg)
    args, planned, settings = bench.args, bench.planned, bench.settings
    from yolo_mlops.adapters.mlflow_registry import Registry
    from yolo_mlops.configuration.config_files import load_gate_policy
    from yolo_mlops.promotion.servable_check import check_servable
    from yolo_mlops.training.campaign import execute

    policy = load_gate_policy(args.policy).servable
    started = time.perf_counter()
    row = execute(planned, args.data, settings, Path.cwd(), MODEL)
    run_seconds = time.perf_counter() - started
    registry = Registry(bench.tracking_uri, settings.experiment_name, MODEL)
    export_seconds = registry.run(row.mlflow_run_id).metrics["model_export_seconds"]

    started = time.perf_counter()
    verdicts = check_servable(registry, row.mlflow_run_id, args.data, policy)
    check_seconds = time.perf_counter() - started

    print(f"\nconfig {args.config}: {planned.params.to_dict()}")
    print(f"(a) pipeline run, cold             : {run_seconds:7.1f} s")
    share = export_seconds / run_seconds
    print(f"(e) model logging + ONNX export    : {export_seconds:7.1f} s   e/a = {share:.3f}  (target <= 0.05)")
    print(f"(s) servable check, {policy.images} val images  : {check_seconds:7.1f} s   (target <= 15 s)")
    for verdict in verdicts:
        print(f"    [{'pass' if verdict.passed else 'FAIL'}] {verdict.rule}: {verdict.detail}")


if __name__ == "__main__":
    main()
