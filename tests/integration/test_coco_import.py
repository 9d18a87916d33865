"""`yolo-mlops data from-coco`: a COCO JSON annotations file in, a validated one-class YOLO dataset out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_cli
from yolo_mlops.data.validate import dataset_md5, validate_dataset

pytestmark = pytest.mark.integration

CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]
# file name -> (width, height, [(category_id, [x, y, w, h], iscrowd)])
IMAGES = {
    "a.jpg": (40, 20, [(1, [4, 2, 8, 10], 0), (3, [20, 5, 10, 10], 0)]),
    "b.jpg": (32, 32, [(3, [1, 1, 5, 5], 0)]),  # no person
    "sub/c.jpg": (32, 16, [(1, [30, 4, 6, 8], 0)]),  # cut by the right edge: clipped
    "d.jpg": (16, 16, [(1, [0, 0, 16, 16], 1)]),  # a crowd region only: not a person box
    "e.png": (20, 20, [(1, [2, 2, 4, 6], 0), (1, [10, 10, 5, 5], 0), (1, [3, 3, 0, 4], 0)]),  # one empty box
    "f.jpg": (24, 24, [(1, [6, 6, 12, 12], 0)]),
}
PERSON_IMAGES = {"a.jpg", "c.jpg", "e.png", "f.jpg"}
EXPECTED_LABELS = {
    "a": ["0 0.200000 0.350000 0.200000 0.500000"],
    "c": ["0 0.968750 0.500000 0.062500 0.500000"],
    "e": ["0 0.200000 0.250000 0.200000 0.300000", "0 0.625000 0.625000 0.250000 0.250000"],
    "f": ["0 0.500000 0.500000 0.500000 0.500000"],
}


def write_coco(root: Path, images: dict = IMAGES, categories: list = CATEGORIES) -> tuple[Path, Path]:
    """A COCO file and its images folder (tiny real images), as a user's download holds them."""
    images_dir = root / "images"
    entries, annotations = [], []
    for image_id, (name, (width, height, boxes)) in enumerate(images.items(), start=1):
        (images_dir / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (width, height), (10 * image_id, 120, 200)).save(images_dir / name)
        entries.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for category_id, bbox, crowd in boxes:
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": category_id, "bbox": bbox}
                | ({"iscrowd": crowd} if crowd else {})
            )
    path = root / "instances.json"
    path.write_text(json.dumps({"images": entries, "annotations": annotations, "categories": categories}))
    return path, images_dir


def labels_of(out: Path) -> dict[str, list[str]]:
    return {p.stem: p.read_text().splitlines() for p in sorted((out / "labels").rglob("*.txt"))}


def test_imports_person_boxes_split_and_validated(sandbox):
    project = sandbox["project"]
    annotations, images_dir = write_coco(project)
    result = run_cli(["data", "from-coco", str(annotations), str(images_dir), "--out", "ds"], project, sandbox["env"])
    assert result.returncode == 0, result.stderr
    out = project / "ds"
    assert f"wrote ds (md5 {dataset_md5(out)})" in result.stdout
    assert validate_dataset(out) == []
    train = {p.name for p in (out / "images/train").iterdir()}
    val = {p.name for p in (out / "images/val").iterdir()}
    assert train | val == PERSON_IMAGES and not train & val
    assert len(val) == 1  # ceil(4 * 0.2)
    assert labels_of(out) == EXPECTED_LABELS
    (copied,) = (out / "images").rglob("f.jpg")
    assert copied.read_bytes() == (images_dir / "f.jpg").read_bytes()


def test_split_is_seeded_and_reproducible(sandbox):
    project = sandbox["project"]
    annotations, images_dir = write_coco(project)
    vals, md5s = set(), []
    for out, seed in (("a", "7"), ("b", "7"), ("c", "0"), ("d", "1"), ("e", "2")):
        args = ["data", "from-coco", str(annotations), str(images_dir), "--out", out, "--seed", seed]
        assert run_cli([*args, "--val-fraction", "0.5"], project, sandbox["env"]).returncode == 0
        vals.add(tuple(sorted(p.name for p in (project / out / "images/val").iterdir())))
        md5s.append(dataset_md5(project / out))
    assert md5s[0] == md5s[1]
    assert all(len(v) == 2 for v in vals) and len(vals) > 1  # the seed matters


def test_other_category(sandbox):
    project = sandbox["project"]
    annotations, images_dir = write_coco(project)
    args = ["data", "from-coco", str(annotations), str(images_dir), "--category", "car", "--out", "cars"]
    assert run_cli(args, project, sandbox["env"]).returncode == 0
    assert labels_of(project / "cars") == {
        "a": ["0 0.625000 0.500000 0.250000 0.500000"],
        "b": ["0 0.109375 0.109375 0.156250 0.156250"],
    }


def _corrupt_json(annotations: Path, images_dir: Path) -> None:
    annotations.write_text('{"images": [\n  {"id": 1,\n')


def _not_coco(annotations: Path, images_dir: Path) -> None:
    annotations.write_text(json.dumps({"images": [], "categories": []}))


def _unknown_category(annotations: Path, images_dir: Path) -> None:
    content = json.loads(annotations.read_text())
    content["categories"] = [{"id": 1, "name": "people"}, {"id": 3, "name": "car"}]
    annotations.write_text(json.dumps(content))


def _no_person_image(annotations: Path, images_dir: Path) -> None:
    content = json.loads(annotations.read_text())
    content["annotations"] = [a for a in content["annotations"] if a["category_id"] != 1]
    annotations.write_text(json.dumps(content))


def _image_missing(annotations: Path, images_dir: Path) -> None:
    (images_dir / "sub" / "c.jpg").unlink()


def _annotations_missing(annotations: Path, images_dir: Path) -> None:
    annotations.unlink()


@pytest.mark.parametrize(
    ("damage", "fragments"),
    [
        (_annotations_missing, ["instances.json does not exist", "COCO annotations file"]),
        (_corrupt_json, ["instances.json:3: not valid JSON"]),
        (_not_coco, ["is not a COCO annotations file: no 'annotations' list"]),
        (_unknown_category, ["has no category named 'person'; its categories are: car, people"]),
        (_no_person_image, ["only 0 image(s) in", "have a 'person' box; at least 2 are needed"]),
        (_image_missing, ["1 image(s) listed in", "are missing under", "(first: sub/c.jpg)"]),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(sandbox, damage, fragments):
    project = sandbox["project"]
    annotations, images_dir = write_coco(project)
    damage(annotations, images_dir)
    result = run_cli(["data", "from-coco", str(annotations), str(images_dir), "--out", "ds"], project, sandbox["env"])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert not (project / "ds").exists()
