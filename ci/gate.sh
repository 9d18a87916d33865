#!/usr/bin/env bash
# gate job: decide on this campaign; promote to staging (GATE_MODE=promote) or only report (dry-run).
# The reports go to the merge request either way; reporting never changes the gate's exit code.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops data pull
mode=()
[ "${GATE_MODE:-dry-run}" = "promote" ] || mode=(--dry-run)
status=0
yolo-mlops gate --baseline "${BASELINE_CONFIG:-configs/baseline.yaml}" --grid "${GRID_CONFIG:-configs/grid.yaml}" \
  --out gate-reports "${mode[@]}" || status=$?
yolo-mlops gitlab report --report gate-reports/gate_report.json --markdown gate-reports/gate_report.md || true
exit "$status"
