#!/usr/bin/env bash
# services job: the servers answer and accept our credentials before any GPU minute is spent.
# Shared servers given by CI/CD variables: only the preflight. Otherwise start the stack here
# (docker compose where a Docker engine answers, native processes where not).
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "$YOLO_MLOPS_SHARED_SERVERS" = true ]; then
  yolo-mlops stack status --shared
else
  yolo-mlops stack up
  load_client_env
  yolo-mlops stack status
fi
yolo-mlops zenml register-stack
