#!/usr/bin/env bash
# train:grid job, one of CI_NODE_TOTAL parallel jobs: the grid cells of shard CI_NODE_INDEX.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops data pull
yolo-mlops train grid --config "${GRID_CONFIG:-configs/grid.yaml}" --cell "${CI_NODE_INDEX:-1}/${CI_NODE_TOTAL:-1}" \
  --out leaderboard
