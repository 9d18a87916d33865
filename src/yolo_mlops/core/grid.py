"""Grid expansion and cell selection (pure)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.train_params import PARAM_NAMES, TrainParams


@dataclass(frozen=True)
class GridCell:
    """One point of the grid: 1-based `index` of `total`, and the keys it overrides."""

    index: int
    total: int
    overrides: dict[str, Any]
    params: TrainParams

    @property
    def label(self) -> str:
        return f"{self.index}/{self.total}"

    @property
    def slug(self) -> str:
        return "-".join(f"{k}{v}" for k, v in self.overrides.items())


def parse_axes(raw: Any, source: str) -> dict[str, list[Any]]:
    """The `grid:` mapping: each key a training parameter, each value a non-empty list."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{source}: 'grid' must be a non-empty mapping of parameter: [values].")
    axes: dict[str, list[Any]] = {}
    for key, values in raw.items():
        if key not in PARAM_NAMES:
            raise ConfigError(f"{source}: unknown grid key {key!r}; allowed keys are {', '.join(PARAM_NAMES)}.")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: grid key {key!r} needs a non-empty list of values, got {values!r}.")
        if len(set(map(repr, values))) != len(values):
            raise ConfigError(f"{source}: grid key {key!r} lists a value twice: {values!r}.")
        axes[key] = values
    return axes


def expand_grid(base: TrainParams, axes: dict[str, list[Any]], source: str) -> list[GridCell]:
    """The cartesian product of the axes, in the order the keys and values are written."""
    keys = list(axes)
    combos = list(itertools.product(*(axes[k] for k in keys)))
    return [
        GridCell(
            index=i,
            total=len(combos),
            overrides=dict(zip(keys, combo, strict=True)),
            params=base.with_overrides(dict(zip(keys, combo, strict=True)), source),
        )
        for i, combo in enumerate(combos, start=1)
    ]


def parse_shard(spec: str) -> tuple[int, int]:
    """'I/N' (CI_NODE_INDEX/CI_NODE_TOTAL) → (I, N) with 1 <= I <= N."""
    try:
        index_text, total_text = spec.split("/")
        index, total = int(index_text), int(total_text)
    except ValueError:
        raise ConfigError(f"--cell must look like I/N (e.g. 2/4), got {spec!r}.") from None
    if total < 1 or not 1 <= index <= total:
        raise ConfigError(f"--cell {spec}: need 1 <= I <= N.")
    return index, total


def select_cells(cells: list[GridCell], spec: str | None) -> list[GridCell]:
    """The cells shard I of N runs: those with index ≡ I (mod N).

    With N equal to the grid size this is exactly cell I; a CI job count that differs from the
    grid size still covers every cell exactly once, so the YAML's `parallel:` need not track the grid.
    """
    if spec is None:
        return list(cells)
    index, total = parse_shard(spec)
    return [cell for cell in cells if (cell.index - 1) % total == index - 1]
