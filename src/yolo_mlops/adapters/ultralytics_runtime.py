"""Ultralytics adapter: offline-safe training and evaluation of YOLO detectors."""

from __future__ import annotations

import copy
import csv
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yolo_mlops.core.metrics import METRIC_NAMES
from yolo_mlops.core.paired_bootstrap import ImageDetections
from yolo_mlops.core.train_params import TrainParams, resolve_device

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


RESULTS_CSV = "results.csv"
EpochMetrics = list[tuple[int, dict[str, float]]]


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path  # holds WEIGHTS_FILE (and later its ONNX twin), so the artifact store keeps the file name
    seconds: float
    device: str
    epochs: EpochMetrics  # (epoch from 1, losses and validation metrics of that epoch)

    @property
    def best_weights(self) -> Path:
        return self.model_dir / WEIGHTS_FILE


def read_epoch_metrics(results_csv: Path) -> EpochMetrics:
    """Per-epoch metrics from the `results.csv` Ultralytics writes (rank 0 under DDP, where callbacks added
    to the model do not run in the training process, ultralytics#6168), with MLflow-safe names:
    `metrics/mAP50(B)` → `metrics/mAP50B`. Older releases pad names and values with spaces."""
    with results_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    epochs = []
    for row in rows:
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        epoch = int(float(values.pop("epoch")))
        values.pop("time", None)  # seconds since the start: not a metric of the model
        metrics = {k.replace("(", "").replace(")", ""): float(v) for k, v in values.items() if k and v}
        epochs.append((epoch, metrics))
    return epochs


def amp_outputs_agree(model: Any, device: Any) -> bool:
    """Do full-precision and autocast forward passes of `model` agree (Ultralytics' tolerance, 0.5)?"""
    import torch

    probe = copy.deepcopy(model).eval()
    batch = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        full = probe(batch)[0]
        with torch.autocast(device.type):
            mixed = probe(batch)[0]
    return full.shape == mixed.shape and bool(torch.allclose(full, mixed.float(), atol=0.5))


def _check_amp_on_trained_model(model: Any) -> bool:
    """Stands in for Ultralytics' check_amp, which downloads yolo26n.pt to compare FP32 and AMP outputs:
    the same comparison, on the model being trained."""
    from ultralytics.utils import LOGGER

    device = next(model.parameters()).device
    if device.type != "cuda":
        return False  # as Ultralytics: AMP is for CUDA only
    agree = amp_outputs_agree(model, device)
    LOGGER.info(f"AMP: {'on' if agree else 'off: FP32 and AMP outputs differ'} (checked on the model being trained)")
    return agree


def _use_offline_amp_check(trainer: Any) -> None:
    """on_pretrain_routine_start: runs in the process that then checks AMP (the DDP worker of rank 0 too:
    Ultralytics pickles the callbacks into it), before that check."""
    import ultralytics.engine.trainer

    ultralytics.engine.trainer.check_amp = _check_amp_on_trained_model


def train(params: TrainParams, data_yaml: Path, out_dir: Path) -> TrainResult:
    """Train YOLO from its model yaml (no pretrained weights exist offline) into `out_dir`."""
    _prepare()
    from ultralytics import YOLO

    device = resolve_device(params.device, cuda_device_count())
    model = YOLO(params.model)
    if params.amp:
        model.add_callback("on_pretrain_routine_start", _use_offline_amp_check)
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
        amp=params.amp,
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
    epochs = read_epoch_metrics(out_dir / RESULTS_CSV)
    return TrainResult(model_dir=model_dir, seconds=seconds, device=device, epochs=epochs)


def export_onnx(weights: Path, imgsz: int) -> Path:
    """The ONNX twin of `weights` (fixed input `imgsz`, simplified), written beside them; runs with onnxruntime."""
    _prepare()
    from ultralytics import YOLO

    exported = YOLO(str(weights), task="detect").export(
        format="onnx", imgsz=imgsz, simplify=True, dynamic=False, device="cpu", verbose=False
    )
    return Path(exported)


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


def load_error(weights: Path) -> str | None:
    """Why these weights do not load as a YOLO detector, or None when they do."""
    _prepare()
    from ultralytics import YOLO

    try:
        YOLO(str(weights), task="detect")
    except Exception as exc:  # a truncated or foreign file fails in zip, pickle, torch or Ultralytics alike
        return f"{type(exc).__name__}: {exc}"
    return None
