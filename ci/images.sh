#!/usr/bin/env bash
# images job (first stage): the ci, gpu-train and mlflow-server images, built with buildah (no Docker
# daemon, no privileged container) and pushed to YOLO_MLOPS_IMAGE_REGISTRY, tagged by a hash of what they
# are built from. A tag already in the registry is reused: an unchanged dependency set costs seconds.
# Runs in the buildah image, not in ours (it builds ours), so it does not source ci/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() {
  echo "error: $*" >&2
  exit 2
}
registry="${YOLO_MLOPS_IMAGE_REGISTRY:-}"
[ -n "$registry" ] || fail "YOLO_MLOPS_IMAGE_REGISTRY is empty (this project has no container registry, so CI_REGISTRY_IMAGE is empty): set the CI/CD variable YOLO_MLOPS_IMAGE_REGISTRY to an image path you can push to, e.g. registry.example.com/team/yolo-mlops"
tag="$(tools/image-tag.sh)"
[ "$tag" = "${YOLO_MLOPS_IMAGE_TAG:-}" ] || fail "YOLO_MLOPS_IMAGE_TAG in .gitlab-ci.yml is '${YOLO_MLOPS_IMAGE_TAG:-}' but the Dockerfile, docker/ and pyproject.toml hash to $tag: run 'make image-tag' and commit .gitlab-ci.yml"

# This project's registry with the job's own token; an external one with YOLO_MLOPS_REGISTRY_USER/PASSWORD.
if [ -n "${YOLO_MLOPS_REGISTRY_PASSWORD:-}" ]; then
  buildah login -u "${YOLO_MLOPS_REGISTRY_USER:?set YOLO_MLOPS_REGISTRY_USER with YOLO_MLOPS_REGISTRY_PASSWORD}" \
    --password-stdin "${registry%%/*}" <<<"$YOLO_MLOPS_REGISTRY_PASSWORD" >/dev/null
elif [ -n "${CI_REGISTRY:-}" ] && [ "${registry%%/*}" = "$CI_REGISTRY" ]; then
  buildah login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY" <<<"$CI_REGISTRY_PASSWORD" >/dev/null
fi

# Base images: public defaults in the Dockerfile; a team's mirror through these two variables.
base_args=()
[ -z "${YOLO_MLOPS_BASE_IMAGE:-}" ] || base_args+=(--build-arg "BASE_IMAGE=$YOLO_MLOPS_BASE_IMAGE")
[ -z "${YOLO_MLOPS_GPU_BASE_IMAGE:-}" ] || base_args+=(--build-arg "GPU_BASE_IMAGE=$YOLO_MLOPS_GPU_BASE_IMAGE")

for target in ci gpu-train mlflow-server; do
  ref="$registry/$target:$tag"
  if answer="$(buildah manifest inspect "$ref" 2>&1)"; then
    echo "reusing $ref"
    continue
  fi
  case "$answer" in
  *"manifest unknown"* | *"not found"* | *"name unknown"*) ;;
  *) fail "cannot read $ref from the registry: $(echo "$answer" | tail -n 1)" ;;
  esac
  start=$SECONDS
  buildah build --layers --target "$target" "${base_args[@]}" -t "$ref" . \
    || fail "building $ref failed (above); if its base image cannot be pulled here, set YOLO_MLOPS_BASE_IMAGE / YOLO_MLOPS_GPU_BASE_IMAGE to a mirror"
  buildah push "$ref" || fail "pushing $ref failed (above): can this job's credentials push to $registry?"
  echo "built and pushed $ref in $((SECONDS - start)) s"
done
