"""Pure checks for YOLO datasets: data.yaml content and label-file lines.

Nothing here touches the file system; callers read files and pass text or parsed YAML.
Messages say what is wrong; the caller adds how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

LABEL_FIELDS = "cls cx cy w h"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset, located by path and (1-based) line when known."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class DatasetSpec:
    """The parts of data.yaml this project relies on."""

    train: str
    val: str
    names: tuple[str, ...]

    @property
    def nc(self) -> int:
        return len(self.names)


def _is_int(value: object) -> bool:
    # bool is an int subclass; `nc: true` is a mistake, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_names(names: object, path: str) -> tuple[list[Problem], tuple[str, ...] | None]:
    if isinstance(names, list):
        items = list(enumerate(names))
    elif isinstance(names, Mapping):
        bad_keys = [k for k in names if not _is_int(k)]
        if bad_keys:
            return [Problem(path, None, f"'names' keys must be integers, got {bad_keys[0]!r}")], None
        keys = sorted(names)
        if keys != list(range(len(keys))):
            return [Problem(path, None, f"'names' keys must be 0..{len(keys) - 1} without gaps, got {keys}")], None
        items = [(k, names[k]) for k in keys]
    else:
        kind = "missing" if names is None else f"a {type(names).__name__}"
        return [Problem(path, None, f"'names' must be a list or a {{int: str}} mapping, got {kind}")], None
    if not items:
        return [Problem(path, None, "'names' is empty: a dataset needs at least one class")], None
    problems = []
    for index, name in items:
        if not isinstance(name, str) or not name.strip():
            message = f"class {index} name must be a non-empty string, got {name!r}"
            problems.append(Problem(path, None, message))
    if problems:
        return problems, None
    return [], tuple(name for _, name in items)


def check_data_yaml(content: object, path: str) -> tuple[list[Problem], DatasetSpec | None]:
    """Check parsed data.yaml content; return the problems and, only if there are none, the spec."""
    if not isinstance(content, Mapping):
        kind = "an empty file" if content is None else f"a {type(content).__name__}"
        return [Problem(path, None, f"expected a mapping with keys train, val, names; got {kind}")], None
    problems: list[Problem] = []
    splits: dict[str, str] = {}
    for key in ("train", "val"):
        value = content.get(key)
        if key not in content:
            problems.append(Problem(path, None, f"missing key '{key}' (directory of {key} images)"))
        elif not isinstance(value, str) or not value.strip():
            message = f"'{key}' must be a non-empty string (directory of images), got {value!r}"
            problems.append(Problem(path, None, message))
        else:
            splits[key] = value
    names: tuple[str, ...] | None = None
    if "names" not in content:
        problems.append(Problem(path, None, "missing key 'names' (list of class names)"))
    else:
        name_problems, names = _check_names(content["names"], path)
        problems.extend(name_problems)
    if "nc" in content:
        nc = content["nc"]
        if not _is_int(nc):
            problems.append(Problem(path, None, f"'nc' must be an integer, got {nc!r}"))
        elif names is not None and nc != len(names):
            problems.append(Problem(path, None, f"'nc' is {nc} but 'names' lists {len(names)} classes"))
    if problems or names is None:
        return problems, None
    return [], DatasetSpec(train=splits["train"], val=splits["val"], names=names)


def _check_label_fields(fields: list[str], nc: int) -> list[str]:
    errors: list[str] = []
    if len(fields) != 5:
        return [f"expected 5 fields '{LABEL_FIELDS}', got {len(fields)}"]
    cls_text, *coords = fields
    try:
        cls = int(cls_text)
    except ValueError:
        errors.append(f"class {cls_text!r} is not an integer")
    else:
        if cls < 0:
            errors.append(f"class {cls} < 0")
        elif cls >= nc:
            errors.append(f"class {cls} >= nc {nc}")
    for name, text in zip(("cx", "cy", "w", "h"), coords, strict=True):
        try:
            value = float(text)
        except ValueError:
            errors.append(f"coordinate {name}={text!r} is not a number")
            continue
        if not math.isfinite(value):
            errors.append(f"coordinate {name}={text} is not finite")
        elif not 0.0 <= value <= 1.0:
            errors.append(f"coordinate {name}={text} outside [0, 1]")
        elif name in ("w", "h") and value <= 0.0:
            errors.append(f"box size {name}={text} must be > 0")
    return errors


def check_label_lines(text: str, path: str, nc: int) -> list[Problem]:
    """Check every non-blank line of a YOLO label file; one Problem per bad line."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        errors = _check_label_fields(fields, nc)
        if errors:
            problems.append(Problem(path, number, "; ".join(errors)))
    return problems
