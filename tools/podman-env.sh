# Sourced by tools/build-images.sh and tools/ci-local.sh: podman with this project's settings.
# shellcheck shell=bash
CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
export CONTAINERS_CONF
