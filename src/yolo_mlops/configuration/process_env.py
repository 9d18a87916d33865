"""Process environment for the tools we drive: offline, no telemetry, all state under one directory.

Must run before zenml, mlflow or ultralytics are imported: each reads these variables at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

# Telemetry and network switches; each of these tools phones home or looks up hosts otherwise.
_QUIET = {
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "False",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "ZENML_ANALYTICS_OPT_IN": "false",
    "ZENML_ENABLE_RICH_TRACEBACK": "false",
    "AUTO_OPEN_DASHBOARD": "false",
    "DVC_NO_ANALYTICS": "1",
    "GIT_PYTHON_REFRESH": "quiet",
}


def configure_process_env(state_dir: Path) -> None:
    """Point every tool's config/cache directory into `state_dir` so nothing lands in $HOME."""
    state_dir.mkdir(parents=True, exist_ok=True)
    dirs = {
        "YOLO_CONFIG_DIR": state_dir / "ultralytics",
        "MPLCONFIGDIR": state_dir / "matplotlib",
        "ZENML_CONFIG_PATH": state_dir / "zenml",
        "TORCH_HOME": state_dir / "torch",
        # onnxruntime (ONNX export, the gate's servable check) keeps a device id under $XDG_CACHE_HOME.
        "XDG_CACHE_HOME": state_dir / "cache",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault(key, str(path))
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
