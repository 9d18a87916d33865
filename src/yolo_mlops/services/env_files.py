"""The stack's settings file (.env / .env.example) and the client variables `stack up` leaves for the jobs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from yolo_mlops.core.errors import UserError
from yolo_mlops.core.service_config import (
    CLIENT_VARIABLES,
    IDENTITY_CREDENTIALS,
    PROMOTER,
    TRAINER,
    StackConfig,
    parse_env_file,
    resolve_stack_config,
)


def stack_dir(state_dir: Path) -> Path:
    return state_dir / "stack"


def client_env_file(state_dir: Path, identity: str = PROMOTER) -> Path:
    """Where `stack up` leaves an identity's client variables for the local stack (mode 0600; never printed):
    client.env for the promoter, trainer.env for the trainer."""
    return stack_dir(state_dir) / {PROMOTER: "client.env", TRAINER: "trainer.env"}[identity]


def identity_credentials(state_dir: Path) -> dict[str, str]:
    """The identities' MLflow passwords and S3 keys for the local stack: generated on the first `up` and kept
    (mode 0600), so that a later `up` finds the users and keys it created."""
    path = stack_dir(state_dir) / "identities.env"
    if path.is_file():
        return read_env_file(path)
    values = {key: secrets.token_hex(16) for keys in IDENTITY_CREDENTIALS.values() for key in keys}
    write_env_file(path, values)
    return values


def load_stack_config(env_file: Path | None) -> tuple[StackConfig, str]:
    """From `env_file`, else .env, else .env.example (local-only defaults); the environment overrides."""
    candidates = [env_file] if env_file else [Path(".env"), Path(".env.example")]
    for path in candidates:
        if path.is_file():
            return resolve_stack_config(parse_env_file(path.read_text()), os.environ, str(path)), str(path)
    raise UserError(f"{candidates[0]}: not found; copy .env.example to .env (local-only defaults) and edit it.")


def write_env_file(path: Path, values: Mapping[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of a file `stack up` wrote; empty when there is none yet."""
    return parse_env_file(path.read_text()) if path.is_file() else {}


def load_client_env(state_dir: Path, identity: str = PROMOTER) -> dict[str, str]:
    """An identity's client variables of the local stack; the process environment wins where both set one."""
    values = read_env_file(client_env_file(state_dir, identity))
    return {**values, **{k: os.environ[k] for k in CLIENT_VARIABLES if os.environ.get(k)}}
