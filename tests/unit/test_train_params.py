import math

import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.train_params import PARAM_NAMES, TrainParams, parse_train_params, resolve_device


def test_defaults_and_overrides_parse():
    params = parse_train_params({"epochs": 3, "imgsz": 416.0, "lr0": 1, "device": 0}, "f.yaml")
    assert (params.epochs, params.imgsz, params.lr0, params.device) == (3, 416, 1.0, "0")
    assert isinstance(params.imgsz, int) and isinstance(params.lr0, float)
    assert params.model == TrainParams().model


def test_none_means_all_defaults():
    assert parse_train_params(None, "f.yaml") == TrainParams()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"epoch": 3}, "unknown training key 'epoch'"),
        ({"epochs": 0}, "'epochs' must be > 0"),
        ({"epochs": -2}, "'epochs' must be > 0"),
        ({"epochs": 2.5}, "'epochs' must be a whole number"),
        ({"epochs": True}, "'epochs' must be a number"),
        ({"epochs": "five"}, "'epochs' must be a number"),
        ({"imgsz": 300}, "'imgsz' must be a positive multiple of 32"),
        ({"imgsz": 0}, "'imgsz' must be a positive multiple of 32"),
        ({"batch": 0}, "'batch' must be > 0"),
        ({"nbs": -1}, "'nbs'"),
        ({"lr0": 0}, "'lr0' must be > 0"),
        ({"lr0": math.inf}, "'lr0' must be finite"),
        ({"warmup_epochs": -1}, "'warmup_epochs' must be >= 0"),
        ({"mosaic": 1.5}, "'mosaic' is a probability"),
        ({"optimizer": "auto"}, "'optimizer' must be one of"),
        ({"model": "yolov8n"}, "'model' must name"),
        ({"device": "cuda:0"}, "'device' must be"),
        ({"device": ["0"]}, "'device' must be a string"),
        ({"device": "gpu"}, "'device' must be 'auto', 'cpu', 'all'"),
        ({"amp": "yes"}, "'amp' must be true or false"),
        ({"amp": 1}, "'amp' must be true or false"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_bad_values_name_file_and_key(raw, expected):
    with pytest.raises(ConfigError) as err:
        parse_train_params(raw, "configs/x.yaml (train)")
    assert expected in str(err.value)
    assert str(err.value).startswith("configs/x.yaml (train):")


def test_imgsz_error_suggests_a_multiple():
    with pytest.raises(ConfigError, match="use e.g. 288"):
        parse_train_params({"imgsz": 300}, "f")


def test_with_overrides_validates():
    base = TrainParams()
    assert base.with_overrides({"imgsz": 416}, "g").imgsz == 416
    with pytest.raises(ConfigError, match="imgsz"):
        base.with_overrides({"imgsz": 100}, "g")


def test_param_names_match_fields():
    assert set(PARAM_NAMES) == set(TrainParams().to_dict())


def test_amp_is_an_explicit_key_off_by_default():
    assert TrainParams().amp is False
    assert parse_train_params({"amp": True}, "f.yaml").amp is True


@pytest.mark.parametrize(
    ("requested", "count", "expected"),
    [
        ("auto", 0, "cpu"),
        ("auto", 1, "0"),
        ("auto", 4, "0"),  # one GPU per job unless the config asks for more
        ("all", 1, "0"),
        ("all", 4, "0,1,2,3"),
        ("0,1", 2, "0,1"),
        ("cpu", 2, "cpu"),
        ("1", 4, "1"),
    ],
)
def test_resolve_device(requested, count, expected):
    assert resolve_device(requested, count) == expected


@pytest.mark.parametrize(
    ("requested", "count", "expected"),
    [("0", 0, "CUDA sees none"), ("all", 0, "CUDA sees none"), ("0,1", 1, "names GPU 1 but CUDA sees 1 GPU(s)")],
)
def test_resolve_device_refuses_gpus_that_are_not_there(requested, count, expected):
    with pytest.raises(ConfigError) as err:
        resolve_device(requested, count)
    assert expected in str(err.value) and "device: auto" in str(err.value)
