"""DVC adapter: what a committed .dvc file says about the dataset it tracks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from yolo_mlops.core.errors import DatasetError


@dataclass(frozen=True)
class TrackedData:
    path: Path
    md5: str


def read_dvc_file(dvc_file: Path) -> TrackedData:
    """The single output of a `dvc add`-made file: its path (relative to the file) and md5."""
    try:
        content = yaml.safe_load(dvc_file.read_text())
        out = content["outs"][0]
        return TrackedData(path=(dvc_file.parent / out["path"]).resolve(), md5=str(out["md5"]))
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        raise DatasetError(
            f"{dvc_file}: not a readable DVC file with one output; restore it with `git checkout {dvc_file.name}`."
        ) from None
