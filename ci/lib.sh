#!/usr/bin/env bash
# Sourced by every ci/*.sh: the yolo-mlops CLI on PATH and, for a stack started on this runner, its
# client variables. Job logic lives in the CLI; these scripts only call it.
set -euo pipefail

# In the project's images (the Dockerfile's ci and gpu-train targets: dependencies only) the job installs
# its own checkout over them, so a merge request runs its own src/ and configs; never the dependencies.
# A shell runner names a ready venv instead (YOLO_MLOPS_VENV).
if [ -n "${YOLO_MLOPS_VENV:-}" ]; then
  export PATH="$YOLO_MLOPS_VENV/bin:$PATH"
elif [ -n "${YOLO_MLOPS_IMAGE:-}" ]; then
  cmp -s /opt/image/pyproject.toml pyproject.toml || {
    echo "error: this image's dependencies were installed from another pyproject.toml: the images job builds the one for YOLO_MLOPS_IMAGE_TAG (${YOLO_MLOPS_IMAGE_TAG:-unset}); run 'make image-tag' after changing pyproject.toml" >&2
    exit 2
  }
  pip install -q --no-deps --no-build-isolation -e .
else
  echo "error: not in a yolo-mlops image (YOLO_MLOPS_IMAGE is unset): give this job 'image: \$CI_IMAGE' or set YOLO_MLOPS_VENV to a venv with the project" >&2
  exit 2
fi
# Which image this job runs in and whose code it runs (tests/integration/test_gitlab_ci.py compares them
# with the YAML and the checkout).
# shellcheck disable=SC1091
. /etc/os-release
echo "job image: ${YOLO_MLOPS_IMAGE:-none} (${PRETTY_NAME}), code: $(python3 -c 'import yolo_mlops; print(yolo_mlops.__file__)')"

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

