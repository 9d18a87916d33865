"""Dataset gate before any training: a dataset that fails validation stops the run with one message."""

from __future__ import annotations

from pathlib import Path

from yolo_mlops.core.errors import DatasetError
from yolo_mlops.data.validate import dataset_md5, validate_dataset

_SHOWN_PROBLEMS = 20


def require_valid_dataset(root: Path) -> str:
    """The dataset's DVC md5 if it validates; DatasetError listing every problem (`file:line: what`)."""
    if not (root / "data.yaml").is_file():
        raise DatasetError(
            f"{root}: no dataset here (data.yaml missing); run `dvc pull` or `yolo-mlops data synth --out {root}`."
        )
    problems = validate_dataset(root)
    if problems:
        lines = [str(p) for p in problems[:_SHOWN_PROBLEMS]]
        if len(problems) > _SHOWN_PROBLEMS:
            lines.append(f"... and {len(problems) - _SHOWN_PROBLEMS} more")
        raise DatasetError(
            f"{root}: dataset is invalid ({len(problems)} problem(s)); fix or regenerate it before training:\n  "
            + "\n  ".join(lines)
        )
    return dataset_md5(root)
