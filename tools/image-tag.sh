#!/usr/bin/env bash
# The tag of the ci / gpu-train / mlflow-server images: a hash of everything they are built from (the
# Dockerfile, the folders of docker/ it copies from and pyproject.toml; docker/mysql is compose's, not an
# image's; the project's code is installed by each job, not baked in).
# An unchanged dependency set keeps its tag, so its images are reused; .gitlab-ci.yml names the same tag
# (YOLO_MLOPS_IMAGE_TAG; tests/integration/test_gitlab_ci.py and the `images` job check they agree).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  sha256sum Dockerfile pyproject.toml
  find docker/image docker/mlflow -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-12 | sed 's/^/deps-/'
