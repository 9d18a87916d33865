#!/bin/sh
# Image build step: torch first, pinned (else ultralytics pulls another build), then the dependencies that
# pyproject.toml names (read from it, so this layer changes exactly when they do). The project itself is
# NOT installed: every CI job installs its own checkout over this with `pip install --no-deps -e .`.
# Usage: install-python-deps.sh torch   |   install-python-deps.sh project PYPROJECT
set -eu
constraints=/opt/image/torch-constraints.txt
case "$1" in
torch)
    pip install -q -c "$constraints" torch torchvision
    ;;
project)
    python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
        "$2" >/tmp/requirements.txt
    pip install -q -c "$constraints" -r /tmp/requirements.txt
    rm /tmp/requirements.txt
    pip check
    ;;
*)
    echo "usage: $0 torch | project PYPROJECT" >&2
    exit 2
    ;;
esac
