"""Step: score the trained weights on the val split under the metric names the gate reads.

The metrics are logged to MLflow by summarize_experiment, which runs for every pipeline run."""

from pathlib import Path
from typing import Annotated, Any

from zenml import step

from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.core.train_params import parse_train_params


@step
def evaluate_model(model_dir: Path, data_yaml: str, params: dict[str, Any]) -> Annotated[dict[str, float], "metrics"]:
    train_params = parse_train_params(params, "evaluate_model params")
    metrics = ultralytics_runtime.evaluate(
        model_dir / ultralytics_runtime.WEIGHTS_FILE,
        Path(data_yaml),
        imgsz=train_params.imgsz,
        batch=train_params.batch,
        device=train_params.device,
    )
    return metrics
