# syntax=docker/dockerfile:1
#
# Two images, one file:
#   docker build --target mlflow-server -t yolo-mlops/mlflow-server .   (docker-compose.yml builds it)
#   docker build -t yolo-mlops/gpu-train .                               (last stage = default target)
#
# Versions are pinned to the ones measured to install together (pyproject.toml, README "Versions");
# tests/integration/test_deploy_files.py checks that the MLflow pin here matches pyproject.toml.

# -------------------------------------------------------------------------------------------------
# MLflow tracking server: MySQL backend store, artifacts proxied to S3 (MinIO), basic auth.
# -------------------------------------------------------------------------------------------------
FROM python:3.11.13-slim-bookworm AS mlflow-server

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    MLFLOW_AUTH_CONFIG_PATH=/etc/mlflow/basic_auth.ini

# boto3 1.43.x: what pip resolves beside mlflow 3.17.2 and dvc-s3 (aiobotocore caps botocore).
RUN pip install --no-cache-dir "mlflow[auth]==3.17.2" "PyMySQL==1.1.3" "boto3==1.43.117"

COPY docker/mlflow/basic_auth.ini /etc/mlflow/basic_auth.ini
COPY docker/mlflow/entrypoint.sh /usr/local/bin/mlflow-entrypoint

# Non-root user; /mlflow-auth holds basic-auth's SQLite user store (a named volume in compose,
# which Docker seeds with this ownership on first use). chmod here rather than `COPY --chmod`,
# which needs BuildKit (docker-compose v1 builds with the classic builder).
RUN groupadd --system --gid 10001 mlflow \
    && useradd --system --uid 10001 --gid mlflow --home-dir /home/mlflow --create-home mlflow \
    && mkdir -p /mlflow-auth \
    && chown mlflow:mlflow /mlflow-auth \
    && chmod 0755 /usr/local/bin/mlflow-entrypoint \
    && chmod 0644 /etc/mlflow/basic_auth.ini

USER 10001:10001
WORKDIR /home/mlflow
VOLUME ["/mlflow-auth"]
EXPOSE 5000
ENTRYPOINT ["mlflow-entrypoint"]
# docker-compose.yml replaces this with the MySQL/S3/basic-auth command line.
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--workers", "1"]

# -------------------------------------------------------------------------------------------------
# GPU training image for the `gpu` CI jobs: CUDA PyTorch + this project. Keep this stage LAST so a
# plain `docker build .` builds it.
#
# PyPI's torch 2.14.1 wheel is built for CUDA 13.0 and brings its own CUDA runtime, cuDNN and NCCL
# as pip packages (nvidia-*-cu13), so the base image only has to provide the driver hooks of the
# NVIDIA container toolkit: the `base` flavour, at the same CUDA major/minor (host driver >= 580).
# -------------------------------------------------------------------------------------------------
FROM nvidia/cuda:13.0.1-base-ubuntu24.04 AS gpu-train

ARG DEBIAN_FRONTEND=noninteractive

# Ubuntu's archive keeps only the newest build of each package in -updates/-security, so exact
# apt version pins stop resolving at the next security update; the base image tag is the pin.
# python3 is 3.12 on 24.04 (pyproject: >=3.11,<3.13); git for provenance tags; libgl1 and glib for
# OpenCV (ultralytics): libglib2.0-0 is named libglib2.0-0t64 since 24.04's 64-bit time_t transition.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        git \
        libgl1 \
        libglib2.0-0t64 \
        python3 \
        python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

# A venv, because Ubuntu's system Python is externally managed (PEP 668).
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YOLO_OFFLINE=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    ZENML_ANALYTICS_OPT_IN=false \
    DO_NOT_TRACK=1 \
    DVC_NO_ANALYTICS=1

# torch first, and kept there by a constraints file: otherwise ultralytics may pull another build.
RUN python3 -m venv "$VIRTUAL_ENV" \
    && printf 'torch==2.14.1\ntorchvision==0.29.1\n' > /opt/torch-constraints.txt \
    && pip install --no-cache-dir -c /opt/torch-constraints.txt "torch==2.14.1" "torchvision==0.29.1"

WORKDIR /opt/yolo-mlops
# README.md is the package's `readme` in pyproject.toml, so the build needs it.
COPY pyproject.toml README.md ./
COPY src/ ./src/
COPY configs/ ./configs/
RUN pip install --no-cache-dir -c /opt/torch-constraints.txt . \
    && python -c "import torch, torchvision, yolo_mlops; print('torch', torch.__version__)"

# No entrypoint: GitLab CI jobs run their own scripts in this image (the CUDA base image's
# entrypoint only prints a banner).
ENTRYPOINT []
CMD ["bash"]
