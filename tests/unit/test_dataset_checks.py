"""Exhaustive tests for the pure dataset checks (no I/O)."""

from __future__ import annotations

import dataclasses

import pytest

from yolo_mlops.core.dataset_checks import DatasetSpec, Problem, check_data_yaml, check_label_lines

PATH = "ds/data.yaml"
LABEL = "ds/labels/train/00001.txt"


# --- Problem -----------------------------------------------------------------------------------


def test_problem_str_with_line() -> None:
    assert str(Problem("a/b.txt", 3, "class 3 >= nc 1")) == "a/b.txt:3: class 3 >= nc 1"


def test_problem_str_without_line() -> None:
    assert str(Problem("a/data.yaml", None, "missing key 'val'")) == "a/data.yaml: missing key 'val'"


def test_problem_is_frozen_and_comparable() -> None:
    problem = Problem("p", 1, "m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.line = 2  # type: ignore[misc]
    assert problem == Problem("p", 1, "m")
    assert len({problem, Problem("p", 1, "m")}) == 1


# --- check_data_yaml: good content -------------------------------------------------------------


def test_good_yaml_with_list_names() -> None:
    problems, spec = check_data_yaml({"train": "images/train", "val": "images/val", "nc": 1, "names": ["person"]}, PATH)
    assert problems == []
    assert spec == DatasetSpec(train="images/train", val="images/val", names=("person",))
    assert spec.nc == 1


def test_good_yaml_with_dict_names_in_any_key_order() -> None:
    problems, spec = check_data_yaml({"train": "t", "val": "v", "names": {1: "car", 0: "person"}}, PATH)
    assert problems == []
    assert spec is not None
    assert spec.names == ("person", "car")
    assert spec.nc == 2


def test_nc_is_optional_and_extra_keys_are_ignored() -> None:
    problems, spec = check_data_yaml(
        {"path": "/x", "train": "a", "val": "b", "names": ["a", "b", "c"], "download": None}, PATH
    )
    assert problems == []
    assert spec is not None and spec.nc == 3


def test_spec_is_frozen() -> None:
    spec = DatasetSpec("a", "b", ("c",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.train = "x"  # type: ignore[misc]


# --- check_data_yaml: bad content --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "got an empty file"),
        ("train: x", "got a str"),
        (["train", "val"], "got a list"),
        (42, "got a int"),
    ],
)
def test_not_a_mapping(content: object, fragment: str) -> None:
    problems, spec = check_data_yaml(content, PATH)
    assert spec is None
    assert len(problems) == 1
    assert problems[0].path == PATH and problems[0].line is None
    assert "expected a mapping with keys train, val, names" in problems[0].message
    assert fragment in problems[0].message


@pytest.mark.parametrize("missing", ["train", "val", "names"])
def test_missing_key(missing: str) -> None:
    content = {"train": "t", "val": "v", "names": ["person"]}
    del content[missing]
    problems, spec = check_data_yaml(content, PATH)
    assert spec is None
    assert [p.message.split(" (")[0] for p in problems] == [f"missing key '{missing}'"]


def test_all_keys_missing_reports_each() -> None:
    problems, spec = check_data_yaml({}, PATH)
    assert spec is None
    messages = " | ".join(p.message for p in problems)
    assert len(problems) == 3
    for key in ("train", "val", "names"):
        assert f"missing key '{key}'" in messages


@pytest.mark.parametrize("value", [None, "", "   ", 3, ["images/train"], {"a": 1}])
def test_split_not_a_nonempty_string(value: object) -> None:
    problems, spec = check_data_yaml({"train": value, "val": "v", "names": ["p"]}, PATH)
    assert spec is None
    assert len(problems) == 1
    assert problems[0].message.startswith("'train' must be a non-empty string")
    assert repr(value) in problems[0].message


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        ("person", "'names' must be a list or a {int: str} mapping, got a str"),
        (None, "'names' must be a list or a {int: str} mapping, got missing"),
        (3, "got a int"),
        ([], "'names' is empty"),
        ({}, "'names' is empty"),
        (["person", ""], "class 1 name must be a non-empty string, got ''"),
        (["person", 7], "class 1 name must be a non-empty string, got 7"),
        ([None], "class 0 name must be a non-empty string, got None"),
        ({"0": "person"}, "'names' keys must be integers, got '0'"),
        ({0: "a", 2: "b"}, "'names' keys must be 0..1 without gaps, got [0, 2]"),
        ({1: "a"}, "'names' keys must be 0..0 without gaps, got [1]"),
        ({True: "a"}, "'names' keys must be integers, got True"),
        ({0: ["x"]}, "class 0 name must be a non-empty string"),
    ],
)
def test_bad_names(names: object, fragment: str) -> None:
    problems, spec = check_data_yaml({"train": "t", "val": "v", "names": names}, PATH)
    assert spec is None
    assert problems, names
    assert any(fragment in p.message for p in problems), [p.message for p in problems]


def test_every_bad_name_is_reported() -> None:
    problems, _ = check_data_yaml({"train": "t", "val": "v", "names": ["", "ok", None]}, PATH)
    assert [p.message[:7] for p in problems] == ["class 0", "class 2"]


@pytest.mark.parametrize(
    ("nc", "fragment"),
    [
        (2, "'nc' is 2 but 'names' lists 1 classes"),
        (0, "'nc' is 0 but 'names' lists 1 classes"),
        ("1", "'nc' must be an integer, got '1'"),
        (1.0, "'nc' must be an integer, got 1.0"),
        (True, "'nc' must be an integer, got True"),
        (None, "'nc' must be an integer, got None"),
    ],
)
def test_bad_nc(nc: object, fragment: str) -> None:
    problems, spec = check_data_yaml({"train": "t", "val": "v", "nc": nc, "names": ["person"]}, PATH)
    assert spec is None
    assert [p.message for p in problems] == [fragment]


def test_bad_nc_with_bad_names_still_reports_nc_type() -> None:
    problems, spec = check_data_yaml({"train": "t", "val": "v", "nc": "x", "names": []}, PATH)
    assert spec is None
    assert {p.message for p in problems} == {
        "'names' is empty: a dataset needs at least one class",
        "'nc' must be an integer, got 'x'",
    }


def test_all_problems_are_reported_together() -> None:
    problems, spec = check_data_yaml({"train": 1, "names": "x", "nc": "y"}, PATH)
    assert spec is None
    assert len(problems) == 4
    assert all(p.path == PATH and p.line is None for p in problems)


# --- check_label_lines: good lines -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "   \n\t\n",
        "0 0.5 0.5 0.2 0.3\n",
        "0 0.5 0.5 0.2 0.3",  # no trailing newline
        "0 0.500000 0.500000 0.200000 0.300000\n1 0.1 0.9 0.05 0.05\n",
        "0 0 0 1 1\n",  # boundaries are inside [0, 1]
        "0 1 1 1e-6 1.0\n",
        "0\t0.5\t0.5\t0.2\t0.3\r\n",  # tabs and CRLF
        "  2   0.5 0.5 0.2 0.3  \n\n\n0 .5 .5 .2 .3\n",  # extra spaces, blank lines, leading-dot floats
        "+1 0.5 0.5 0.2 0.3\n",
    ],
)
def test_good_label_text(text: str) -> None:
    assert check_label_lines(text, LABEL, nc=3) == []


# --- check_label_lines: bad lines --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0 0.5 0.5 0.2", "expected 5 fields 'cls cx cy w h', got 4"),
        ("0", "expected 5 fields 'cls cx cy w h', got 1"),
        ("0 0.5 0.5 0.2 0.3 0.9", "expected 5 fields 'cls cx cy w h', got 6"),
        ("0 0.1 0.1 0.2 0.2 0.3 0.3 0.1 0.4", "expected 5 fields 'cls cx cy w h', got 9"),  # polygon
        ("3 0.5 0.5 0.2 0.3", "class 3 >= nc 3"),
        ("-1 0.5 0.5 0.2 0.3", "class -1 < 0"),
        ("person 0.5 0.5 0.2 0.3", "class 'person' is not an integer"),
        ("0.0 0.5 0.5 0.2 0.3", "class '0.0' is not an integer"),
        ("0 1.2 0.5 0.2 0.3", "coordinate cx=1.2 outside [0, 1]"),
        ("0 0.5 1.2 0.2 0.3", "coordinate cy=1.2 outside [0, 1]"),
        ("0 0.5 0.5 -0.1 0.3", "coordinate w=-0.1 outside [0, 1]"),
        ("0 0.5 0.5 0.2 1.0001", "coordinate h=1.0001 outside [0, 1]"),
        ("0 0.5 0.5 0 0.3", "box size w=0 must be > 0"),
        ("0 0.5 0.5 0.2 0.0", "box size h=0.0 must be > 0"),
        ("0 0.5 0.5 0.2 -0", "box size h=-0 must be > 0"),
        ("0 nan 0.5 0.2 0.3", "coordinate cx=nan is not finite"),
        ("0 0.5 inf 0.2 0.3", "coordinate cy=inf is not finite"),
        ("0 0.5 0.5 -inf 0.3", "coordinate w=-inf is not finite"),
        ("0 0.5 0.5 0.2 abc", "coordinate h='abc' is not a number"),
        ("0 0,5 0.5 0.2 0.3", "coordinate cx='0,5' is not a number"),
        ("0 50 60 20 30", "coordinate cx=50 outside [0, 1]"),  # pixel coordinates
    ],
)
def test_bad_label_line(line: str, message: str) -> None:
    problems = check_label_lines(line + "\n", LABEL, nc=3)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == LABEL
    assert problem.line == 1
    assert message in problem.message
    assert str(problem).startswith(f"{LABEL}:1: ")


def test_several_errors_on_one_line_are_one_problem() -> None:
    problems = check_label_lines("5 1.5 -0.5 0 2\n", LABEL, nc=1)
    assert len(problems) == 1
    assert problems[0].message == (
        "class 5 >= nc 1; coordinate cx=1.5 outside [0, 1]; coordinate cy=-0.5 outside [0, 1]; "
        "box size w=0 must be > 0; coordinate h=2 outside [0, 1]"
    )


def test_line_numbers_count_blank_lines_and_only_bad_lines_are_reported() -> None:
    text = "0 0.5 0.5 0.2 0.2\n\n1 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n   \n0 0.5 0.5 0.2 0.2\n0 2 0.5 0.2 0.2"
    problems = check_label_lines(text, LABEL, nc=1)
    assert [(p.line, p.message) for p in problems] == [
        (3, "class 1 >= nc 1"),
        (4, "expected 5 fields 'cls cx cy w h', got 4"),
        (7, "coordinate cx=2 outside [0, 1]"),
    ]
    assert [str(p) for p in problems][0] == f"{LABEL}:3: class 1 >= nc 1"


def test_nc_zero_rejects_every_class() -> None:
    problems = check_label_lines("0 0.5 0.5 0.2 0.2\n", LABEL, nc=0)
    assert [p.message for p in problems] == ["class 0 >= nc 0"]
