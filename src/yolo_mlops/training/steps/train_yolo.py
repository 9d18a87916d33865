"""Step: train YOLO from scratch, logging params and per-epoch metrics into the pipeline's MLflow run, and the
weights as an MLflow pyfunc model with their ONNX export beside them (what the gate registers)."""

import time
from pathlib import Path
from typing import Annotated, Any

from zenml import step

from yolo_mlops.adapters import mlflow_tracking, ultralytics_runtime, zenml_client
from yolo_mlops.configuration.environment import current_settings
from yolo_mlops.core.train_params import parse_train_params


@step(experiment_tracker=True)
def train_yolo(
    data_yaml: str, data_md5: str, params: dict[str, Any]
) -> tuple[Annotated[Path, "model_dir"], Annotated[dict[str, Any], "training"]]:
    """`data_md5` is an input for the cache key: the same data.yaml path over changed data must retrain."""
    train_params = parse_train_params(params, "train_yolo params")
    run_id = zenml_client.current_run_id()
    out_dir = current_settings().state_dir / "ultralytics-runs" / run_id
    mlflow_tracking.log_params(train_params.to_dict())
    result = ultralytics_runtime.train(train_params, Path(data_yaml), out_dir)
    # After training, from Ultralytics' results.csv: callbacks would not run in DDP's worker processes.
    for epoch, metrics in result.epochs:
        mlflow_tracking.log_metrics(metrics, step=epoch)
    weights_sha256 = mlflow_tracking.file_sha256(result.best_weights)
    started = time.perf_counter()
    onnx = ultralytics_runtime.export_onnx(result.best_weights, train_params.imgsz)
    mlflow_tracking.log_yolo_model(result.best_weights, onnx, train_params.imgsz)
    # What serving costs each training run (bench/bench_model.py compares it with the run's time).
    model_seconds = time.perf_counter() - started
    mlflow_tracking.log_metrics({"train_seconds": result.seconds, "model_export_seconds": model_seconds})
    training = {
        "mlflow_run_id": mlflow_tracking.active_run_id(),
        "train_zenml_run_id": run_id,
        "weights_sha256": weights_sha256,
        "train_seconds": round(result.seconds, 2),
        "device": result.device,
        "params": train_params.to_dict(),
    }
    return result.model_dir, training
