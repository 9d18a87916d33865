"""On-disk layout shared by the dataset tools (YOLO convention, data.yaml without ``path:``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
SPLITS = ("train", "val")
DATA_YAML = "data.yaml"
# What a dataset folder produced by this package may contain; a .gitignore is tolerated
# because users commonly drop one in to keep the data itself out of git.
_DATASET_ENTRIES = {"images", "labels", DATA_YAML, ".gitignore"}


def is_image(path: Path) -> bool:
    """True for a file whose suffix is one of IMAGE_SUFFIXES (case-insensitive)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def split_images(image_dir: Path) -> list[Path]:
    """Every image file under `image_dir`, at any depth, sorted."""
    return sorted(p for p in image_dir.rglob("*") if p.is_file() and is_image(p))


def label_path_for(image: Path) -> Path:
    """``.../images/<split>/x.png`` -> ``.../labels/<split>/x.txt`` (last ``images`` component)."""
    parts = list(image.parts)
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "images":
            parts[index] = "labels"
            return Path(*parts).with_suffix(".txt")
    raise ValueError(f"{image} is not under an 'images' directory, so it has no YOLO label path")


def write_data_yaml(root: Path, names: list[str]) -> Path:
    """Write ``root/data.yaml`` (relative split dirs, no ``path:`` key) and return its path."""
    content = {"train": "images/train", "val": "images/val", "nc": len(names), "names": list(names)}
    text = yaml.safe_dump(content, sort_keys=False, default_flow_style=False, allow_unicode=True)
    target = root / DATA_YAML
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return target


def prepare_output_dir(out_dir: Path) -> None:
    """Create ``out_dir`` or empty a previous dataset there; refuse anything that is not one."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in _DATASET_ENTRIES)
        if foreign:
            raise ValueError(
                f"{out_dir} is not empty and does not look like a dataset written by this tool "
                f"(unexpected: {', '.join(foreign)}); choose another directory or remove it"
            )
        for name in ("images", "labels"):
            sub = out_dir / name
            if sub.is_dir() and not sub.is_symlink():
                shutil.rmtree(sub)
            elif sub.exists() or sub.is_symlink():
                sub.unlink()
        if (out_dir / DATA_YAML).is_dir():
            raise ValueError(f"{out_dir / DATA_YAML} is a directory")
    for split in SPLITS:
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / split).mkdir(parents=True, exist_ok=True)
