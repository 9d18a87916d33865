"""configs/gate.yaml's `gate:` section read into a `GatePolicy` (pure): every key and value checked, each
fault a ConfigError naming the file, the key and what it takes."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.metrics import DIRECTIONS, HIGHER, LOWER
from yolo_mlops.core.policy import NON_METRIC_KEYS, ComparisonPolicy, GatePolicy, ServablePolicy


def parse_policy(raw: Any, source: str) -> GatePolicy:
    """The `gate:` section of configs/gate.yaml."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the gate policy must be a mapping.")
    known = {
        "primary_metric",
        "directions",
        "floors",
        "min_improvement",
        "tie_break",
        "require_complete",
        "comparison",
        "servable",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown gate key {unknown[0]!r}; allowed keys are {', '.join(sorted(known))}.")
    overrides = raw.get("directions") or {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) for k in overrides):
        raise ConfigError(f"{source}: 'directions' must map metric names to 'higher' or 'lower', got {overrides!r}.")
    directions = {**DIRECTIONS, **overrides}
    for metric, direction in directions.items():
        if direction not in (HIGHER, LOWER):
            raise ConfigError(f"{source}: direction of {metric!r} must be 'higher' or 'lower', got {direction!r}.")
    primary = raw.get("primary_metric", "mAP50")
    if not isinstance(primary, str) or primary not in directions:
        raise ConfigError(f"{source}: primary_metric {primary!r} has no direction; add it under 'directions'.")
    floors = raw.get("floors") or {}
    if not isinstance(floors, dict):
        raise ConfigError(f"{source}: 'floors' must map metric names to numbers.")
    for metric, bound in floors.items():
        if not isinstance(metric, str) or metric not in directions:
            raise ConfigError(f"{source}: floor on unknown metric {metric!r}; add it under 'directions'.")
        if not _is_number(bound):
            raise ConfigError(f"{source}: floor of {metric!r} must be a finite number, got {bound!r}.")
    improvement = raw.get("min_improvement") or {}
    if not isinstance(improvement, dict) or set(improvement) - {"absolute", "relative"}:
        raise ConfigError(f"{source}: 'min_improvement' takes 'absolute' and/or 'relative'.")
    for key, value in improvement.items():
        if not _is_number(value) or value < 0:
            raise ConfigError(f"{source}: min_improvement.{key} must be a finite number >= 0, got {value!r}.")
    raw_tie_break = raw.get("tie_break", list(GatePolicy.tie_break))
    if not isinstance(raw_tie_break, list):
        raise ConfigError(f"{source}: 'tie_break' must be a list of metric names, imgsz or start_time.")
    tie_break = tuple(raw_tie_break)
    for key in tie_break:
        if not isinstance(key, str) or (key not in directions and key not in NON_METRIC_KEYS):
            raise ConfigError(
                f"{source}: tie_break key {key!r} is neither a metric nor one of {', '.join(NON_METRIC_KEYS)}."
            )
    complete = raw.get("require_complete", True)
    if not isinstance(complete, bool):
        raise ConfigError(f"{source}: 'require_complete' must be true or false.")
    return GatePolicy(
        primary_metric=primary,
        directions=directions,
        floors={k: float(v) for k, v in floors.items()},
        min_abs_improvement=float(improvement.get("absolute", 0.0)),
        min_rel_improvement=float(improvement.get("relative", 0.0)),
        tie_break=tie_break,
        require_complete=complete,
        comparison=_parse_comparison(raw.get("comparison"), primary, source),
        servable=_parse_servable(raw.get("servable") or {}, source),
    )


def _parse_comparison(raw: Any, primary: str, source: str) -> ComparisonPolicy | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"confidence", "min_improvement", "resamples", "seed"}:
        raise ConfigError(f"{source}: 'comparison' takes confidence, min_improvement, resamples and seed.")
    if primary != "mAP50":
        raise ConfigError(
            f"{source}: 'comparison' bootstraps mAP50 over val images, but primary_metric is {primary!r}; "
            "set primary_metric: mAP50 or remove 'comparison'."
        )
    policy = ComparisonPolicy(**raw)
    checks = {
        "confidence": isinstance(policy.confidence, float) and 0 < policy.confidence < 1,
        "min_improvement": _is_number(policy.min_improvement) and 0 <= policy.min_improvement < 1,
        "resamples": _is_int(policy.resamples) and policy.resamples >= 100,
        "seed": _is_int(policy.seed) and policy.seed >= 0,
    }
    wanted = {
        "confidence": "a number between 0 and 1 (e.g. 0.95)",
        "min_improvement": "a number in [0, 1)",
        "resamples": "an integer >= 100",
        "seed": "an integer >= 0",
    }
    for key, ok in checks.items():
        if not ok:
            raise ConfigError(f"{source}: comparison.{key} must be {wanted[key]}, got {getattr(policy, key)!r}.")
    return replace(policy, min_improvement=float(policy.min_improvement))


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def _parse_servable(raw: Any, source: str) -> ServablePolicy:
    known = set(ServablePolicy.__dataclass_fields__)
    if not isinstance(raw, dict) or set(raw) - known:
        raise ConfigError(f"{source}: 'servable' takes {', '.join(sorted(known))}.")
    for key, value in raw.items():
        if not _is_number(value) or value <= 0:
            raise ConfigError(f"{source}: servable.{key} must be a number > 0, got {value!r}.")
    for key in ("min_iou", "min_agreement", "conf"):
        if raw.get(key, 0) > 1:
            raise ConfigError(f"{source}: servable.{key} is a fraction in (0, 1], got {raw[key]!r}.")
    if not float(raw.get("images", 1)).is_integer():
        raise ConfigError(f"{source}: servable.images must be a whole number, got {raw['images']!r}.")
    return ServablePolicy(**{key: type(getattr(ServablePolicy, key))(value) for key, value in raw.items()})
