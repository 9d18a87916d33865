#!/usr/bin/env bash
# promote:production job (manual): point production at the version behind staging.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops promote --from staging --to production
