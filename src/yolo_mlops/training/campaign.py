"""A campaign: the baseline and grid pipeline runs of one CI pipeline or one local demo."""

from __future__ import annotations

import secrets
from pathlib import Path

from yolo_mlops.adapters import mlflow_tracking, zenml_client
from yolo_mlops.adapters.git_info import provenance_tags
from yolo_mlops.configuration.process_env import server_timeout_s
from yolo_mlops.core.errors import RunFailed, UserError
from yolo_mlops.core.leaderboard import LeaderboardRow
from yolo_mlops.core.settings import Settings
from yolo_mlops.training.planning import PlannedRun


def prepare_tracking(settings: Settings) -> str:
    """Stack + experiment ready before the first run; returns the MLflow tracking URI in use."""
    if settings.zenml_store_url is None:
        if settings.mlflow_tracking_uri and settings.mlflow_tracking_uri.startswith(("http://", "https://")):
            raise UserError(
                "MLFLOW_TRACKING_URI names an MLflow server but ZENML_STORE_URL is unset: set ZENML_STORE_URL and "
                "ZENML_STORE_API_KEY too (the servers work as a pair), or unset both for the embedded default."
            )
        tracking_uri = settings.mlflow_tracking_uri or mlflow_tracking.embedded_tracking_uri(settings.state_dir)
        zenml_client.ensure_embedded_stack(tracking_uri)
    else:
        zenml_client.require_reachable(settings.zenml_store_url, server_timeout_s())
        zenml_client.activate_stack()  # a fresh CI runner's client has no active stack yet
        try:
            tracking_uri = zenml_client.active_tracking_uri()
        except RuntimeError as exc:
            raise UserError(f"ZENML_STORE_URL is set but {exc}.") from None
    artifact_root = (
        mlflow_tracking.embedded_artifact_root(settings.state_dir) if tracking_uri.startswith("sqlite:") else None
    )
    mlflow_tracking.ensure_experiment(tracking_uri, settings.experiment_name, artifact_root)
    return tracking_uri


def execute(
    planned: PlannedRun, dataset_dir: Path, settings: Settings, project_dir: Path, model_name: str
) -> LeaderboardRow:
    """Run one training pipeline; cached steps are reused, so an unchanged config retrains nothing."""
    from yolo_mlops.training.pipeline import training_pipeline

    tags = {"campaign": settings.campaign, "pipeline": planned.pipeline, **provenance_tags(project_dir)}
    if planned.cell is not None:
        tags["grid_cell"] = planned.cell
    cell = "" if planned.cell is None else "-" + planned.cell.replace("/", "of")
    run_name = f"{planned.pipeline}{cell}-{settings.campaign}-{secrets.token_hex(3)}"
    print(f"==> {planned.name} {planned.overrides_text} (ZenML run {run_name})", flush=True)
    try:
        run = training_pipeline.with_options(
            run_name=run_name,
            settings=zenml_client.tracker_settings(settings.experiment_name, tags),
            model=zenml_client.model_config(model_name),
        )(dataset_dir=str(dataset_dir.resolve()), params=planned.params.to_dict(), config_name=planned.name)
    except RuntimeError as exc:
        # Completed steps stay cached: re-running once the cause is fixed resumes from there.
        raise RunFailed(f"pipeline run {run_name} failed: {exc} (the step's log above says why)") from None
    if run is None:
        raise RuntimeError(f"ZenML returned no pipeline run for {run_name}")
    summary = zenml_client.step_output(run.id, "summarize_experiment", "summary")
    return LeaderboardRow.from_summary(summary, planned.overrides_text)
