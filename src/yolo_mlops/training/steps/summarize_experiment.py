"""Step: the run's record in MLflow (final metrics, contract tags) and a JSON + Markdown summary."""

from typing import Annotated, Any

from zenml import step

from yolo_mlops.adapters import mlflow_tracking, zenml_client
from yolo_mlops.core.leaderboard import render_run_summary


@step(experiment_tracker=True, enable_cache=False)
def summarize_experiment(
    metrics: dict[str, float], training: dict[str, Any], data_md5: str, config_name: str
) -> Annotated[dict[str, Any], "summary"]:
    """Never cached, so that every pipeline run, even one whose training came from ZenML's cache, has
    its own MLflow run carrying its campaign's tags and the final metrics; `source_run_id` then names
    the MLflow run that trained (and holds) the weights."""
    run_id = mlflow_tracking.active_run_id()
    summary = {
        "config": config_name,
        "data_md5": data_md5,
        "metrics": metrics,
        **training,
        "mlflow_run_id": run_id,
        "source_run_id": training["mlflow_run_id"],
        "zenml_run_id": zenml_client.current_run_id(),
        "cached": training["mlflow_run_id"] != run_id,
    }
    mlflow_tracking.log_metrics(metrics)
    mlflow_tracking.set_tags(
        {
            "data_md5": data_md5,
            "weights_sha256": training["weights_sha256"],
            "zenml_run_id": summary["zenml_run_id"],
            "source_run_id": summary["source_run_id"],
            "cached": str(summary["cached"]).lower(),
            "device": training["device"],
        }
    )
    if summary["cached"]:
        mlflow_tracking.log_params(training["params"])
    mlflow_tracking.log_json(summary, "summary/summary.json")
    mlflow_tracking.log_text(render_run_summary(summary), "summary/summary.md")
    return summary
