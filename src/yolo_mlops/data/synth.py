"""Deterministic synthetic one-class ``person`` dataset, easy enough for a from-scratch YOLOv8n.

Each image: a smooth muted background, 1-3 solid "persons" (round head over a shirt-coloured
torso over two dark legs) and 0-3 distractor shapes that are never stacked like head-over-torso.
Every image has its own RNG seeded from (seed, split, index), so adding images never changes
the existing ones, and PNGs are written without metadata so the tree is byte-for-byte stable.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from yolo_mlops.data.layout import SPLITS, prepare_output_dir, write_data_yaml

CLASS_NAMES = ["person"]
_SKIN_TONES = (
    (255, 205, 148),
    (234, 192, 134),
    (224, 172, 105),
    (198, 134, 66),
    (172, 112, 61),
    (141, 85, 36),
)
_FIGURE_TRIES = 20
_DISTRACTOR_TRIES = 10

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 with x1/y1 exclusive
Color = tuple[int, int, int]


def _hsv(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> Color:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0.0, 1.0), rng.uniform(*s), rng.uniform(*v))
    return (round(r * 255), round(g * 255), round(b * 255))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = np.array(_hsv(rng, s=(0.05, 0.3), v=(0.4, 0.75)), dtype=np.float32)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    amplitude = rng.uniform(10.0, 30.0)
    ramp = (np.arange(size, dtype=np.float32) / max(size - 1, 1)) - 0.5
    gradient = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
    # Grey noise (same on all channels) keeps the texture mild and the PNGs small.
    noise = rng.normal(0.0, 2.5, size=(size, size)).astype(np.float32)
    pixels = base[None, None, :] + (amplitude * gradient + noise)[:, :, None]
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _overlaps(a: Box, b: Box, gap: int) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _stacked(a: Box, b: Box) -> bool:
    """True when one box sits above the other in the same column, i.e. could read as head-over-torso."""
    if a[0] >= b[2] or b[0] >= a[2]:
        return False
    upper, lower = (a, b) if a[1] <= b[1] else (b, a)
    gap = lower[1] - upper[3]
    return gap < max(upper[3] - upper[1], lower[3] - lower[1], upper[2] - upper[0])


def _draw_person(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box: Box) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    head = max(3, min(width, round(height * rng.uniform(0.2, 0.24))))
    torso_bottom = top + round(height * rng.uniform(0.55, 0.62))
    leg = max(2, round(width * rng.uniform(0.34, 0.42)))
    inset = round(width * rng.uniform(0.0, 0.08))
    skin = _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))]
    skin = tuple(int(np.clip(c + rng.integers(-12, 13), 0, 255)) for c in skin)
    shirt = _hsv(rng, s=(0.65, 1.0), v=(0.65, 1.0))
    trousers = _hsv(rng, s=(0.0, 0.5), v=(0.08, 0.3))
    head_left = left + (width - head) // 2
    # PIL shape boxes are inclusive, hence the -1s; the label box is the exclusive `box`.
    draw.ellipse((head_left, top, head_left + head - 1, top + head - 1), fill=skin)
    draw.rectangle((left, top + head, right - 1, torso_bottom - 1), fill=shirt)
    draw.rectangle((left + inset, torso_bottom, left + inset + leg - 1, bottom - 1), fill=trousers)
    draw.rectangle((right - inset - leg, torso_bottom, right - inset - 1, bottom - 1), fill=trousers)


def _draw_distractor(draw: ImageDraw.ImageDraw, rng: np.random.Generator, kind: int, box: Box) -> None:
    color = _hsv(rng, s=(0.3, 1.0), v=(0.3, 1.0))
    x0, y0, x1, y1 = box[0], box[1], box[2] - 1, box[3] - 1
    if kind == 0:
        draw.ellipse((x0, y0, x1, y1), fill=color)
    elif kind == 1:
        draw.rectangle((x0, y0, x1, y1), fill=color)
    elif rng.integers(2):
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=color)
    else:
        draw.polygon([(x0, y0), (x1, y0), ((x0 + x1) / 2, y1)], fill=color)


def _render(rng: np.random.Generator, size: int) -> tuple[Image.Image, list[Box]]:
    image = Image.fromarray(_background(rng, size), mode="RGB")
    draw = ImageDraw.Draw(image)
    persons: list[Box] = []
    for _ in range(int(rng.integers(1, 4))):
        for _ in range(_FIGURE_TRIES):
            height = round(size * rng.uniform(0.3, 0.6))
            width = max(3, round(height * rng.uniform(0.35, 0.5)))
            left = int(rng.integers(0, size - width + 1))
            top = int(rng.integers(0, size - height + 1))
            box = (left, top, left + width, top + height)
            if not any(_overlaps(box, other, gap=2) for other in persons):
                persons.append(box)
                _draw_person(draw, rng, box)
                break
    shapes: list[Box] = []
    for _ in range(int(rng.integers(0, 4))):
        kind = int(rng.integers(3))
        for _ in range(_DISTRACTOR_TRIES):
            side = max(3, round(size * rng.uniform(0.06, 0.2)))
            left = int(rng.integers(0, size - side + 1))
            top = int(rng.integers(0, size - side + 1))
            box = (left, top, left + side, top + side)
            if any(_overlaps(box, other, gap=3) for other in persons):
                continue
            if any(_overlaps(box, other, gap=2) or _stacked(box, other) for other in shapes):
                continue
            shapes.append(box)
            _draw_distractor(draw, rng, kind, box)
            break
    return image, persons


def _label_text(boxes: list[Box], size: int) -> str:
    lines = []
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2 / size, (y0 + y1) / 2 / size
        w, h = (x1 - x0) / size, (y1 - y0) / size
        lines.append(f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)


def synthesize(out_dir: Path, *, train: int = 480, val: int = 120, size: int = 256, seed: int = 0) -> Path:
    """Write the synthetic dataset into ``out_dir`` (replacing a previous one) and return data.yaml's path."""
    if train < 1 or val < 1:
        raise ValueError(f"need at least one image per split, got train={train} val={val}")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    out_dir = Path(out_dir)
    prepare_output_dir(out_dir)
    for split_index, (split, count) in enumerate(zip(SPLITS, (train, val), strict=True)):
        for index in range(count):
            rng = np.random.default_rng([seed, split_index, index])
            image, boxes = _render(rng, size)
            name = f"{index:05d}"
            # No pnginfo and a fixed compression level: identical pixels give identical bytes.
            image.save(out_dir / "images" / split / f"{name}.png", format="PNG", compress_level=6)
            with (out_dir / "labels" / split / f"{name}.txt").open("w", encoding="ascii", newline="\n") as fh:
                fh.write(_label_text(boxes, size))
    return write_data_yaml(out_dir, CLASS_NAMES)
