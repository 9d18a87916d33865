"""ZenML adapter: the stack the pipelines run on, tracker settings, and reading step outputs."""

from __future__ import annotations

from typing import Any

from zenml.client import Client
from zenml.enums import StackComponentType

EMBEDDED_STACK = "yolo_mlops_embedded"
EMBEDDED_TRACKER = "yolo_mlops_mlflow"


def ensure_embedded_stack(tracking_uri: str) -> None:
    """The local orchestrator + local artifact store + an MLflow tracker on `tracking_uri`; activated.

    Idempotent: reuses the components when they exist and only fixes a tracker URI that moved.
    """
    client = Client()
    trackers = client.list_stack_components(type=StackComponentType.EXPERIMENT_TRACKER, name=EMBEDDED_TRACKER).items
    if not trackers:
        client.create_stack_component(
            name=EMBEDDED_TRACKER,
            flavor="mlflow",
            component_type=StackComponentType.EXPERIMENT_TRACKER,
            configuration={"tracking_uri": tracking_uri},
        )
    elif trackers[0].configuration.get("tracking_uri") != tracking_uri:
        client.update_stack_component(
            name_id_or_prefix=trackers[0].id,
            component_type=StackComponentType.EXPERIMENT_TRACKER,
            configuration={"tracking_uri": tracking_uri},
        )
    ensure_stack(EMBEDDED_STACK, None, EMBEDDED_TRACKER)


def ensure_stack(name: str, artifact_store: str | None, tracker: str) -> bool:
    """The stack `name` (the default local orchestrator, `artifact_store` or the default one, `tracker`),
    created if missing and activated. True when it was created."""
    client = Client()
    created = False
    if not client.list_stacks(name=name).items:
        default = client.get_stack("default")
        client.create_stack(
            name=name,
            components={
                StackComponentType.ORCHESTRATOR: default.components[StackComponentType.ORCHESTRATOR][0].id,
                StackComponentType.ARTIFACT_STORE: artifact_store
                or default.components[StackComponentType.ARTIFACT_STORE][0].id,
                StackComponentType.EXPERIMENT_TRACKER: tracker,
            },
        )
        created = True
    if client.active_stack_model.name != name:
        client.activate_stack(name)
    return created


def active_tracking_uri() -> str:
    """The MLflow tracking URI of the active stack's experiment tracker (fails clearly without one)."""
    tracker = Client().active_stack.experiment_tracker
    if tracker is None or tracker.flavor != "mlflow":
        raise RuntimeError(
            "the active ZenML stack has no MLflow experiment tracker; run `yolo-mlops zenml register-stack` "
            "or unset ZENML_STORE_URL to use the embedded default"
        )
    return tracker.get_tracking_uri()


def tracker_settings(experiment_name: str, tags: dict[str, str]) -> dict[str, Any]:
    """Pipeline settings: the MLflow experiment and the run tags (settings do not enter the cache key)."""
    from zenml.integrations.mlflow.flavors.mlflow_experiment_tracker_flavor import (
        MLFlowExperimentTrackerSettings,
    )

    return {"experiment_tracker": MLFlowExperimentTrackerSettings(experiment_name=experiment_name, tags=tags)}


def current_run_id() -> str:
    """The ZenML pipeline run id, from inside a step."""
    from zenml import get_step_context

    return str(get_step_context().pipeline_run.id)


def step_output(run_id: Any, step_name: str, output_name: str) -> Any:
    """Load one output artifact of a step of a finished pipeline run (cached steps included)."""
    run = Client().get_pipeline_run(run_id)
    outputs = run.steps[step_name].outputs[output_name]
    artifact = outputs[0] if isinstance(outputs, list) else outputs
    return artifact.load()


def model_config(model_name: str) -> Any:
    """Links each pipeline run to a version of the ZenML model of the registered model's name."""
    from zenml import Model

    return Model(name=model_name)


def set_model_stage(zenml_run_id: str, stage: str) -> str:
    """Put the ZenML model version of a pipeline run into `stage` (the previous holder is archived).

    Returns the model version's name. Raises RuntimeError when the run has no model version.
    """
    run = Client().get_pipeline_run(zenml_run_id)
    version = run.model_version
    if version is None:
        raise RuntimeError(f"ZenML pipeline run {zenml_run_id} is linked to no model version")
    version.set_stage(stage, force=True)
    return str(version.name)
