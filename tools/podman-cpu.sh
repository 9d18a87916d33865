#!/usr/bin/env bash
# podman for gitlab-ci-local's Docker executor on a machine without a GPU: gitlab-ci-local gives every job
# tagged `gpu` `--gpus all --ipc=host --ulimit memlock=-1 --ulimit stack=…`. Debian 12's podman 4.3 does not
# know --gpus (and there is no GPU here to give), and any --ulimit replaces the nofile limit that podman needs
# on this kind of machine (tools/containers.conf; runc then fails "error setting rlimit type 7"). This drops
# those options, so the train jobs run in the gpu-train image on the CPU like every other job.
args=()
while [ $# -gt 0 ]; do
  case "$1" in
  --gpus | --ulimit) shift ;;
  --gpus=* | --ulimit=* | --ipc=host) ;;
  *) args+=("$1") ;;
  esac
  shift
done
exec podman "${args[@]}"
