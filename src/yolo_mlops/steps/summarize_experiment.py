"""Step: one JSON + Markdown summary of the pipeline run, as a ZenML artifact and in MLflow."""

from typing import Annotated, Any

from zenml import step

from yolo_mlops.adapters import mlflow_tracking
from yolo_mlops.core.leaderboard import render_run_summary


@step(experiment_tracker=True)
def summarize_experiment(
    metrics: dict[str, float], training: dict[str, Any], data_md5: str, config_name: str
) -> Annotated[dict[str, Any], "summary"]:
    summary = {"config": config_name, "data_md5": data_md5, "metrics": metrics, **training}
    mlflow_tracking.log_json(summary, "summary/summary.json")
    mlflow_tracking.log_text(render_run_summary(summary), "summary/summary.md")
    return summary
