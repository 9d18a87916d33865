"""ZenML server adapter: the CI service account and its API key, and the stack CI jobs run on.

`bootstrap` runs once per server as an admin (ZENML_STORE_URL + ZENML_STORE_USERNAME/PASSWORD);
`register_stack` runs with nothing but ZENML_STORE_URL + ZENML_STORE_API_KEY, and is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zenml.client import Client
from zenml.enums import StackComponentType

from yolo_mlops.adapters import zenml_stack

SERVICE_ACCOUNT = "yolo-mlops-ci"
API_KEY_NAME = "ci"
STACK = "yolo-mlops"
S3_SECRET = "yolo-mlops-s3"
MLFLOW_SECRET = "yolo-mlops-mlflow"
ARTIFACT_STORE = "yolo-mlops-s3"
TRACKER = "yolo-mlops-mlflow"


def bootstrap(rotate: bool) -> str | None:
    """Create the service account and return its new API key (shown once); None if it exists and
    `rotate` is False (the existing key stays valid)."""
    client = Client()
    try:
        client.get_service_account(SERVICE_ACCOUNT, allow_name_prefix_match=False)
    except KeyError:
        client.create_service_account(name=SERVICE_ACCOUNT, description="yolo-mlops GitLab CI")
        return client.create_api_key(SERVICE_ACCOUNT, name=API_KEY_NAME).key
    if not rotate:
        return None
    return client.rotate_api_key(SERVICE_ACCOUNT, API_KEY_NAME, retain_period_minutes=0).key


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
    if zenml_stack.ensure_stack(STACK, ARTIFACT_STORE, TRACKER):
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
