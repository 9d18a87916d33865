#!/usr/bin/env bash
# Sourced by every ci/*.sh: the yolo-mlops CLI on PATH and, for a stack started on this runner, its
# client variables. Job logic lives in the CLI; these scripts only call it.
set -euo pipefail

# The GPU image has the project installed; a shell runner may name a ready venv; else build one.
if [ -n "${YOLO_MLOPS_VENV:-}" ]; then
  export PATH="$YOLO_MLOPS_VENV/bin:$PATH"
elif ! command -v yolo-mlops >/dev/null 2>&1; then
  make install >/dev/null
  export PATH="$PWD/.venv/bin:$PATH"
fi

# Shared servers are those the project's CI/CD variables point at; otherwise the `stack` job starts the
# stack on this runner and later jobs read the client variables it wrote.
if [ -z "${YOLO_MLOPS_SHARED_SERVERS:-}" ]; then
  YOLO_MLOPS_SHARED_SERVERS=false
  [ -z "${MLFLOW_TRACKING_URI:-}" ] || YOLO_MLOPS_SHARED_SERVERS=true
  export YOLO_MLOPS_SHARED_SERVERS
fi
load_client_env() {
  local client_env="${YOLO_MLOPS_STATE_DIR:-.mlops}/stack/client.env"
  if [ "$YOLO_MLOPS_SHARED_SERVERS" = false ] && [ -f "$client_env" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$client_env"
    set +a
  fi
}
load_client_env

# The dataset, from the S3 remote (endpoint and keys from the environment, never committed).
pull_data() {
  dvc remote modify --local s3 endpointurl "$MLFLOW_S3_ENDPOINT_URL"
  dvc pull -q -r s3
}
