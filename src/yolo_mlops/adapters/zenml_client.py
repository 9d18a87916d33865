"""ZenML adapter, the only module that talks to ZenML: the stack pipelines run on, tracker settings, step
outputs, model stages; and on a ZenML server the CI service account and its API key and the shared stack.

`bootstrap` runs once per server as an admin (ZENML_STORE_URL + ZENML_STORE_USERNAME/PASSWORD);
`register_stack` runs with nothing but ZENML_STORE_URL + ZENML_STORE_API_KEY, and is idempotent.
"""

from __future__ import annotations

import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

from zenml.client import Client
from zenml.enums import StackComponentType

from yolo_mlops.core.errors import ServiceUnavailable

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


# ---- a ZenML server: service account, shared stack ----------------------------------------------

API_KEY_NAME = "ci"
STACK = "yolo-mlops"
S3_SECRET = "yolo-mlops-s3"
MLFLOW_SECRET = "yolo-mlops-mlflow"
ARTIFACT_STORE = "yolo-mlops-s3"
TRACKER = "yolo-mlops-mlflow"


def bootstrap(account: str, rotate: bool) -> str | None:
    """Create the service account `account` and return its new API key (shown once); None if it exists and
    `rotate` is False (the existing key stays valid)."""
    client = Client()
    try:
        client.get_service_account(account, allow_name_prefix_match=False)
    except KeyError:
        client.create_service_account(name=account, description="yolo-mlops GitLab CI")
        return client.create_api_key(account, name=API_KEY_NAME).key
    if not rotate:
        return None
    return client.rotate_api_key(account, API_KEY_NAME, retain_period_minutes=0).key


@dataclass(frozen=True)
class StackTarget:
    s3_endpoint: str
    artifact_bucket: str
    aws_access_key_id: str
    aws_secret_access_key: str
    mlflow_uri: str
    mlflow_username: str
    mlflow_password: str


def _upsert_secret(client: Client, name: str, values: dict[str, str], changes: list[str]) -> None:
    try:
        secret = client.get_secret(name, allow_partial_name_match=False)
    except KeyError:
        client.create_secret(name, values=values)
        changes.append(f"created secret {name}")
        return
    if secret.secret_values != values:
        client.update_secret(secret.id, add_or_update_values=values)
        changes.append(f"updated secret {name}")


def _upsert_component(
    client: Client,
    name: str,
    component_type: StackComponentType,
    flavor: str,
    configuration: dict[str, Any],
    changes: list[str],
) -> None:
    found = client.list_stack_components(type=component_type, name=name).items
    if not found:
        client.create_stack_component(name, flavor, component_type, configuration)
        changes.append(f"created {component_type.value} {name}")
        return
    current = found[0]
    if current.flavor_name != flavor:
        raise RuntimeError(f"ZenML {component_type.value} {name!r} exists with flavor {current.flavor_name!r}")
    if any(current.configuration.get(k) != v for k, v in configuration.items()):
        client.update_stack_component(current.id, component_type, configuration=configuration)
        changes.append(f"updated {component_type.value} {name}")


def register_stack(target: StackTarget) -> list[str]:
    """Secrets, S3 artifact store, MLflow experiment tracker and the stack; activated. What changed."""
    client = Client()
    changes: list[str] = []
    _upsert_secret(
        client,
        S3_SECRET,
        {"aws_access_key_id": target.aws_access_key_id, "aws_secret_access_key": target.aws_secret_access_key},
        changes,
    )
    _upsert_secret(
        client, MLFLOW_SECRET, {"username": target.mlflow_username, "password": target.mlflow_password}, changes
    )
    _upsert_component(
        client,
        ARTIFACT_STORE,
        StackComponentType.ARTIFACT_STORE,
        "s3",
        {
            "path": f"s3://{target.artifact_bucket}",
            "key": f"{{{{{S3_SECRET}.aws_access_key_id}}}}",
            "secret": f"{{{{{S3_SECRET}.aws_secret_access_key}}}}",
            # A non-AWS endpoint (MinIO, SeaweedFS) needs an explicit region.
            "client_kwargs": {"endpoint_url": target.s3_endpoint, "region_name": "us-east-1"},
        },
        changes,
    )
    _upsert_component(
        client,
        TRACKER,
        StackComponentType.EXPERIMENT_TRACKER,
        "mlflow",
        {
            "tracking_uri": target.mlflow_uri,
            # ZenML's MLflow tracker demands exactly one auth method for an http(s) URI.
            "tracking_username": f"{{{{{MLFLOW_SECRET}.username}}}}",
            "tracking_password": f"{{{{{MLFLOW_SECRET}.password}}}}",
        },
        changes,
    )
    if ensure_stack(STACK, ARTIFACT_STORE, TRACKER):
        changes.append(f"created stack {STACK}")
    return changes


def activate_stack() -> bool:
    """Make the registered stack active in this client's config (a fresh CI runner has none); False
    when the server has no such stack."""
    client = Client()
    if not client.list_stacks(name=STACK).items:
        return False
    if client.active_stack_model.name != STACK:
        client.activate_stack(STACK)
    return True


def require_reachable(store_url: str, timeout_s: float) -> None:
    """Fail fast on a server that does not answer: ZenML's client retries a refused connection for about 30 s,
    and that retry budget has no setting."""
    parsed = urllib.parse.urlsplit(store_url)
    if parsed.scheme not in ("http", "https"):
        return  # a SQL store URL: its driver has its own timeouts
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname or "", port), timeout=timeout_s).close()
    except OSError as exc:
        raise ServiceUnavailable(f"ZenML server at {store_url} is unreachable: {exc}") from None
