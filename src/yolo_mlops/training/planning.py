"""What a campaign will run: the planned pipeline runs from the configs (no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yolo_mlops.configuration.config_files import load_baseline, load_grid
from yolo_mlops.core.grid import select_cells
from yolo_mlops.core.train_params import TrainParams


@dataclass(frozen=True)
class PlannedRun:
    """One pipeline run to make: what it is called and with which parameters."""

    pipeline: str  # "baseline" or "grid" (the MLflow `pipeline` tag)
    cell: str | None  # "2/4" for grid cells
    overrides: dict[str, object]
    params: TrainParams

    @property
    def name(self) -> str:
        return self.pipeline if self.cell is None else f"grid {self.cell}"

    @property
    def overrides_text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides.items())


def plan_baseline(config: Path) -> list[PlannedRun]:
    return [PlannedRun("baseline", None, {}, load_baseline(config))]


def plan_grid(config: Path, shard: str | None) -> list[PlannedRun]:
    grid = load_grid(config)
    return [PlannedRun("grid", c.label, c.overrides, c.params) for c in select_cells(grid.cells, shard)]
