"""Gate decision time vs experiment size (not a test): 100 runs, then 10 000 runs in the experiment;
with --paired, the cost the paired comparison against a champion adds to a gate.

The gate finds a campaign's runs with a server-side tag filter, so its time must stay flat as the
experiment grows. Uses a fresh sqlite MLflow store; the filler runs belong to other campaigns.

Usage: .venv/bin/python bench/bench_gate.py [--sizes 100 10000] [--repeat 5]
       .venv/bin/python bench/bench_gate.py --paired [--val 120] [--repeat 3] [--weights A.pt B.pt]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--paired", action="store_true", help="bench the paired comparison instead")
    parser.add_argument("--val", type=int, default=120, help="--paired: val images (the demo's default split)")
    parser.add_argument("--train", type=int, default=32, help="--paired: train images for the two bench models")
    parser.add_argument("--weights", type=Path, nargs=2, help="--paired: score these instead of training two")
    args = parser.parse_args()
    if args.paired:
        paired_comparison_cost(args)
        return

    state = Path(tempfile.mkdtemp(prefix="yolo-mlops-bench-gate-"))
    os.environ["YOLO_MLOPS_STATE_DIR"] = str(state)
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from mlflow.entities import Metric, RunTag

    from yolo_mlops.adapters.mlflow_tracking import embedded_artifact_root, embedded_tracking_uri, ensure_experiment
    from yolo_mlops.configuration.config_files import RegistryConfig
    from yolo_mlops.configuration.environment import current_settings
    from yolo_mlops.core.policy import GatePolicy
    from yolo_mlops.promotion.gate import Gate, GateRequest

    settings = current_settings()
    tracking = embedded_tracking_uri(state)
    experiment_id = ensure_experiment(tracking, settings.experiment_name, embedded_artifact_root(state))
    gate = Gate(settings, tracking, GatePolicy(), RegistryConfig(model_name="bench_model"))
    client = gate.registry.client

    def add_run(campaign: str, config: str, value: float) -> None:
        pipeline, cell = ("baseline", None) if config == "baseline" else ("grid", config.split()[1])
        tags = {"campaign": campaign, "pipeline": pipeline, "data_md5": "d.dir", "weights_sha256": uuid.uuid4().hex}
        if cell:
            tags["grid_cell"] = cell
        run = client.create_run(experiment_id)
        stamp = int(time.time() * 1000)
        metrics = {"mAP50": value, "mAP50_95": value / 2, "precision": 0.9, "recall": 0.8, "inference_ms": 5.0}
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run.info.run_id)

    configs = ["baseline", "grid 1/2", "grid 2/2"]
    for config, value in zip(configs, (0.6, 0.8, 0.7), strict=True):
        add_run("bench-campaign", config, value)
    total = 3
    print(f"experiment {settings.experiment_name} in {tracking}")
    for size in args.sizes:
        started = time.perf_counter()
        while total < size:
            add_run(f"filler-{total // 3}", configs[total % 3], 0.5)
            total += 1
        filled = time.perf_counter() - started
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            report = gate.run(GateRequest("bench-campaign", configs, Path("data"), False, state / f"out-{size}-{i}"))
            times.append(time.perf_counter() - started)
        assert report["outcome"] == "first_model", report["reason"]
        print(
            f"{total:6d} runs in the experiment (filled in {filled:5.1f} s): gate decision median "
            f"{statistics.median(times) * 1000:6.0f} ms, min {min(times) * 1000:6.0f} ms over {args.repeat}"
        )


def paired_comparison_cost(args: argparse.Namespace) -> None:
    """What the paired comparison adds to a gate: two sets of real weights scored on the demo val split (120
    images by default), then the seeded bootstrap. The weights are trained here (the CPU demo baseline for 1
    and 2 epochs on a small train split: scoring costs the same whatever their quality) unless --weights."""
    state = Path(tempfile.mkdtemp(prefix="yolo-mlops-bench-paired-"))
    from yolo_mlops.configuration.process_env import configure_process_env

    configure_process_env(state)
    from yolo_mlops.adapters import ultralytics_runtime
    from yolo_mlops.configuration.config_files import load_baseline
    from yolo_mlops.core.policy import ComparisonPolicy
    from yolo_mlops.data.synth import synthesize
    from yolo_mlops.data.validate import dataset_md5
    from yolo_mlops.promotion.paired_comparison import score_pair

    data = state / "data"
    synthesize(data, train=args.train, val=args.val, size=256, seed=0)
    params = load_baseline(REPO / "configs" / "cpu" / "baseline.yaml")
    weights = args.weights
    if weights is None:
        started = time.perf_counter()
        weights = [
            ultralytics_runtime.train(
                replace(params, epochs=epochs, device="cpu"), data / "data.yaml", state / f"model-{epochs}"
            ).best_weights
            for epochs in (1, 2)
        ]
        print(f"trained the two bench models in {time.perf_counter() - started:.0f} s")
    md5, policy = dataset_md5(data), ComparisonPolicy()
    times, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        difference = score_pair(data, md5, (weights[0], params.imgsz), (weights[1], params.imgsz), policy)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # CPU seconds (all threads) do not depend on what else runs on a shared machine; wall time does.
    print(
        f"paired comparison on {difference.images} val images at {params.imgsz} px, {policy.resamples} resamples: "
        f"wall median {statistics.median(times):.1f} s (min {min(times):.1f} s), CPU median "
        f"{statistics.median(cpu):.1f} s over {args.repeat}, load average {os.getloadavg()[0]:.1f} "
        f"(AP50 {difference.candidate:.3f} vs {difference.champion:.3f}, "
        f"difference {difference.difference:+.3f} [{difference.lower:+.3f}, {difference.upper:+.3f}])"
    )


if __name__ == "__main__":
    main()
