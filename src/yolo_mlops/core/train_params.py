"""Training parameters: parsing and validation of the `train:` section of a config (pure)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from yolo_mlops.core.errors import ConfigError


@dataclass(frozen=True)
class TrainParams:
    """Arguments of one Ultralytics training run; every field is a key users may set in YAML."""

    model: str = "yolov8n.yaml"
    epochs: int = 5
    imgsz: int = 320
    batch: int = 16
    # An explicit optimizer: with Ultralytics' default 'auto' it ignores lr0 and picks its own.
    optimizer: str = "AdamW"
    lr0: float = 0.002
    nbs: int = 16
    warmup_epochs: float = 0.0
    mosaic: float = 0.0
    seed: int = 0
    # 'auto': one GPU when CUDA is visible, else the CPU; several GPUs (DDP) only when asked: '0,1' or 'all'.
    device: str = "auto"
    # Mixed precision on CUDA. Off unless asked: Ultralytics' own check of it downloads a model.
    amp: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, overrides: dict[str, Any], source: str) -> TrainParams:
        """A copy with `overrides` applied and validated; `source` names the file for errors."""
        return parse_train_params({**self.to_dict(), **overrides}, source)


PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in fields(TrainParams))

OPTIMIZERS = ("SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSProp")
_INTS = {"epochs", "imgsz", "batch", "nbs", "seed"}
_FLOATS = {"lr0", "warmup_epochs", "mosaic"}
_BOOLS = {"amp"}


def _number(value: Any, key: str, source: str, kind: type) -> int | float:
    # bool is an int subclass in Python; `epochs: true` is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: '{key}' must be a number, got {value!r}; fix the value in that file.")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{source}: '{key}' must be a whole number, got {value!r}.")
        return int(value)
    if not math.isfinite(float(value)):
        raise ConfigError(f"{source}: '{key}' must be finite, got {value!r}.")
    return float(value)


def parse_train_params(raw: Any, source: str) -> TrainParams:
    """Validate a mapping of training parameters; unknown keys and bad values raise ConfigError."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the training parameters must be a mapping of key: value.")
    unknown = sorted(set(raw) - set(PARAM_NAMES))
    if unknown:
        raise ConfigError(f"{source}: unknown training key {unknown[0]!r}; allowed keys are {', '.join(PARAM_NAMES)}.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INTS:
            values[key] = _number(value, key, source, int)
        elif key in _FLOATS:
            values[key] = _number(value, key, source, float)
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: '{key}' must be true or false, got {value!r}.")
            values[key] = value
        else:
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise ConfigError(f"{source}: '{key}' must be a string, got {value!r}.")
            values[key] = str(value)
    params = replace(TrainParams(), **values)
    _check_ranges(params, source)
    return params


def _check_ranges(p: TrainParams, source: str) -> None:
    if p.epochs <= 0:
        raise ConfigError(f"{source}: 'epochs' must be > 0, got {p.epochs}; set at least 1.")
    if p.imgsz < 32 or p.imgsz % 32:
        raise ConfigError(
            f"{source}: 'imgsz' must be a positive multiple of 32 (YOLO's stride), got {p.imgsz}; "
            f"use e.g. {max(32, round(p.imgsz / 32) * 32)}."
        )
    if p.batch <= 0:
        raise ConfigError(f"{source}: 'batch' must be > 0, got {p.batch}.")
    if p.nbs <= 0:
        raise ConfigError(f"{source}: 'nbs' (nominal batch size) must be > 0, got {p.nbs}.")
    if p.lr0 <= 0:
        raise ConfigError(f"{source}: 'lr0' must be > 0, got {p.lr0}.")
    if p.warmup_epochs < 0:
        raise ConfigError(f"{source}: 'warmup_epochs' must be >= 0, got {p.warmup_epochs}.")
    if not 0.0 <= p.mosaic <= 1.0:
        raise ConfigError(f"{source}: 'mosaic' is a probability in [0, 1], got {p.mosaic}.")
    if p.optimizer not in OPTIMIZERS:
        raise ConfigError(f"{source}: 'optimizer' must be one of {', '.join(OPTIMIZERS)}, got {p.optimizer!r}.")
    if not p.model.endswith((".yaml", ".pt")):
        raise ConfigError(f"{source}: 'model' must name a model .yaml (from scratch) or .pt, got {p.model!r}.")
    if p.device not in ("auto", "cpu", "all") and not all(part.isdigit() for part in p.device.split(",")):
        raise ConfigError(
            f"{source}: 'device' must be 'auto', 'cpu', 'all' or CUDA indices like '0' or '0,1', got {p.device!r}."
        )


def resolve_device(requested: str, cuda_device_count: int) -> str:
    """The device string for Ultralytics: 'auto' → '0' (one GPU) when CUDA is visible, else 'cpu';
    'all' → every visible GPU ('0,1,…', DDP when more than one); indices are kept when visible."""
    if requested == "auto":
        return "0" if cuda_device_count > 0 else "cpu"
    if requested == "cpu":
        return requested
    fix = "set `device: auto` or `device: cpu` in the config, or run the job on a runner with GPUs (tag `gpu`)"
    if cuda_device_count <= 0:
        raise ConfigError(f"device {requested!r} asks for a GPU but CUDA sees none on this machine; {fix}.")
    if requested == "all":
        return ",".join(str(i) for i in range(cuda_device_count))
    absent = [i for i in requested.split(",") if int(i) >= cuda_device_count]
    if absent:
        raise ConfigError(
            f"device {requested!r} names GPU {absent[0]} but CUDA sees {cuda_device_count} GPU(s) here; {fix}."
        )
    return requested
