#!/usr/bin/env bash
# promote:production job (manual): point production at the version this pipeline's gate promoted to
# staging (MODEL_VERSION from the gate's dotenv, or set by hand when running the job); without one, at
# the version behind staging.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
version=()
[ -z "${MODEL_VERSION:-}" ] || version=(--version "$MODEL_VERSION")
yolo-mlops promote --from staging --to production "${version[@]}"
