"""Ultralytics adapter: offline-safe training and evaluation of YOLO detectors."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yolo_mlops.core.metrics import METRIC_NAMES
from yolo_mlops.core.paired_bootstrap import ImageDetections
from yolo_mlops.core.train_params import TrainParams, resolve_device

EpochCallback = Callable[[int, dict[str, float]], None]

# Integrations Ultralytics enables by default. We log to MLflow ourselves (its own callback changes the
# active experiment and stops tracking when a param key collides), and the rest would reach the network.
_INTEGRATIONS_OFF = ("sync", "mlflow", "clearml", "comet", "dvc", "raytune", "tensorboard", "wandb")


def _prepare() -> None:
    """Settings and the font Ultralytics would otherwise download; needs YOLO_CONFIG_DIR set first."""
    config_dir = os.environ.get("YOLO_CONFIG_DIR")
    if not config_dir:
        raise RuntimeError("YOLO_CONFIG_DIR is unset: call process_env.configure_process_env() first.")
    font = Path(config_dir) / "Ultralytics" / "Arial.ttf"
    if not font.exists():
        import matplotlib

        font.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", font)

    from ultralytics import settings

    wanted: dict[str, Any] = {key: False for key in _INTEGRATIONS_OFF}
    wanted |= {"vscode_msg": False, "openvino_msg": False}
    if any(settings.get(k) != v for k, v in wanted.items()):
        settings.update(wanted)


def cuda_device_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


WEIGHTS_FILE = "best.pt"


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path  # holds only WEIGHTS_FILE, so the artifact store keeps the file name
    seconds: float
    device: str

    @property
    def best_weights(self) -> Path:
        return self.model_dir / WEIGHTS_FILE


def _epoch_metrics(trainer: Any) -> dict[str, float]:
    """Losses and validation metrics of the epoch just finished, with MLflow-safe key names."""
    values = {**trainer.label_loss_items(trainer.tloss, prefix="train"), **trainer.metrics}
    return {k.replace("(", "").replace(")", ""): float(v) for k, v in values.items()}


def train(params: TrainParams, data_yaml: Path, out_dir: Path, on_epoch: EpochCallback | None = None) -> TrainResult:
    """Train YOLO from its model yaml (no pretrained weights exist offline) into `out_dir`."""
    _prepare()
    from ultralytics import YOLO

    device = resolve_device(params.device, cuda_device_count())
    model = YOLO(params.model)
    if on_epoch is not None:

        def report_epoch(trainer: Any) -> None:
            # Ultralytics fires this once more after training, for the final validation of best.pt
            # (trainer.epoch == epochs by then); that is not an epoch.
            if trainer.epoch < trainer.epochs:
                on_epoch(trainer.epoch + 1, _epoch_metrics(trainer))

        model.add_callback("on_fit_epoch_end", report_epoch)
    started = time.perf_counter()
    model.train(
        data=str(data_yaml),
        epochs=params.epochs,
        imgsz=params.imgsz,
        batch=params.batch,
        nbs=params.nbs,
        optimizer=params.optimizer,
        lr0=params.lr0,
        warmup_epochs=params.warmup_epochs,
        mosaic=params.mosaic,
        seed=params.seed,
        deterministic=True,
        device=device,
        pretrained=False,
        # The AMP self-check downloads a pretrained model: offline runners cannot, so AMP stays off.
        amp=False,
        plots=False,
        project=str(out_dir.parent),
        name=out_dir.name,
        exist_ok=True,
        verbose=False,
    )
    seconds = time.perf_counter() - started
    best = out_dir / "weights" / WEIGHTS_FILE
    if not best.is_file():
        raise RuntimeError(f"Ultralytics finished without writing {best}")
    model_dir = out_dir / "model"
    model_dir.mkdir(exist_ok=True)
    shutil.copyfile(best, model_dir / WEIGHTS_FILE)
    return TrainResult(model_dir=model_dir, seconds=seconds, device=device)


def evaluate(weights: Path, data_yaml: Path, imgsz: int, batch: int, device: str) -> dict[str, float]:
    """Metrics on the val split under the names users and the gate rely on."""
    _prepare()
    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    result = model.val(
        data=str(data_yaml),
        split="val",
        imgsz=imgsz,
        batch=batch,
        device=resolve_device(device, cuda_device_count()),
        plots=False,
        save_json=False,
        verbose=False,
        project=str(weights.parent.parent / "val"),
        name="val",
        exist_ok=True,
    )
    fields = {
        "mAP50": result.box.map50,
        "mAP50_95": result.box.map,
        "precision": result.box.mp,
        "recall": result.box.mr,
        "inference_ms": result.speed["inference"],
    }
    return {name: float(fields[name]) for name in METRIC_NAMES}


def predict_images(weights: Path, images: list[Path], imgsz: int, device: str = "auto") -> list[ImageDetections]:
    """Every box with its score on each image, with the thresholds Ultralytics' own validation uses (conf 0.001,
    NMS IoU 0.7, at most 300 boxes), so AP computed from them matches its mAP50 (of `val(rect=False)`: by default
    val pads each batch to a rectangle, other pixels)."""
    _prepare()
    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    results = model.predict(
        [str(image) for image in images],
        imgsz=imgsz,
        conf=0.001,
        iou=0.7,
        max_det=300,
        batch=16,
        device=resolve_device(device, cuda_device_count()),
        stream=True,
        verbose=False,
        save=False,
    )
    return [ImageDetections(r.boxes.xyxy.cpu().numpy(), r.boxes.conf.cpu().numpy()) for r in results]


def predict_count(weights: Path, image: Path, imgsz: int = 320) -> int:
    """Number of boxes the model predicts on one image (a smoke check that weights load and run)."""
    _prepare()
    from ultralytics import YOLO

    results = YOLO(str(weights), task="detect").predict(
        str(image), imgsz=imgsz, device="cpu", verbose=False, save=False
    )
    return len(results[0].boxes)
