"""The stack's settings file (.env / .env.example) and the client variables `stack up` leaves for the jobs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from yolo_mlops.core.errors import UserError
from yolo_mlops.core.service_config import CLIENT_VARIABLES, StackConfig, parse_env_file, resolve_stack_config


def stack_dir(state_dir: Path) -> Path:
    return state_dir / "stack"


def client_env_file(state_dir: Path) -> Path:
    """Where `stack up` leaves the client variables of the local stack (mode 0600; never printed)."""
    return stack_dir(state_dir) / "client.env"


def load_stack_config(env_file: Path | None) -> tuple[StackConfig, str]:
    """From `env_file`, else .env, else .env.example (local-only defaults); the environment overrides."""
    candidates = [env_file] if env_file else [Path(".env"), Path(".env.example")]
    for path in candidates:
        if path.is_file():
            return resolve_stack_config(parse_env_file(path.read_text()), os.environ, str(path)), str(path)
    raise UserError(f"{candidates[0]}: not found; copy .env.example to .env (local-only defaults) and edit it.")


def write_client_env(state_dir: Path, values: Mapping[str, str]) -> Path:
    path = client_env_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def load_client_env(state_dir: Path) -> dict[str, str]:
    """The local stack's client variables; the process environment wins where both set one."""
    path = client_env_file(state_dir)
    values = parse_env_file(path.read_text()) if path.is_file() else {}
    return {**values, **{k: os.environ[k] for k in CLIENT_VARIABLES if os.environ.get(k)}}
