#!/usr/bin/env bash
# data job: pull the DVC-versioned dataset, validate it, export its md5 for later jobs.
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
yolo-mlops data pull
yolo-mlops data validate data --dotenv data.env
