#!/usr/bin/env bash
# System packages the tests need and PyPI does not ship, installed from Debian's apt when missing:
#   docker-compose  (Debian's compose v1: the offline `docker-compose config` validator)
#   mariadb-server  (the native stack's MySQL-family database, for `stack up --native` and its tests)
#   podman, runc, debootstrap  (the project's images built and the CI jobs run in them, tools/build-images.sh;
#                   runc because podman's default crun fails on this kind of machine, tools/containers.conf)
# Idempotent: installs nothing when every command is already on PATH.
set -euo pipefail

declare -A package_of=([docker-compose]=docker-compose [mariadbd]=mariadb-server [podman]=podman [runc]=runc
  [debootstrap]=debootstrap)
missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${package_of[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
