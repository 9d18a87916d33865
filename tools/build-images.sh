#!/usr/bin/env bash
# Build this project's images locally with podman, from nothing that needs an image registry:
#   localhost/debian:bookworm-min      Debian 12 from Debian's apt (debootstrap), the base of everything
#   localhost/gcl-util:latest          gitlab-ci-local's helper image (its default cannot be pulled here)
#   $IMAGE_REGISTRY/{ci,gpu-train,mlflow-server}:$(tools/image-tag.sh)   the Dockerfile's targets
# An image whose tag exists is reused: the tag is a hash of what it is built from, so an unchanged
# dependency set costs nothing. Wheels come from the host's local pip mirrors (file:// extra indexes and
# find-links of `pip config list`, mounted read-only into the build) and PyPI for the rest.
#
#   tools/build-images.sh                 # all of them
#   tools/build-images.sh ci              # one target (and the base images it needs)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/podman-env.sh
. tools/podman-env.sh
IMAGE_REGISTRY="${IMAGE_REGISTRY:-localhost/yolo-mlops}"
BASE_IMAGE=localhost/debian:bookworm-min
HELPER_IMAGE=localhost/gcl-util:latest
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ci gpu-train mlflow-server)

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found: run 'make sysdeps'" >&2; exit 2; }
done

timed() {  # timed LABEL COMMAND...: run it, then say how long it took
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "built $label in $((SECONDS - start)) s"
}

debian_base() {
  local root
  root="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >/dev/null
  tar -C "$root" -c . | podman import -q - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

helper_image() {
  podman build -q --network host -t "$HELPER_IMAGE" -f - . >/dev/null <<DOCKERFILE
FROM $BASE_IMAGE
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends rsync git ca-certificates >/dev/null \
    && rm -rf /var/lib/apt/lists/*
DOCKERFILE
}

# The host's pip mirrors, mounted at the same paths (their indexes link to files by relative paths).
pip_args=()
extra_index="$(pip config get global.extra-index-url 2>/dev/null || true)"
find_links="$(pip config get global.find-links 2>/dev/null || true)"
local_indexes=()
for url in $extra_index; do
  case "$url" in
  file://*/simple)
    dir="${url#file://}"
    pip_args+=(--volume "$(dirname "$dir"):$(dirname "$dir"):ro")
    local_indexes+=("$url")
    ;;
  esac
done
[ ${#local_indexes[@]} -eq 0 ] || pip_args+=(--build-arg "PIP_EXTRA_INDEX_URL=${local_indexes[*]}")
if [ -n "$find_links" ] && [ -d "$find_links" ]; then
  pip_args+=(--volume "$find_links:$find_links:ro" --build-arg "PIP_FIND_LINKS=$find_links")
fi
# PyPI from inside the build needs the host's CA bundle (not mounted over the image's own /etc/ssl).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  pip_args+=(--volume /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro --build-arg PIP_CERT=/host-ca.crt)
fi

project_image() {
  local target=$1 ref=$2
  podman build --network host --layers --target "$target" -t "$ref" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "GPU_BASE_IMAGE=$BASE_IMAGE" "${pip_args[@]}" . \
    >"${BUILD_LOG_DIR:-/tmp}/yolo-mlops-build-$target.log" 2>&1 \
    || { echo "error: building $ref failed; log: ${BUILD_LOG_DIR:-/tmp}/yolo-mlops-build-$target.log" >&2; exit 1; }
}

podman image exists "$BASE_IMAGE" || timed "$BASE_IMAGE" debian_base
podman image exists "$HELPER_IMAGE" || timed "$HELPER_IMAGE" helper_image
tag="$(tools/image-tag.sh)"
for target in "${targets[@]}"; do
  ref="$IMAGE_REGISTRY/$target:$tag"
  if podman image exists "$ref"; then
    echo "reusing $ref"
  else
    timed "$ref" project_image "$target" "$ref"
  fi
done
