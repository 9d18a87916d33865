"""Pipeline overhead bench (not a test): the CPU baseline config through the ZenML pipeline vs bare Ultralytics.

Prints, from one process and one fresh state dir:
  (b) bare Ultralytics training with the same arguments,
  (a) the same config as a cold pipeline run (validate + train + evaluate + summarize, MLflow tracking),
  (c) the unchanged pipeline re-run (served from ZenML's cache),
and the ratios a/b (target <= 1.10) and c/a (target <= 0.10).

Usage: .venv/bin/python bench/bench_pipeline.py [--config configs/cpu/baseline.yaml] [--data data]
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline_setup import start

MODEL = "yolo_tiny_person_bench"


def main() -> None:
    bench = start(__doc__, "yolo-mlops-bench-")
    args, planned, settings, state = bench.args, bench.planned, bench.settings, bench.state
    from yolo_mlops.adapters import ultralytics_runtime
    from yolo_mlops.training.campaign import execute

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
