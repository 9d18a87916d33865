"""Dataset validation (reads files, applies the pure checks) and the DVC 3 directory hash."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml
from PIL import Image

from yolo_mlops.core.dataset_checks import Problem, check_data_yaml, check_label_lines
from yolo_mlops.core.errors import DatasetError
from yolo_mlops.data.layout import DATA_YAML, label_path_for, split_images

# Directories DVC always ignores (dvc/ignore.py default patterns).
_DVC_IGNORED_DIRS = {".git", ".hg", ".dvc"}
# Ultralytics writes labels/<split>.cache beside the labels on first use; it is derived, rebuilt on demand,
# and ignored by DVC too (the project's .dvcignore holds the same pattern), so it never changes the md5.
ULTRALYTICS_CACHE_SUFFIX = ".cache"


def _load_yaml(path: Path) -> tuple[object, Problem | None]:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except UnicodeDecodeError as exc:
        return None, Problem(str(path), None, f"not UTF-8 text: {exc}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, Problem(str(path), line, f"invalid YAML: {reason}")


# Pillow's own opener, taken before anything patches it: importing Ultralytics replaces Image.open with one
# that, on an unidentifiable file, tries to load a HEIF plugin first (pi-heif, not installed), so a garbage
# image would be reported as "No module named 'pi_heif'".
_pillow_open = Image.open


def _check_image(image: Path) -> Problem | None:
    try:
        # verify() catches broken structure/CRCs but leaves the image unusable, and it does not
        # decode pixels, so a second open + load() catches truncated data.
        with _pillow_open(image) as im:
            im.verify()
        with _pillow_open(image) as im:
            im.load()
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, ValueError, ...)
        return Problem(str(image), None, f"image cannot be decoded: {type(exc).__name__}: {exc}")
    return None


def _check_label(image: Path, root: Path, nc: int) -> list[Problem]:
    label = label_path_for(image)
    if not label.is_file():
        return [Problem(str(label), None, f"no label file for image {image.relative_to(root).as_posix()}")]
    try:
        text = label.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(str(label), None, f"label file is not UTF-8 text: {exc}")]
    return check_label_lines(text, str(label), nc)


def validate_dataset(root: Path) -> list[Problem]:
    """Check data.yaml, both splits, every image and every label file under ``root``."""
    root = Path(root)
    data_yaml = root / DATA_YAML
    if not data_yaml.is_file():
        return [Problem(str(data_yaml), None, f"{DATA_YAML} not found in {root}")]
    content, problem = _load_yaml(data_yaml)
    if problem is not None:
        return [problem]
    problems, spec = check_data_yaml(content, str(data_yaml))
    if spec is None:
        return problems
    for split, rel in (("train", spec.train), ("val", spec.val)):
        image_dir = root / rel
        if not image_dir.is_dir():
            message = f"split '{split}' image directory {rel} does not exist"
            problems.append(Problem(str(image_dir), None, message))
            continue
        images = split_images(image_dir)
        if not images:
            problems.append(Problem(str(image_dir), None, f"split '{split}' has no images in {rel}"))
            continue
        for image in images:
            bad_image = _check_image(image)
            if bad_image is not None:
                problems.append(bad_image)
            problems.extend(_check_label(image, root, spec.nc))
        problems.extend(_orphan_labels(images, image_dir))
    return problems


def _orphan_labels(images: list[Path], image_dir: Path) -> list[Problem]:
    """Label files of a split with no image: a sign of a half-copied or mis-renamed dataset (Ultralytics
    silently ignores them, so their boxes never train)."""
    labels_dir = label_path_for(image_dir / "any.png").parent
    if not labels_dir.is_dir():
        return []
    paired = {label_path_for(image) for image in images}
    return [
        Problem(str(label), None, f"label file has no image in {image_dir.name}/ (expected {label.stem}.<png|jpg|…>)")
        for label in sorted(labels_dir.rglob("*.txt"))
        if label not in paired
    ]


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_md5(root: Path) -> str:
    """The ``<md5>.dir`` that ``dvc add root`` (DVC 3) records for the directory.

    Mirrors dvc_data's ``Tree.as_bytes``: a JSON list of ``{"md5", "relpath"}`` for every file,
    sorted by posix relpath, dumped with ``sort_keys=True`` and default separators, then md5'd.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _DVC_IGNORED_DIRS]
        for name in filenames:
            if name == ".git" or name.endswith(ULTRALYTICS_CACHE_SUFFIX):  # a gitlink file; label caches
                continue
            path = Path(dirpath) / name
            entries.append({"md5": _file_md5(path), "relpath": path.relative_to(root).as_posix()})
    entries.sort(key=lambda entry: entry["relpath"])
    payload = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(payload, usedforsecurity=False).hexdigest() + ".dir"


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
