#!/usr/bin/env bash
# services job: the servers answer and accept our credentials before any GPU minute is spent.
# Shared servers given by CI/CD variables: only the preflight, and the shared ZenML stack is registered
# only when YOLO_MLOPS_REGISTER_STACK=true (the default branch, or a pipeline run by hand with it).
# Otherwise start the stack here (docker compose where a Docker engine answers, native processes where
# not) and register the stack on it.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "$YOLO_MLOPS_SHARED_SERVERS" = true ]; then
  yolo-mlops stack status --shared
else
  yolo-mlops stack up
  load_client_env
  yolo-mlops stack status
  YOLO_MLOPS_REGISTER_STACK=true
fi
if [ "${YOLO_MLOPS_REGISTER_STACK:-false}" = true ]; then
  yolo-mlops zenml register-stack
else
  echo "ZenML stack: using the registered one (YOLO_MLOPS_REGISTER_STACK is not true on this ref)"
fi
