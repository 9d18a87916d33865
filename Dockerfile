# syntax=docker/dockerfile:1
#
# Three images, one file (tools/build-images.sh builds them here; the pipeline's `images` job in CI):
#   docker build --target ci            -t …/ci .              every CPU job of .gitlab-ci.yml
#   docker build --target mlflow-server -t …/mlflow-server .   (docker-compose.yml builds it too)
#   docker build --target gpu-train     -t …/gpu-train .       the `gpu` train jobs (plain `docker build .`)
#
# ci and gpu-train hold the project's DEPENDENCIES, not the project: each job installs its own checkout
# over them (`pip install --no-deps -e .`, ci/lib.sh), so a merge request runs its own src/ and configs.
# Their tag is a hash of what they depend on (tools/image-tag.sh: this file, docker/image/, pyproject.toml).
#
# Every FROM is a build arg with a public default. Where nothing can be pulled (this project's test
# machine) both point at a local Debian 12 image; the ci and gpu-train stages are then the same steps on
# the same base, so their layers are shared and gpu-train costs nothing after ci.
# PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS / PIP_CERT: optional build args for a local wheel mirror; unset,
# pip uses PyPI.
#
# Versions are pinned to the ones measured to install together (pyproject.toml, README "Versions");
# tests/integration/test_deploy_files.py checks that the MLflow pin here matches pyproject.toml.
ARG BASE_IMAGE=debian:bookworm-slim
# PyPI's torch 2.14.1 wheel is built for CUDA 13.0 and brings its own CUDA runtime, cuDNN and NCCL as
# pip packages (nvidia-*-cu13), so the GPU base only adds the NVIDIA container toolkit's hooks: the
# `base` flavour at the same CUDA major/minor (host driver >= 580). Ubuntu 24.04: python3 is 3.12.
ARG GPU_BASE_IMAGE=nvidia/cuda:13.0.1-base-ubuntu24.04

# -------------------------------------------------------------------------------------------------
# MLflow tracking server: MySQL backend store, artifacts proxied to S3 (MinIO), basic auth.
# -------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS mlflow-server
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_CERT
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    MLFLOW_AUTH_CONFIG_PATH=/etc/mlflow/basic_auth.ini
COPY docker/image/ /opt/image/
# boto3 1.43.x: what pip resolves beside mlflow 3.17.2 and dvc-s3 (aiobotocore caps botocore).
RUN /opt/image/install-system.sh \
    && pip install -q "mlflow[auth]==3.17.2" "PyMySQL==1.1.3" "boto3==1.43.117"

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

LABEL org.opencontainers.image.title="yolo-mlops/mlflow-server"
USER 10001:10001
WORKDIR /home/mlflow
VOLUME ["/mlflow-auth"]
EXPOSE 5000
ENTRYPOINT ["mlflow-entrypoint"]
# docker-compose.yml replaces this with the MySQL/S3/basic-auth command line.
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--workers", "1"]

# -------------------------------------------------------------------------------------------------
# CPU CI image: Python, bash, make, git, the project's dependencies (dvc among them), torch for the
# gate's CPU evaluation. The steps up to the LABEL are the same in gpu-train, in the same order.
# -------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS ci
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_CERT
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
COPY docker/image/ /opt/image/
# git for provenance tags and DVC; libgl1 and libglib for OpenCV (ultralytics).
RUN /opt/image/install-system.sh bash git libgl1 libglib2.0-0 make \
    && git config --system --add safe.directory '*'
RUN /opt/image/install-python-deps.sh torch
COPY pyproject.toml /opt/image/
RUN /opt/image/install-python-deps.sh project /opt/image/pyproject.toml
# Which image a job runs in, printed by ci/lib.sh. (Not the tag: buildah's layer cache ignores a build
# arg's value in ENV, so a tag baked in here would be the first one built.)
LABEL org.opencontainers.image.title="yolo-mlops/ci"
ENV YOLO_MLOPS_IMAGE=ci
CMD ["bash"]

# -------------------------------------------------------------------------------------------------
# GPU training image for the `gpu` CI jobs: the ci steps on the CUDA base. Keep this stage LAST so a
# plain `docker build .` builds it.
# -------------------------------------------------------------------------------------------------
FROM ${GPU_BASE_IMAGE} AS gpu-train
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_CERT
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
COPY docker/image/ /opt/image/
RUN /opt/image/install-system.sh bash git libgl1 libglib2.0-0 make \
    && git config --system --add safe.directory '*'
RUN /opt/image/install-python-deps.sh torch
COPY pyproject.toml /opt/image/
RUN /opt/image/install-python-deps.sh project /opt/image/pyproject.toml
LABEL org.opencontainers.image.title="yolo-mlops/gpu-train"
# The NVIDIA container toolkit mounts the driver when these are set (the CUDA base sets them too;
# repeated so that a non-CUDA base, as in local builds, behaves the same).
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    YOLO_MLOPS_IMAGE=gpu-train
# No entrypoint: GitLab CI jobs run their own scripts (the CUDA base's entrypoint only prints a banner).
ENTRYPOINT []
CMD ["bash"]
