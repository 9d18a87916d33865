"""The service stack under docker compose (where a Docker engine answers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

COMPOSE_FILE = Path("docker-compose.yml")


def docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def compose_command(env_file: str) -> list[str]:
    return ["docker", "compose", "--env-file", env_file, "-f", str(COMPOSE_FILE)]
