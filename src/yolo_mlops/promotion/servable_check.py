"""The servable check (TFX's InfraValidator, small): before any alias moves, the winner's MLflow model must load
as a pyfunc in a process of its own, predict on val images, agree with its ONNX twin, and be fast enough.

The probe runs in a subprocess so that what passes here is what a consumer's fresh process sees, and so that a
model that crashes or hangs its loader fails the check instead of the gate."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from yolo_mlops.adapters.mlflow_registry import Registry, RegistryError
from yolo_mlops.core.policy import ServablePolicy, Verdict
from yolo_mlops.core.servable_rules import servable_verdicts
from yolo_mlops.data.layout import is_image

# Loading torch + Ultralytics + onnxruntime takes ~5 s on 2 cores; far more means the loader hangs.
PROBE_TIMEOUT_S = 180


def _probe(model_dir: Path, conf: float, images: list[Path]) -> dict[str, Any]:
    command = [sys.executable, "-m", "yolo_mlops.promotion.servable_probe", str(model_dir), str(conf)]
    try:
        done = subprocess.run(
            [*command, *map(str, images)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return {"loaded": False, "error": f"the probe did not finish within {PROBE_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"loaded": False, "error": f"the probe process exited {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def check_servable(registry: Registry, run_id: str, dataset_dir: Path, policy: ServablePolicy) -> tuple[Verdict, ...]:
    """One verdict per servable rule for the model that run `run_id` logged, on the first val images."""
    val_dir = dataset_dir / "images" / "val"
    images = sorted(p for p in val_dir.iterdir() if is_image(p))[: policy.images] if val_dir.is_dir() else []
    if not images:
        return servable_verdicts(policy, {"loaded": False, "error": f"no val images under {val_dir} to predict on"})
    with tempfile.TemporaryDirectory() as tmp:
        try:
            model_dir = registry.download_run_model(run_id, Path(tmp))
        except RegistryError as exc:
            return servable_verdicts(policy, {"loaded": False, "error": str(exc)})
        return servable_verdicts(policy, _probe(model_dir, policy.conf, images))
