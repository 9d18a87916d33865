"""Step: score the trained weights on the val split under the metric names the gate reads."""

from pathlib import Path
from typing import Annotated, Any

from zenml import step

from yolo_mlops.adapters import mlflow_tracking, ultralytics_runtime
from yolo_mlops.core.train_params import parse_train_params


@step(experiment_tracker=True)
def evaluate_model(model_dir: Path, data_yaml: str, params: dict[str, Any]) -> Annotated[dict[str, float], "metrics"]:
    train_params = parse_train_params(params, "evaluate_model params")
    metrics = ultralytics_runtime.evaluate(
        model_dir / ultralytics_runtime.WEIGHTS_FILE,
        Path(data_yaml),
        imgsz=train_params.imgsz,
        batch=train_params.batch,
        device=train_params.device,
    )
    mlflow_tracking.log_metrics(metrics)
    return metrics
