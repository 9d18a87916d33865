#!/bin/sh
# Image build step: Debian/Ubuntu packages, then a venv at $VIRTUAL_ENV with pip, setuptools and wheel
# (jobs install the checkout with `pip install --no-deps --no-build-isolation -e .`: no download at run time).
# Usage: install-system.sh [extra apt packages...]
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# python3-venv: Debian's and Ubuntu's system Python are externally managed (PEP 668), so a venv.
apt-get install -y -qq --no-install-recommends ca-certificates python3 python3-venv "$@" >/dev/null
rm -rf /var/lib/apt/lists/*
python3 -m venv "$VIRTUAL_ENV"
pip install -q --upgrade pip "setuptools>=68" wheel
