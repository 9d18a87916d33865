"""MLflow adapter: the experiment, and logging into the run ZenML's experiment tracker opened."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def embedded_tracking_uri(state_dir: Path) -> str:
    # MLflow 3 refuses the plain file: store; sqlite is its embedded backend.
    return f"sqlite:///{state_dir / 'mlflow' / 'mlflow.db'}"


def embedded_artifact_root(state_dir: Path) -> Path:
    return state_dir / "mlflow" / "artifacts"


def ensure_experiment(tracking_uri: str, name: str, artifact_root: Path | None) -> str:
    """The experiment's id, created first if missing (with a local artifact root when embedded).

    Without an explicit artifact location a sqlite-backed experiment stores artifacts under ./mlruns of
    whatever directory the process happens to run in.
    """
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = artifact_root.resolve().as_uri() if artifact_root is not None else None
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException as exc:
        # Parallel CI jobs race to create it: the loser reads the winner's.
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(name).experiment_id


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def active_run_id() -> str:
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("no active MLflow run: the step must run with ZenML's MLflow experiment tracker")
    return run.info.run_id


def log_params(params: dict[str, Any]) -> None:
    mlflow.log_params(params)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    mlflow.log_metrics(metrics, step=step)


def set_tags(tags: dict[str, str]) -> None:
    mlflow.set_tags(tags)


def log_json(content: dict[str, Any], artifact_file: str) -> None:
    mlflow.log_text(json.dumps(content, indent=2, sort_keys=True), artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    mlflow.log_text(text, artifact_file)


MODEL_ARTIFACT_DIR = "model"
# What a consumer of the model needs and nothing of this package; pinned to what trained and exported it.
_MODEL_REQUIREMENTS = ("mlflow", "ultralytics", "torch", "torchvision", "onnxruntime", "pandas", "numpy", "pillow")


def _pinned(distribution: str) -> str:
    # A local build label (torch's "+cu…") names no release on an index; the release itself does.
    return f"{distribution}=={metadata.version(distribution).split('+')[0]}"


def _example_png(imgsz: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (imgsz, imgsz), (114, 114, 114)).save(buffer, format="PNG")
    return buffer.getvalue()


def log_yolo_model(weights: Path, onnx: Path, imgsz: int, conf: float = 0.25) -> str:
    """Log the weights as an MLflow pyfunc model (with the ONNX twin among its artifacts) under the run's
    `model/` folder, and return that folder's artifact path.

    Saved locally and logged as plain run artifacts, so the gate registers `<run artifacts>/model` and the
    version's files sit next to the run's other artifacts."""
    import cloudpickle
    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from yolo_mlops.adapters import yolo_pyfunc

    # By value: the consumer loads the model without this package installed.
    cloudpickle.register_pickle_by_value(yolo_pyfunc)
    signature = ModelSignature(
        inputs=Schema([ColSpec("binary", yolo_pyfunc.IMAGE_COLUMN)]),
        outputs=Schema([ColSpec("long" if c in ("image", "class") else "double", c) for c in yolo_pyfunc.BOX_COLUMNS]),
    )
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / MODEL_ARTIFACT_DIR
        mlflow.pyfunc.save_model(
            path=str(model_dir),
            python_model=yolo_pyfunc.YoloPyfunc(),
            artifacts={yolo_pyfunc.WEIGHTS_ARTIFACT: str(weights), yolo_pyfunc.ONNX_ARTIFACT: str(onnx)},
            model_config={"imgsz": imgsz, "conf": conf, "backend": "pytorch"},
            signature=signature,
            input_example=pd.DataFrame({yolo_pyfunc.IMAGE_COLUMN: [_example_png(imgsz)]}),
            pip_requirements=[_pinned(name) for name in _MODEL_REQUIREMENTS],
        )
        mlflow.log_artifacts(str(model_dir), artifact_path=MODEL_ARTIFACT_DIR)
    return MODEL_ARTIFACT_DIR
