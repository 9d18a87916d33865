#!/usr/bin/env bash
# rollback:staging / rollback:production jobs (manual): ROLLBACK_ALIAS back to its previous version.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops rollback --alias "${ROLLBACK_ALIAS:?set ROLLBACK_ALIAS to staging or production}"
