"""Dataset tools on real files: synthesize, import from a coco128 layout, validate, hash like DVC."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from yolo_mlops.data.coco_import import import_person_subset
from yolo_mlops.data.layout import label_path_for, write_data_yaml
from yolo_mlops.data.synth import DEFAULT_SIZE, synthesize
from yolo_mlops.data.validate import dataset_md5, validate_dataset

pytestmark = pytest.mark.integration

SMALL = {"train": 8, "val": 4, "size": 64}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _messages(problems: list) -> list[str]:
    return [str(p) for p in problems]


@pytest.fixture(scope="module")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "ds"
    synthesize(root, **SMALL)
    return root


@pytest.fixture
def synth_copy(small_synth: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    shutil.copytree(small_synth, root)
    return root


# --- layout ------------------------------------------------------------------------------------


def test_label_path_for_uses_last_images_component() -> None:
    image = Path("/d/images/x/images/train/00001.png")
    assert label_path_for(image) == Path("/d/images/x/labels/train/00001.txt")
    assert label_path_for(Path("images/val/a.b.jpg")) == Path("labels/val/a.b.txt")
    with pytest.raises(ValueError, match="not under an 'images' directory"):
        label_path_for(Path("/d/pics/train/x.png"))


def test_write_data_yaml_is_relative_and_exact(tmp_path: Path) -> None:
    path = write_data_yaml(tmp_path, ["person", "car"])
    assert path == tmp_path / "data.yaml"
    assert path.read_bytes() == b"train: images/train\nval: images/val\nnc: 2\nnames:\n- person\n- car\n"


# --- synthesize --------------------------------------------------------------------------------


def test_synthesize_layout_and_labels(small_synth: Path) -> None:
    files = sorted(p.relative_to(small_synth).as_posix() for p in small_synth.rglob("*") if p.is_file())
    expected = ["data.yaml"]
    for split, count in (("train", 8), ("val", 4)):
        expected += [f"images/{split}/{i:05d}.png" for i in range(count)]
        expected += [f"labels/{split}/{i:05d}.txt" for i in range(count)]
    assert files == sorted(expected)
    assert yaml.safe_load((small_synth / "data.yaml").read_text()) == {
        "train": "images/train",
        "val": "images/val",
        "nc": 1,
        "names": ["person"],
    }
    for label in small_synth.glob("labels/*/*.txt"):
        lines = label.read_text().splitlines()
        assert len(lines) <= 6, label
        for line in lines:
            cls, *coords = line.split()
            assert cls == "0"
            assert all(len(c.split(".")[1]) == 6 for c in coords)
            cx, cy, w, h = map(float, coords)
            # Inside the image (a person cut by the edge is labelled with its visible part; 1e-6: the
            # six decimals), at most about a third of the frame tall plus raised arms.
            assert min(cx - w / 2, cy - h / 2) >= -1e-6 and max(cx + w / 2, cy + h / 2) <= 1 + 1e-6
            assert 0 < h <= 0.45 and w > 0
    with Image.open(small_synth / "images/train/00000.png") as im:
        assert im.size == (64, 64) and im.mode == "RGB"
        assert not {k for k in im.info if k not in ("dpi",)}  # no text/time metadata


def test_people_are_mostly_tiny_varied_in_count_and_cut_by_the_edge(tmp_path: Path) -> None:
    """The properties that make imgsz matter, as on COCO's persons: measured on 60 images at 256 px."""
    root = tmp_path / "ds"
    synthesize(root, train=50, val=10, size=256)
    heights, counts, at_edge = [], [], 0
    for label in root.glob("labels/*/*.txt"):
        rows = [tuple(map(float, line.split()[1:])) for line in label.read_text().splitlines()]
        counts.append(len(rows))
        heights += [h * 256 for _, _, _, h in rows]
        at_edge += sum(
            min(cx - w / 2, cy - h / 2) <= 1e-6 or max(cx + w / 2, cy + h / 2) >= 1 - 1e-6 for cx, cy, w, h in rows
        )
    heights.sort()
    assert heights[0] < 10 and heights[-1] > 70  # from a few pixels to about a third of the frame
    assert heights[len(heights) // 2] < 32  # most are small
    assert min(counts) == 0 and max(counts) >= 5  # background-only images and crowds
    assert at_edge >= 3


def test_synthesize_is_byte_for_byte_deterministic(small_synth: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synthesize(again, **SMALL)
    assert _tree(again) == _tree(small_synth)
    assert dataset_md5(again) == dataset_md5(small_synth)


def test_different_seed_gives_a_different_dataset(small_synth: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    synthesize(other, **SMALL, seed=1)
    assert sorted(_tree(other)) == sorted(_tree(small_synth))
    assert dataset_md5(other) != dataset_md5(small_synth)


def test_adding_images_keeps_existing_ones(small_synth: Path, tmp_path: Path) -> None:
    bigger = tmp_path / "bigger"
    synthesize(bigger, train=10, val=5, size=64)
    small, big = _tree(small_synth), _tree(bigger)
    del small["data.yaml"]
    assert {k: big[k] for k in small} == small


def test_default_is_the_embedded_dataset(tmp_path: Path) -> None:
    synthesize(tmp_path / "d", train=1, val=1)
    with Image.open(tmp_path / "d/images/val/00000.png") as im:
        assert im.size == (DEFAULT_SIZE, DEFAULT_SIZE) == (192, 192)


def test_rerun_replaces_previous_dataset(small_synth: Path, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    synthesize(root, train=12, val=6, size=64, seed=3)
    (root / ".gitignore").write_text("*\n")  # tolerated, and left alone
    synthesize(root, **SMALL)
    tree = _tree(root)
    assert tree.pop(".gitignore") == b"*\n"
    assert tree == _tree(small_synth)


def test_refuses_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"unexpected: notes\.txt"):
        synthesize(tmp_path, **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one image per split"):
        synthesize(tmp_path / "a", train=0, val=1)
    with pytest.raises(ValueError, match="size must be at least 32"):
        synthesize(tmp_path / "a", train=1, val=1, size=16)


# --- validate_dataset --------------------------------------------------------------------------


def test_fresh_synth_validates(small_synth: Path) -> None:
    assert validate_dataset(small_synth) == []


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_truncated_image_is_reported(synth_copy: Path, keep: float) -> None:
    image = synth_copy / "images/train/00003.png"
    data = image.read_bytes()
    image.write_bytes(data[: int(len(data) * keep)])
    problems = validate_dataset(synth_copy)
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{image}: image cannot be decoded")


def test_garbage_image_is_reported(synth_copy: Path) -> None:
    image = synth_copy / "images/val/00001.png"
    image.write_bytes(b"this is not a png")
    assert _messages(validate_dataset(synth_copy)) == [
        f"{image}: image cannot be decoded: UnidentifiedImageError: cannot identify image file '{image}'"
    ]


def test_bad_label_line_is_reported_with_line(synth_copy: Path) -> None:
    label = synth_copy / "labels/val/00002.txt"
    label.write_text(label.read_text() + "0 0.5 1.2 0.1 0.1\n3 0.5 0.5 0.1 0.1\n")
    lines = len(label.read_text().splitlines())
    assert _messages(validate_dataset(synth_copy)) == [
        f"{label}:{lines - 1}: coordinate cy=1.2 outside [0, 1]",
        f"{label}:{lines}: class 3 >= nc 1",
    ]


def test_missing_val_images_are_reported(synth_copy: Path) -> None:
    for image in (synth_copy / "images/val").iterdir():
        image.unlink()
    assert _messages(validate_dataset(synth_copy)) == [
        f"{synth_copy / 'images/val'}: split 'val' has no images in images/val"
    ]
    shutil.rmtree(synth_copy / "images/val")
    assert _messages(validate_dataset(synth_copy)) == [
        f"{synth_copy / 'images/val'}: split 'val' image directory images/val does not exist"
    ]


def test_missing_label_file_is_a_problem_and_empty_one_is_not(synth_copy: Path) -> None:
    (synth_copy / "labels/train/00000.txt").write_text("")  # background image: fine
    missing = synth_copy / "labels/train/00001.txt"
    missing.unlink()
    assert _messages(validate_dataset(synth_copy)) == [f"{missing}: no label file for image images/train/00001.png"]


def test_missing_or_broken_data_yaml(synth_copy: Path) -> None:
    data_yaml = synth_copy / "data.yaml"
    data_yaml.write_text("train: images/train\nval: [images/val\nnames: [person]\n")
    (problem,) = validate_dataset(synth_copy)
    assert problem.path == str(data_yaml)
    assert problem.line == 3
    assert problem.message.startswith("invalid YAML: ")
    data_yaml.write_text("train: images/train\nnames: [person]\nnc: 2\n")
    assert _messages(validate_dataset(synth_copy)) == [
        f"{data_yaml}: missing key 'val' (directory of val images)",
        f"{data_yaml}: 'nc' is 2 but 'names' lists 1 classes",
    ]
    data_yaml.unlink()
    assert _messages(validate_dataset(synth_copy)) == [f"{data_yaml}: data.yaml not found in {synth_copy}"]


# --- import_person_subset ----------------------------------------------------------------------

# name -> label text (None: no label file). Class 0 is person, class 2 is car.
COCO_FIXTURE: dict[str, str | None] = {
    "000000000009.jpg": "0 0.5 0.5 0.2 0.4\n2 0.1 0.1 0.05 0.05\n",
    "000000000025.jpg": "2 0.3 0.3 0.1 0.1\n",  # no person
    "000000000030.jpg": None,  # no label file
    "000000000034.jpg": "0 0.25 0.5 0.1 0.3\n0 0.75 0.5 0.1 0.3\n",
    "000000000036.jpg": "2 0.6 0.6 0.2 0.2\n0 0.4 0.4 0.2 0.5\n",
    "000000000042.jpg": "0 0.5 0.5 0.9 0.9\n",
}
PERSON_IMAGES = {"000000000009.jpg", "000000000034.jpg", "000000000036.jpg", "000000000042.jpg"}


@pytest.fixture
def coco128(tmp_path: Path) -> Path:
    src = tmp_path / "coco128"
    (src / "images/train2017").mkdir(parents=True)
    (src / "labels/train2017").mkdir(parents=True)
    for index, (name, label) in enumerate(COCO_FIXTURE.items()):
        Image.new("RGB", (48, 32), (40 * index, 100, 200 - 30 * index)).save(src / "images/train2017" / name)
        if label is not None:
            (src / "labels/train2017" / name).with_suffix(".txt").write_text(label)
    (src / "README.txt").write_text("not part of the data")
    return src


def test_import_keeps_only_person_images_and_lines(coco128: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    assert import_person_subset(coco128, out) == out / "data.yaml"
    train = sorted(p.name for p in (out / "images/train").iterdir())
    val = sorted(p.name for p in (out / "images/val").iterdir())
    assert set(train) | set(val) == PERSON_IMAGES
    assert len(val) == 1 and len(train) == 3  # ceil(4 * 0.2) = 1
    for split, names in (("train", train), ("val", val)):
        for name in names:
            copied = (out / "images" / split / name).read_bytes()
            assert copied == (coco128 / "images/train2017" / name).read_bytes()
            source = (coco128 / "labels/train2017" / name).with_suffix(".txt").read_text().splitlines()
            kept = (out / "labels" / split / name).with_suffix(".txt").read_text().splitlines()
            assert kept == [line for line in source if line.startswith("0 ")]
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == ["person"]
    assert validate_dataset(out) == []


def test_import_split_is_reproducible_and_seeded(coco128: Path, tmp_path: Path) -> None:
    import_person_subset(coco128, tmp_path / "a", val_fraction=0.5, seed=7)
    import_person_subset(coco128, tmp_path / "b", val_fraction=0.5, seed=7)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert len(list((tmp_path / "a/images/val").iterdir())) == 2
    splits = set()
    for seed in range(8):
        import_person_subset(coco128, tmp_path / "c", val_fraction=0.5, seed=seed)
        splits.add(tuple(sorted(p.name for p in (tmp_path / "c/images/val").iterdir())))
    assert len(splits) > 1  # the seed matters


def test_import_other_person_class_is_rewritten_to_zero(coco128: Path, tmp_path: Path) -> None:
    (coco128 / "labels/train2017/000000000030.txt").write_text("2 0.5 0.5 0.3 0.3\n")
    out = tmp_path / "cars"
    import_person_subset(coco128, out, person_class=2)
    labels = sorted((out / "labels").rglob("*.txt"))
    assert {p.stem for p in labels} == {"000000000009", "000000000025", "000000000030", "000000000036"}
    assert all(line.startswith("0 ") for p in labels for line in p.read_text().splitlines())


def test_import_errors(coco128: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"{tmp_path / 'nowhere' / 'images'} does not exist"):
        import_person_subset(tmp_path / "nowhere", tmp_path / "out")
    for name in ("000000000034.jpg", "000000000036.jpg", "000000000042.jpg"):
        (coco128 / "labels/train2017" / name).with_suffix(".txt").unlink()
    with pytest.raises(ValueError, match=r"only 1 image\(s\) .* contain class 0; at least 2 are needed"):
        import_person_subset(coco128, tmp_path / "out")
    with pytest.raises(ValueError, match="val_fraction"):
        import_person_subset(coco128, tmp_path / "out", val_fraction=1.0)


# --- dataset_md5 vs the real DVC CLI ----------------------------------------------------------


def test_dataset_md5_matches_dvc_add(small_synth: Path, tmp_path: Path) -> None:
    dvc = Path(sys.executable).parent / "dvc"
    if not dvc.exists() or shutil.which("git") is None:
        pytest.skip("needs the dvc CLI in the venv and git")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(small_synth, repo / "data")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    for command in (["git", "init", "-q"], [str(dvc), "init", "-q"], [str(dvc), "add", "-q", "data"]):
        subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True, timeout=120)
    recorded = yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]["md5"]
    assert recorded.endswith(".dir")
    assert dataset_md5(repo / "data") == recorded
