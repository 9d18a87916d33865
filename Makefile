# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, at the release that lies on this disk: otherwise ultralytics pulls a newer CUDA build.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: install sysdeps demo test unit lint bench clean

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

test: install sysdeps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_gate.py

clean:
	rm -rf .mlops .pytest_cache .ruff_cache
