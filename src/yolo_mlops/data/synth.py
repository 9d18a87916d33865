"""Deterministic synthetic one-class ``person`` dataset where detector configs differ as on real data.

Each image is a cluttered scene: a textured colour field with blocks, stripes and blobs, hard-negative
distractors built from the same parts as people (posts with a ball on top, trees, four-legged animals,
crosses, bottles) in the same colours, then 0-6 articulated people (head, torso, two-segment arms and
legs in a random pose). People's heights are log-uniform from a few pixels to a third of the frame, so
most are tiny, as COCO's persons are: then the input size (``imgsz``) decides what a detector can see.
Some people stand partly behind a foreground object or are cut by the frame edge; the label is the
visible box. Last come lighting (gain, gradient, gamma, colour cast), blur and sensor noise.

Every image has its own RNG seeded from (seed, split, index), so adding images never changes the
existing ones, and PNGs are written without metadata so the tree is byte-for-byte stable.

Over 300 lines on purpose: the scene's parts (figures, poses, distractors, backgrounds, occluders, camera
effects) draw from one seeded generator in a fixed order; that order is what data.dvc's md5 records, so they
stay together where the order can be read.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from yolo_mlops.data.layout import SPLITS, prepare_output_dir, write_data_yaml

CLASS_NAMES = ["person"]
# The embedded default dataset (what data.dvc records): images per split and image side in pixels.
DEFAULT_TRAIN, DEFAULT_VAL, DEFAULT_SIZE = 480, 120, 192
_SKIN_TONES = (
    (255, 205, 148),
    (234, 192, 134),
    (224, 172, 105),
    (198, 134, 66),
    (172, 112, 61),
    (141, 85, 36),
)
# Person heights in pixels: log-uniform from _MIN_HEIGHT to a third of the frame.
_MIN_HEIGHT = 8.0
_MAX_HEIGHT_FRACTION = 1 / 3
# People per image, with these weights (a few background-only images, as in real data).
_COUNT_WEIGHTS = (0.04, 0.12, 0.18, 0.2, 0.18, 0.14, 0.14)
_PLACEMENT_TRIES = 20
# A person may be cut by the frame edge down to this fraction of its box; smaller slivers are not drawn.
_MIN_VISIBLE = 0.5
# Two people's boxes may overlap by at most this fraction of the smaller one (a crowd, not a merge).
_MAX_OVERLAP = 0.3

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 with x1/y1 exclusive
Color = tuple[int, int, int]
Point = tuple[float, float]


def _hsv(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> Color:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0.0, 1.0), rng.uniform(*s), rng.uniform(*v))
    return (round(r * 255), round(g * 255), round(b * 255))


def _skin(rng: np.random.Generator) -> Color:
    base = _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))]
    return tuple(int(np.clip(c + rng.integers(-15, 16), 0, 255)) for c in base)  # type: ignore[return-value]


def _any_color(rng: np.random.Generator) -> Color:
    """A colour people also wear or have: distractors and clutter must not be separable by colour."""
    roll = rng.uniform()
    if roll < 0.25:
        return _skin(rng)
    if roll < 0.5:
        return _hsv(rng, s=(0.0, 0.5), v=(0.08, 0.35))
    return _hsv(rng, s=(0.3, 1.0), v=(0.3, 1.0))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _smooth_field(rng: np.random.Generator, size: int, cells: int, channels: int) -> np.ndarray:
    """Random values on a coarse grid, bicubically upsampled: texture at a scale of size/cells."""
    coarse = rng.uniform(0.0, 255.0, size=(cells, cells, channels)).astype(np.uint8)
    mode = "RGB" if channels == 3 else "L"
    image = Image.fromarray(coarse if channels == 3 else coarse[:, :, 0], mode=mode)
    return np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    base = np.array(_hsv(rng, s=(0.05, 0.45), v=(0.3, 0.8)), dtype=np.float32)
    colour = _smooth_field(rng, size, int(rng.integers(2, 5)), 3) - 127.5
    texture = _smooth_field(rng, size, int(rng.integers(size // 16, size // 4)), 1) - 127.5
    pixels = base[None, None, :] + rng.uniform(0.1, 0.3) * colour + rng.uniform(0.03, 0.15) * texture[:, :, None]
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")
    draw = ImageDraw.Draw(image)
    # Clutter: blocks (walls, windows), stripes (roads, fences) and blobs, at every scale.
    for _ in range(int(rng.integers(2, 8))):
        kind = int(rng.integers(3))
        color = _any_color(rng) if rng.uniform() < 0.5 else _hsv(rng, s=(0.0, 0.4), v=(0.2, 0.9))
        w, h = (_log_uniform(rng, 3.0, size * 0.6) for _ in range(2))
        x, y = rng.uniform(-w / 2, size), rng.uniform(-h / 2, size)
        if kind == 0:
            draw.rectangle((x, y, x + w, y + h), fill=color)
        elif kind == 1:
            draw.ellipse((x, y, x + w, y + h), fill=color)
        else:
            width = max(1, round(_log_uniform(rng, 1.0, size * 0.04)))
            draw.line((x, y, x + rng.uniform(-w, w), y + rng.uniform(-h, h)), fill=color, width=width)
    return image


# ---- articulated figures ------------------------------------------------------------------------------


def _limb(start: Point, length: float, angle: float) -> Point:
    """End of a segment hanging from `start` at `angle` radians from straight down (positive: to the right)."""
    return (start[0] + length * math.sin(angle), start[1] + length * math.cos(angle))


@dataclass(frozen=True)
class _Figure:
    """A person's parts in image coordinates; `box` is the extent of everything drawn."""

    head: tuple[Point, float]
    torso: tuple[Point, Point, float]
    limbs: tuple[tuple[tuple[Point, Point, Point], float], ...]
    box: tuple[float, float, float, float]


def _pose(rng: np.random.Generator, height: float, foot: Point) -> _Figure:
    """A person `height` px tall whose lowest point is at `foot`: random lean, stride, arms and knees."""
    head_r = height * rng.uniform(0.06, 0.075)
    torso_w = max(1.0, height * rng.uniform(0.13, 0.2))
    limb_w = max(1.0, height * rng.uniform(0.05, 0.075))
    lean = rng.normal(0.0, 0.12)
    hip: Point = (0.0, 0.0)
    neck = _limb(hip, height * rng.uniform(0.3, 0.34), math.pi + lean)
    head_c = _limb(neck, head_r * 1.2, math.pi + lean)
    shoulder = _limb(hip, height * 0.28, math.pi + lean)
    crouch = rng.uniform() < 0.15
    limbs = []
    for side in (-1.0, 1.0):
        thigh = side * rng.uniform(0.0, 0.45) + (rng.uniform(0.6, 1.2) if crouch else 0.0)
        knee = _limb(hip, height * 0.25, thigh)
        shin = thigh - (rng.uniform(0.8, 1.8) if crouch else rng.uniform(0.0, 0.6))
        limbs.append(((hip, knee, _limb(knee, height * 0.25, shin)), limb_w))
        upper = side * rng.uniform(0.05, 2.6)
        elbow = _limb(shoulder, height * 0.17, upper)
        fore = upper + side * rng.uniform(-0.3, 1.2)
        limbs.append(((shoulder, elbow, _limb(elbow, height * 0.16, fore)), limb_w * 0.9))
    points = [p for segment, _ in limbs for p in segment] + [neck, hip]
    pad = max(torso_w, limb_w) / 2
    x0 = min(min(p[0] for p in points) - pad, head_c[0] - head_r)
    x1 = max(max(p[0] for p in points) + pad, head_c[0] + head_r)
    y0 = min(min(p[1] for p in points) - pad, head_c[1] - head_r)
    y1 = max(p[1] for p in points) + limb_w / 2
    dx, dy = foot[0] - (x0 + x1) / 2, foot[1] - y1

    def move(p: Point) -> Point:
        return (p[0] + dx, p[1] + dy)

    return _Figure(
        head=(move(head_c), head_r),
        torso=(move(hip), move(neck), torso_w),
        limbs=tuple((tuple(move(p) for p in seg), w) for seg, w in limbs),  # type: ignore[misc]
        box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
    )


def _draw_figure(draw: ImageDraw.ImageDraw, rng: np.random.Generator, figure: _Figure) -> None:
    skin = _skin(rng)
    shirt = _hsv(rng, s=(0.2, 1.0), v=(0.25, 1.0))
    trousers = _hsv(rng, s=(0.0, 0.7), v=(0.08, 0.6))
    sleeves = shirt if rng.uniform() < 0.5 else skin
    for index, (segment, width) in enumerate(figure.limbs):
        # Limbs alternate leg, arm, leg, arm (see _pose); legs first so arms stay in front of the hip.
        draw.line(segment, fill=trousers if index % 2 == 0 else sleeves, width=max(1, round(width)), joint="curve")
    hip, neck, torso_w = figure.torso
    draw.line((hip, neck), fill=shirt, width=max(1, round(torso_w)))
    (cx, cy), r = figure.head
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=skin)


def _draw_distractor(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int) -> None:
    """A non-person of a person's size and colours, built from the same kinds of parts."""
    h = _log_uniform(rng, _MIN_HEIGHT, size * _MAX_HEIGHT_FRACTION * 1.3)
    x, y = rng.uniform(0, size), rng.uniform(0, size + h / 2)
    color, other = _any_color(rng), _any_color(rng)
    w = max(1, round(h * rng.uniform(0.06, 0.2)))
    kind = int(rng.integers(5))
    if kind == 0:  # post or lamp: a bar with a ball on top
        r = h * rng.uniform(0.07, 0.14)
        draw.line(((x, y), (x, y - h + r)), fill=color, width=w)
        draw.ellipse((x - r, y - h, x + r, y - h + 2 * r), fill=other)
    elif kind == 1:  # tree: trunk and crown
        r = h * rng.uniform(0.2, 0.35)
        draw.line(((x, y), (x, y - h + r)), fill=color, width=w)
        draw.ellipse((x - r, y - h, x + r, y - h + 2 * r), fill=other)
    elif kind == 2:  # four-legged animal: body, legs, neck and head
        length, leg = h * rng.uniform(0.6, 1.0), h * rng.uniform(0.25, 0.45)
        top = y - leg - h * 0.3
        draw.ellipse((x, top, x + length, y - leg + 1), fill=color)
        for fx in (0.15, 0.3, 0.7, 0.85):
            draw.line(((x + fx * length, y - leg), (x + fx * length, y)), fill=color, width=max(1, w // 2))
        side = x + length if rng.uniform() < 0.5 else x
        draw.line(((side, top + 2), (side, top - h * 0.25)), fill=color, width=max(1, w // 2))
        r = h * 0.08
        draw.ellipse((side - r, top - h * 0.25 - r, side + r, top - h * 0.25 + r), fill=other)
    elif kind == 3:  # cross, sign or star: limb-like strokes
        for _ in range(int(rng.integers(2, 4))):
            a = rng.uniform(0, math.pi)
            dx, dy = math.sin(a) * h / 2, math.cos(a) * h / 2
            draw.line(((x - dx, y - h / 2 - dy), (x + dx, y - h / 2 + dy)), fill=color, width=max(1, w // 2))
    else:  # bottle or bin: a body with a neck
        bw = h * rng.uniform(0.2, 0.4)
        draw.rectangle((x - bw / 2, y - h * 0.7, x + bw / 2, y), fill=color)
        draw.rectangle((x - bw / 5, y - h, x + bw / 5, y - h * 0.7), fill=other)


# ---- scene ------------------------------------------------------------------------------------------


def _area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _intersection(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _clip(box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
    return (max(0.0, box[0]), max(0.0, box[1]), min(float(size), box[2]), min(float(size), box[3]))


def _place_people(rng: np.random.Generator, size: int) -> list[_Figure]:
    count = int(rng.choice(len(_COUNT_WEIGHTS), p=np.array(_COUNT_WEIGHTS) / sum(_COUNT_WEIGHTS)))
    figures: list[_Figure] = []
    for _ in range(count):
        for _ in range(_PLACEMENT_TRIES):
            height = _log_uniform(rng, _MIN_HEIGHT, size * _MAX_HEIGHT_FRACTION)
            # Feet may fall a little outside the frame: people cut by the edge, as in photos.
            foot = (rng.uniform(-0.1 * height, size + 0.1 * height), rng.uniform(0.5 * height, size + 0.4 * height))
            figure = _pose(rng, height, foot)
            if _area(_clip(figure.box, size)) < _MIN_VISIBLE * _area(figure.box):
                continue
            if any(
                _intersection(figure.box, other.box) > _MAX_OVERLAP * min(_area(figure.box), _area(other.box))
                for other in figures
            ):
                continue
            figures.append(figure)
            break
    # Far (small) people first, so nearer ones are drawn over them.
    return sorted(figures, key=lambda f: f.box[3] - f.box[1])


def _occlude(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box: tuple[float, float, float, float]) -> float:
    """A wall, car or bush in front of the lower part of a person; returns the visible box's new bottom."""
    x0, y0, x1, y1 = box
    top = y1 - (y1 - y0) * rng.uniform(0.2, 0.5)
    margin = (x1 - x0) * rng.uniform(0.2, 1.0)
    shape = (x0 - margin, top, x1 + margin, y1 + (y1 - y0) * 0.1)
    color = _any_color(rng)
    if rng.uniform() < 0.5:
        draw.rectangle(shape, fill=color)
    else:
        # An ellipse twice as tall, centred on its bottom edge: its top half covers the legs flat enough.
        draw.ellipse((shape[0], top, shape[2], 2 * shape[3] - top), fill=color)
    return top


def _finish(rng: np.random.Generator, image: Image.Image) -> Image.Image:
    """Blur, lighting (gain, gradient, gamma, colour cast) and sensor noise."""
    if rng.uniform() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.4, 1.3)))
    size = image.size[0]
    ramp = np.arange(size, dtype=np.float32) / max(size - 1, 1) - 0.5
    angle = rng.uniform(0.0, 2.0 * math.pi)
    gradient = 1.0 + rng.uniform(0.0, 0.6) * (math.cos(angle) * ramp[None, :] + math.sin(angle) * ramp[:, None])
    gain = rng.uniform(0.55, 1.3) * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], dtype=np.float32)
    gamma = rng.uniform(0.7, 1.4)
    # Gamma through a 256-entry table: exact per input value, so no pixel depends on a vector pow().
    table = np.array([255.0 * (v / 255.0) ** gamma for v in range(256)], dtype=np.float32)
    pixels = table[np.asarray(image)] * gradient[:, :, None] * gain[None, None, :]
    noise = rng.normal(0.0, rng.uniform(0.5, 3.0), size=(size, size)).astype(np.float32)
    pixels += noise[:, :, None]
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")


def _render(rng: np.random.Generator, size: int) -> tuple[Image.Image, list[Box]]:
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):
        _draw_distractor(draw, rng, size)
    boxes: list[Box] = []
    for figure in _place_people(rng, size):
        _draw_figure(draw, rng, figure)
        x0, y0, x1, y1 = figure.box
        if y1 - y0 >= 12 and rng.uniform() < 0.2:
            y1 = _occlude(draw, rng, figure.box)
        left, top, right, bottom = _clip((x0, y0, x1, y1), size)
        box = (math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
        if box[2] - box[0] >= 1 and box[3] - box[1] >= 2:
            boxes.append(box)
    return _finish(rng, image), boxes


def _label_text(boxes: list[Box], size: int) -> str:
    lines = []
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2 / size, (y0 + y1) / 2 / size
        w, h = (x1 - x0) / size, (y1 - y0) / size
        lines.append(f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)


def synthesize(
    out_dir: Path, *, train: int = DEFAULT_TRAIN, val: int = DEFAULT_VAL, size: int = DEFAULT_SIZE, seed: int = 0
) -> Path:
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
