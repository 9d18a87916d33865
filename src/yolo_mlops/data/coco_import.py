"""Import the ``person`` boxes of a coco128-layout dataset as a tiny one-class dataset."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

from yolo_mlops.data.layout import is_image, label_path_for, prepare_output_dir, write_data_yaml


def _person_lines(label: Path, person_class: int) -> list[str]:
    kept = []
    for number, line in enumerate(label.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls = int(fields[0])
        except ValueError:
            raise ValueError(f"{label}:{number}: class {fields[0]!r} is not an integer") from None
        if cls == person_class:
            kept.append(" ".join(["0", *fields[1:]]) + "\n")
    return kept


def import_person_subset(
    src: Path, out_dir: Path, *, val_fraction: float = 0.2, seed: int = 0, person_class: int = 0
) -> Path:
    """Copy the images of ``src`` that contain class ``person_class`` into ``out_dir``; return data.yaml.

    Only person lines are kept (class rewritten to 0); the train/val split is a seeded shuffle of
    the images sorted by file name, so it is the same on every machine.
    """
    src, out_dir = Path(src), Path(out_dir)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    images_root = src / "images"
    if not images_root.is_dir():
        raise ValueError(f"{images_root} does not exist: expected a coco128 layout (images/<split>/*.jpg)")
    if out_dir.resolve() == src.resolve() or src.resolve() in out_dir.resolve().parents:
        raise ValueError(f"output directory {out_dir} must not be inside the source {src}")

    selected: dict[str, tuple[Path, list[str]]] = {}
    stems: dict[str, Path] = {}
    for image in sorted(p for p in images_root.rglob("*") if p.is_file() and is_image(p)):
        label = label_path_for(image)
        if not label.is_file():
            continue  # an unlabelled image has no persons
        lines = _person_lines(label, person_class)
        if not lines:
            continue
        if image.stem in stems:
            # The output is flat per split, so two sources with one stem would share a label file.
            raise ValueError(f"source images {stems[image.stem]} and {image} have the same name {image.stem!r}")
        stems[image.stem] = image
        selected[image.name] = (image, lines)

    names = sorted(selected)
    if len(names) < 2:
        raise ValueError(
            f"only {len(names)} image(s) under {images_root} contain class {person_class}; "
            "at least 2 are needed to make a train and a val split"
        )
    random.Random(seed).shuffle(names)
    n_val = min(max(math.ceil(len(names) * val_fraction), 1), len(names) - 1)
    split_of = {name: ("val" if i < n_val else "train") for i, name in enumerate(names)}

    prepare_output_dir(out_dir)
    for name in sorted(names):
        image, lines = selected[name]
        split = split_of[name]
        shutil.copyfile(image, out_dir / "images" / split / name)
        target = out_dir / "labels" / split / f"{Path(name).stem}.txt"
        with target.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(lines))
    return write_data_yaml(out_dir, ["person"])
