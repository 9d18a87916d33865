"""The val split's ground truth, read from the YOLO label files, in pixels (for per-image scoring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from yolo_mlops.core.dataset_checks import check_data_yaml
from yolo_mlops.data.layout import DATA_YAML, label_path_for, split_images


def val_ground_truth(root: Path) -> tuple[list[Path], list[np.ndarray]]:
    """The val images of a dataset that validates (sorted), and per image its boxes (M, 4) as x1 y1 x2 y2 pixels."""
    _, spec = check_data_yaml(yaml.safe_load((root / DATA_YAML).read_text(encoding="utf-8")), str(root / DATA_YAML))
    if spec is None:
        raise ValueError(f"{root / DATA_YAML} is invalid: validate the dataset first")
    images = split_images(root / spec.val)
    truths = []
    for image in images:
        with Image.open(image) as opened:
            width, height = opened.size
        rows = [line.split() for line in label_path_for(image).read_text(encoding="utf-8").splitlines()]
        boxes = np.array([[float(v) for v in row[1:5]] for row in rows if row], dtype=float).reshape(-1, 4)
        centre, size = boxes[:, :2] * (width, height), boxes[:, 2:] * (width, height)
        truths.append(np.hstack([centre - size / 2, centre + size / 2]))
    return images, truths
