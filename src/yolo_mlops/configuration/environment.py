"""The current process's settings, read once from the environment (see core.settings for the contract)."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from yolo_mlops.core.settings import Settings, resolve_settings


@cache
def current_settings() -> Settings:
    settings = resolve_settings(os.environ, Path.cwd(), datetime.now(UTC), secrets.token_hex(2))
    # Pin the campaign for child processes and later calls in this one (a generated id must not change).
    os.environ.setdefault("YOLO_MLOPS_CAMPAIGN", settings.campaign)
    os.environ.setdefault("YOLO_MLOPS_STATE_DIR", str(settings.state_dir))
    return settings
