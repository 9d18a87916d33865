#!/usr/bin/env bash
# train:baseline job: the baseline pipeline run of this campaign (CI_PIPELINE_ID).
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops data pull
yolo-mlops train baseline --config "${BASELINE_CONFIG:-configs/baseline.yaml}" --out leaderboard
