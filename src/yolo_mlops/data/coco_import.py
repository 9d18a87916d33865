"""Import the ``person`` boxes of real data as a tiny one-class dataset: from a coco128 (YOLO) layout or
from a COCO JSON annotations file, with the same reproducible train/val split."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

from yolo_mlops.data.layout import label_path_for, prepare_output_dir, split_images, write_data_yaml

# What one selected image brings: its source file and its label lines (class 0, YOLO coordinates).
Selected = dict[str, tuple[Path, list[str]]]
_SHOWN_CATEGORIES = 12


def _write_split(selected: Selected, out_dir: Path, val_fraction: float, seed: int, source: str) -> Path:
    """Split the images by a seeded shuffle of their sorted names (the same on every machine), copy them
    and write their labels into ``out_dir``; return data.yaml's path."""
    names = sorted(selected)
    if len(names) < 2:
        raise ValueError(
            f"only {len(names)} image(s) in {source}; at least 2 are needed to make a train and a val split"
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


def _check_common(val_fraction: float, out_dir: Path, src: Path) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    if out_dir.resolve() == src.resolve() or src.resolve() in out_dir.resolve().parents:
        raise ValueError(f"output directory {out_dir} must not be inside the source {src}")


def _add_unique(selected: Selected, stems: dict[str, Path], image: Path, lines: list[str]) -> None:
    if image.stem in stems:
        # The output is flat per split, so two sources with one stem would share a label file.
        raise ValueError(f"source images {stems[image.stem]} and {image} have the same name {image.stem!r}")
    stems[image.stem] = image
    selected[image.name] = (image, lines)


# ---- coco128 (YOLO) layout ----------------------------------------------------------------------------


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

    Only person lines are kept (class rewritten to 0).
    """
    src, out_dir = Path(src), Path(out_dir)
    images_root = src / "images"
    if not images_root.is_dir():
        raise ValueError(f"{images_root} does not exist: expected a coco128 layout (images/<split>/*.jpg)")
    _check_common(val_fraction, out_dir, src)
    selected: Selected = {}
    stems: dict[str, Path] = {}
    for image in split_images(images_root):
        label = label_path_for(image)
        if not label.is_file():
            continue  # an unlabelled image has no persons
        lines = _person_lines(label, person_class)
        if lines:
            _add_unique(selected, stems, image, lines)
    return _write_split(selected, out_dir, val_fraction, seed, f"{images_root} contain class {person_class}")


# ---- COCO JSON ----------------------------------------------------------------------------------------


def _load_coco(annotations: Path) -> dict:
    if not annotations.is_file():
        raise ValueError(f"{annotations} does not exist: give the COCO annotations file (e.g. instances_val2017.json)")
    try:
        content = json.loads(annotations.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{annotations} is not UTF-8 text ({exc}): give a COCO annotations JSON file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{annotations}:{exc.lineno}: not valid JSON ({exc.msg}): give a COCO annotations JSON file"
        ) from None
    if not isinstance(content, dict):
        raise ValueError(f"{annotations} is not a COCO annotations file: the top level must be an object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(content.get(key), list):
            raise ValueError(f"{annotations} is not a COCO annotations file: no '{key}' list")
    return content


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _yolo_line(bbox: object, width: float, height: float) -> str | None:
    """COCO's pixel ``[x, y, w, h]`` as a YOLO line, clipped to the image; None for an empty or bad box."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        return None
    values = [_number(v) for v in bbox]
    if any(v is None for v in values):
        return None
    x, y, w, h = values  # type: ignore[misc]
    x0, y0 = max(0.0, x) / width, max(0.0, y) / height
    x1, y1 = min(width, x + w) / width, min(height, y + h) / height
    if x1 <= x0 or y1 <= y0:
        return None
    return f"0 {(x0 + x1) / 2:.6f} {(y0 + y1) / 2:.6f} {x1 - x0:.6f} {y1 - y0:.6f}\n"


def _category_id(content: dict, category: str, annotations: Path) -> object:
    names = {c.get("name"): c.get("id") for c in content["categories"] if isinstance(c, dict)}
    if category not in names:
        known = sorted(str(n) for n in names)
        shown = ", ".join(known[:_SHOWN_CATEGORIES]) + (", ..." if len(known) > _SHOWN_CATEGORIES else "")
        raise ValueError(f"{annotations} has no category named {category!r}; its categories are: {shown or 'none'}")
    return names[category]


def import_coco_json(
    annotations: Path,
    images_dir: Path,
    out_dir: Path,
    *,
    category: str = "person",
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Path:
    """The images of a COCO detection file that hold at least one ``category`` box, with those boxes only
    (class 0; crowd regions skipped, boxes clipped to the image), split as ``import_person_subset`` does."""
    annotations, images_dir, out_dir = Path(annotations), Path(images_dir), Path(out_dir)
    content = _load_coco(annotations)
    if not images_dir.is_dir():
        raise ValueError(f"{images_dir} is not a directory: give the folder the 'file_name's of {annotations} are in")
    _check_common(val_fraction, out_dir, images_dir)
    wanted = _category_id(content, category, annotations)

    images = {}
    for entry in content["images"]:
        if not isinstance(entry, dict):
            continue
        width, height, name = _number(entry.get("width")), _number(entry.get("height")), entry.get("file_name")
        if width and height and width > 0 and height > 0 and isinstance(name, str) and name:
            images[entry.get("id")] = (name, width, height)
    lines: dict[object, list[str]] = {}
    for ann in content["annotations"]:
        if not isinstance(ann, dict) or ann.get("category_id") != wanted or ann.get("iscrowd", 0):
            continue
        image = images.get(ann.get("image_id"))
        line = _yolo_line(ann.get("bbox"), image[1], image[2]) if image else None
        if line is not None:
            lines.setdefault(ann["image_id"], []).append(line)

    missing = sorted(images[i][0] for i in lines if not (images_dir / images[i][0]).is_file())
    if missing:
        raise ValueError(
            f"{len(missing)} image(s) listed in {annotations} with a {category!r} box are missing under "
            f"{images_dir} (first: {missing[0]}); point IMAGES_DIR at the folder that holds them"
        )
    selected: Selected = {}
    stems: dict[str, Path] = {}
    for image_id in sorted(lines, key=lambda i: images[i][0]):
        _add_unique(selected, stems, images_dir / images[image_id][0], lines[image_id])
    return _write_split(selected, out_dir, val_fraction, seed, f"{annotations} have a {category!r} box")
