"""MLflow's basic-auth users and permissions, set by the server's admin: the only code that manages them.

Run by `stack up` on a local stack. The experiment and the registered model are created first (as the
admin), because MLflow grants permissions on existing resources only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient

from yolo_mlops.adapters.mlflow_tracking import ensure_experiment

_EXISTS = "RESOURCE_ALREADY_EXISTS"


class PermissionSetupError(RuntimeError):
    """An admin call to MLflow failed; the message names the call."""


@contextmanager
def _as(username: str, password: str) -> Iterator[None]:
    """MLflow's clients read the basic-auth credentials from the environment at each request."""
    names = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, (username, password), strict=True)))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def ensure_identities(
    tracking_uri: str,
    admin: tuple[str, str],
    experiment_name: str,
    model_name: str,
    users: Mapping[str, tuple[str, bool]],
) -> None:
    """Each of `users` (name -> (password, manages the model)) exists with that password, EDIT on the
    experiment, and MANAGE on the registered model when it manages it (else the server's READ default)."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    auth = get_app_client("basic-auth", tracking_uri=tracking_uri)
    step = "reading or creating the experiment"
    try:
        with _as(*admin):
            experiment_id = ensure_experiment(tracking_uri, experiment_name, None)
            step = "creating the registered model"
            _tolerate_exists(client.create_registered_model, model_name)
            for username, (password, manages_model) in users.items():
                step = f"creating user {username}"
                if not _tolerate_exists(auth.create_user, username, password):
                    auth.update_user_password(username, password)
                step = f"granting {username} its permissions"
                _grant(auth, username, "experiment", experiment_id, "EDIT")
                if manages_model:
                    _grant(auth, username, "registered_model", model_name, "MANAGE")
    except (MlflowException, OSError) as exc:
        message = exc.message if isinstance(exc, MlflowException) else str(exc)
        raise PermissionSetupError(f"MLflow at {tracking_uri}: {step} failed: {message}") from None


def _tolerate_exists(call: Callable[..., Any], *args: str) -> bool:
    """True when `call` created the thing, False when it existed already."""
    try:
        call(*args)
    except MlflowException as exc:
        if exc.error_code != _EXISTS:
            raise
        return False
    return True


def _grant(auth: Any, username: str, resource_type: str, resource_id: str, permission: str) -> None:
    """Exactly `permission`: a grant made by hand since (MLflow has no update for it) is replaced."""
    if not _tolerate_exists(auth.grant_user_permission, username, resource_type, resource_id, permission):
        auth.revoke_user_permission(username, resource_type, resource_id)
        auth.grant_user_permission(username, resource_type, resource_id, permission)
