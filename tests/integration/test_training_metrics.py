"""Per-epoch metrics come from Ultralytics' results.csv, which rank 0 writes also under DDP (where callbacks
added to the model do not run in the training process); AMP is checked on the model being trained."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.core.train_params import TrainParams
from yolo_mlops.data.synth import synthesize

pytestmark = pytest.mark.integration

DDP_LAYOUT = Path(__file__).resolve().parents[1] / "support" / "ultralytics" / "results_ddp.csv"
EPOCH_KEYS = {"train/box_loss", "metrics/mAP50B", "metrics/mAP50-95B", "metrics/precisionB", "metrics/recallB"}


def test_metrics_of_a_real_cpu_training(tmp_path):
    synthesize(tmp_path / "data", train=8, val=4, size=64, seed=0)
    params = TrainParams(epochs=2, imgsz=64, batch=4, nbs=4, device="cpu", amp=True)
    result = ultralytics_runtime.train(params, tmp_path / "data" / "data.yaml", tmp_path / "run")
    assert result.device == "cpu"
    assert [epoch for epoch, _ in result.epochs] == [1, 2]
    with (tmp_path / "run" / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for (_, metrics), row in zip(result.epochs, rows, strict=True):
        assert set(metrics) >= EPOCH_KEYS
        assert "epoch" not in metrics and "time" not in metrics
        assert all(math.isfinite(v) for v in metrics.values())
        assert metrics["metrics/mAP50B"] == float(row["metrics/mAP50(B)"])
        assert metrics["train/box_loss"] == float(row["train/box_loss"])


def test_metrics_of_a_padded_multi_gpu_results_file():
    epochs = ultralytics_runtime.read_epoch_metrics(DDP_LAYOUT)
    assert [epoch for epoch, _ in epochs] == [1, 2, 3]
    assert all(EPOCH_KEYS | {"val/dfl_loss", "lr/pg0"} <= set(metrics) for _, metrics in epochs)
    with DDP_LAYOUT.open(newline="") as handle:
        header, *_, last = ([cell.strip() for cell in row] for row in csv.reader(handle))
    assert epochs[-1][1]["metrics/mAP50-95B"] == float(last[header.index("metrics/mAP50-95(B)")])


def test_amp_check_runs_on_the_model_itself():
    """The comparison that replaces Ultralytics' download-bound check, on CPU autocast (bfloat16)."""
    import torch
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml").model
    assert ultralytics_runtime.amp_outputs_agree(model, torch.device("cpu"))
