"""The configs the project ships parse, and the CPU demo profile has the GPU grid's shape."""

from dataclasses import replace
from pathlib import Path

import pytest

from yolo_mlops.configuration.config_files import load_baseline, load_grid
from yolo_mlops.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("profile", [CONFIGS, CONFIGS / "cpu"])
def test_profiles_parse_with_at_least_four_cells(profile):
    baseline = load_baseline(profile / "baseline.yaml")
    grid = load_grid(profile / "grid.yaml")
    assert grid.base == baseline
    assert len(grid.cells) >= 4
    assert len({tuple(sorted(c.params.to_dict().items())) for c in grid.cells}) == len(grid.cells)


def test_gpu_grid_is_the_seed_grid():
    grid = load_grid(CONFIGS / "grid.yaml")
    assert [c.overrides for c in grid.cells] == [{"epochs": e, "imgsz": s} for e in (3, 5) for s in (320, 416)]


def test_cpu_profile_has_the_same_shape():
    gpu, cpu = load_grid(CONFIGS / "grid.yaml"), load_grid(CONFIGS / "cpu" / "grid.yaml")
    assert [list(c.overrides) for c in gpu.cells] == [list(c.overrides) for c in cpu.cells]


def test_unreadable_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "baseline.yaml"
    bad.write_text("train:\n  epochs: [3\n")
    with pytest.raises(ConfigError, match=r"baseline.yaml:\d+: unreadable YAML"):
        load_baseline(bad)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_baseline(tmp_path / "nope.yaml")


def test_grid_with_unknown_top_level_key(tmp_path):
    (tmp_path / "baseline.yaml").write_text("train: {epochs: 1}\n")
    (tmp_path / "grid.yaml").write_text("grid: {epochs: [1]}\nextra: 1\n")
    with pytest.raises(ConfigError, match="unknown top-level key 'extra'"):
        load_grid(tmp_path / "grid.yaml")


def test_baseline_without_train_section(tmp_path):
    (tmp_path / "baseline.yaml").write_text("epochs: 1\n")
    with pytest.raises(ConfigError, match="missing the 'train:' section"):
        load_baseline(tmp_path / "baseline.yaml")


def test_branch_grid_is_a_smaller_grid_of_the_same_baseline():
    quick, full = load_grid(CONFIGS / "grid-quick.yaml"), load_grid(CONFIGS / "grid.yaml")
    assert quick.base == full.base and 0 < len(quick.cells) < len(full.cells)
    full_params = {tuple(sorted(c.params.to_dict().items())) for c in full.cells}
    assert all(tuple(sorted(c.params.to_dict().items())) in full_params for c in quick.cells)


def test_the_demo_challenger_is_the_largest_cpu_cell_with_another_seed():
    """`make demo`'s second campaign retrains the CPU grid's longest, largest cell (its best, see the README) with
    another seed: same config, new weights, the case the gate's paired comparison exists for."""
    (challenger,) = load_grid(CONFIGS / "cpu" / "challenger.yaml").cells
    largest = max(load_grid(CONFIGS / "cpu" / "grid.yaml").cells, key=lambda c: (c.params.epochs, c.params.imgsz))
    assert challenger.params.seed != largest.params.seed
    assert replace(challenger.params, seed=largest.params.seed) == largest.params
