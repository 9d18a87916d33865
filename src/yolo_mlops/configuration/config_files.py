"""Reading the YAML files under configs/: each reader takes a path and reads only its own section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.grid import GridCell, expand_grid, parse_axes
from yolo_mlops.core.policy import GatePolicy
from yolo_mlops.core.policy_file import parse_policy
from yolo_mlops.core.train_params import TrainParams, parse_train_params


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass an existing file (see configs/).")
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: unreadable YAML ({getattr(exc, 'problem', exc)}); fix the syntax.") from None
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level.")
    return content


def _section(content: dict[str, Any], key: str, path: Path) -> Any:
    if key not in content:
        raise ConfigError(f"{path}: missing the '{key}:' section.")
    return content[key]


def load_baseline(path: Path) -> TrainParams:
    """`train:` of a baseline config."""
    return parse_train_params(_section(read_yaml_mapping(path), "train", path), f"{path} (train)")


@dataclass(frozen=True)
class GridConfig:
    path: Path
    base_path: Path
    base: TrainParams
    cells: list[GridCell]


def load_grid(path: Path) -> GridConfig:
    """`grid:` axes over the training params of `base:` (a baseline config, relative to this file)."""
    content = read_yaml_mapping(path)
    base_ref = content.get("base", "baseline.yaml")
    if not isinstance(base_ref, str):
        raise ConfigError(f"{path}: 'base' must be the path of a baseline config, got {base_ref!r}.")
    base_path = (path.parent / base_ref).resolve()
    base = load_baseline(base_path)
    unknown = sorted(set(content) - {"base", "grid"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {unknown[0]!r}; a grid config holds 'base' and 'grid'.")
    axes = parse_axes(_section(content, "grid", path), f"{path} (grid)")
    return GridConfig(path=path, base_path=base_path, base=base, cells=expand_grid(base, axes, f"{path} (grid)"))


def load_gate_policy(path: Path) -> GatePolicy:
    """`gate:` of configs/gate.yaml."""
    return parse_policy(_section(read_yaml_mapping(path), "gate", path), f"{path} (gate)")


@dataclass(frozen=True)
class RegistryConfig:
    model_name: str = "yolo_tiny_person"
    staging_alias: str = "staging"
    production_alias: str = "production"
    mlflow_stage_transition: bool = False


def load_registry(path: Path) -> RegistryConfig:
    """`registry:` of configs/registry.yaml."""
    raw = _section(read_yaml_mapping(path), "registry", path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'registry' must be a mapping.")
    allowed = set(RegistryConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown registry key {unknown[0]!r}; allowed keys are {', '.join(sorted(allowed))}."
        )
    config = RegistryConfig(**raw)
    for key in ("model_name", "staging_alias", "production_alias"):
        value = getattr(config, key)
        if not isinstance(value, str) or not value.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"{path}: registry.{key} must be a name of letters, digits, '_' or '-', got {value!r}.")
    if not isinstance(config.mlflow_stage_transition, bool):
        raise ConfigError(f"{path}: registry.mlflow_stage_transition must be true or false.")
    return config


def expected_configs(baseline: Path | None, grid: Path | None) -> list[str]:
    """The config names a complete campaign has: "baseline" and "grid I/N" for each cell."""
    names = ["baseline"] if baseline is not None else []
    if grid is not None:
        names += [f"grid {cell.label}" for cell in load_grid(grid).cells]
    return names
