import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.grid import expand_grid, parse_axes, parse_shard, select_cells
from yolo_mlops.core.train_params import TrainParams

BASE = TrainParams(epochs=5, imgsz=320)


def cells(axes):
    return expand_grid(BASE, parse_axes(axes, "grid.yaml"), "grid.yaml")


def test_cartesian_product_in_written_order():
    grid = cells({"epochs": [3, 5], "imgsz": [320, 416]})
    assert [(c.index, c.total, c.overrides) for c in grid] == [
        (1, 4, {"epochs": 3, "imgsz": 320}),
        (2, 4, {"epochs": 3, "imgsz": 416}),
        (3, 4, {"epochs": 5, "imgsz": 320}),
        (4, 4, {"epochs": 5, "imgsz": 416}),
    ]
    assert grid[1].params.imgsz == 416 and grid[1].params.epochs == 3
    assert grid[1].params.batch == BASE.batch  # untouched keys come from the base
    assert grid[1].label == "2/4"
    assert grid[1].slug == "epochs3-imgsz416"


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ({"epoch": [1]}, "unknown grid key 'epoch'"),
        ({"epochs": []}, "needs a non-empty list"),
        ({"epochs": 3}, "needs a non-empty list"),
        ({"epochs": [3, 3]}, "lists a value twice"),
        ({}, "non-empty mapping"),
        ([1], "non-empty mapping"),
        ({"imgsz": [320, 100]}, "'imgsz' must be a positive multiple of 32"),
        ({"epochs": [0, 1]}, "'epochs' must be > 0"),
    ],
)
def test_bad_grids_fail_before_anything_runs(axes, message):
    with pytest.raises(ConfigError, match=message):
        cells(axes)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [(None, [1, 2, 3, 4]), ("1/4", [1]), ("4/4", [4]), ("1/2", [1, 3]), ("2/2", [2, 4]), ("1/1", [1, 2, 3, 4])],
)
def test_shards_cover_each_cell_once(spec, expected):
    grid = cells({"epochs": [3, 5], "imgsz": [320, 416]})
    assert [c.index for c in select_cells(grid, spec)] == expected


def test_more_shards_than_cells_leaves_some_empty():
    grid = cells({"epochs": [3, 5]})
    assert [c.index for c in select_cells(grid, "3/3")] == []
    covered = sorted(c.index for i in range(1, 4) for c in select_cells(grid, f"{i}/3"))
    assert covered == [1, 2]


@pytest.mark.parametrize("spec", ["2", "0/4", "5/4", "a/b", "1/0", "1/2/3"])
def test_bad_shard_specs(spec):
    with pytest.raises(ConfigError, match="--cell"):
        parse_shard(spec)
