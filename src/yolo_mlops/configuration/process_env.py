"""Process environment for the tools we drive: offline, no telemetry, all state under one directory.

Must run before zenml, mlflow or ultralytics are imported: each reads these variables at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.settings import padded_api_key

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


SERVER_TIMEOUT_VARIABLE = "YOLO_MLOPS_SERVER_TIMEOUT_S"
DEFAULT_SERVER_TIMEOUT_S = 20
# Attempts per MLflow request (1 + retries); with urllib3's back-off (0 s, then 2 s) and a per-attempt timeout of a
# quarter of the budget, one failing request ends within the budget.
_MLFLOW_RETRIES = 2


def server_timeout_s() -> int:
    """The fault budget of one server call, in seconds (YOLO_MLOPS_SERVER_TIMEOUT_S, default 20)."""
    raw = os.environ.get(SERVER_TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SERVER_TIMEOUT_S
    if not raw.isdigit() or int(raw) < 4:
        raise ConfigError(f"{SERVER_TIMEOUT_VARIABLE}={raw!r}: set a whole number of seconds >= 4 (default 20).")
    return int(raw)


def server_budget_env(budget_s: int, zenml_store_url: str) -> dict[str, str]:
    """MLflow's and ZenML's HTTP timeout and retry settings for a fault budget; ZenML's only for a server store
    (its SQL store rejects an HTTP setting)."""
    per_attempt = str(max(1, budget_s // 4))
    env = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": per_attempt,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(_MLFLOW_RETRIES),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    }
    if zenml_store_url.startswith(("http://", "https://")):
        env["ZENML_STORE_HTTP_TIMEOUT"] = per_attempt
    return env


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
    # MLflow's own default retries a dead server for minutes: every server call gets the CLI's budget.
    for key, value in server_budget_env(server_timeout_s(), os.environ.get("ZENML_STORE_URL", "")).items():
        os.environ.setdefault(key, value)
    # The one place the key is read: ZenML's client, the preflight and child processes all see it padded.
    if os.environ.get("ZENML_STORE_API_KEY"):
        os.environ["ZENML_STORE_API_KEY"] = padded_api_key(os.environ["ZENML_STORE_API_KEY"])
