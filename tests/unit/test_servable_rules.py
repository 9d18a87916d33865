"""The servable check's rules and its policy keys (pure: probe results written here)."""

import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.policy import ServablePolicy
from yolo_mlops.core.policy_file import parse_policy
from yolo_mlops.core.servable_rules import iou, matched_boxes, servable_verdicts

POLICY = ServablePolicy(min_iou=0.9, min_agreement=0.99, max_latency_p50_ms=100)
BOX = [0, 0, 0.8, 10.0, 10.0, 50.0, 50.0]  # image, class, confidence, x1, y1, x2, y2


def shifted(box, dx, **changes):
    moved = [*box[:3], box[3] + dx, box[4], box[5] + dx, box[6]]
    for index, key in enumerate(("image", "class", "confidence")):
        if key in changes:
            moved[index] = changes[key]
    return moved


def verdicts(probe, policy=POLICY):
    return {v.rule: v for v in servable_verdicts(policy, probe)}


def test_iou():
    assert iou(BOX, BOX) == 1.0
    assert iou(BOX, shifted(BOX, 40)) == 0.0
    assert iou(BOX, shifted(BOX, 20)) == pytest.approx(800 / 2400)


def test_matching_is_one_to_one_and_needs_same_image_and_class():
    assert matched_boxes([BOX], [shifted(BOX, 1)], 0.9) == 1
    assert matched_boxes([BOX, BOX], [BOX], 0.9) == 1
    assert matched_boxes([BOX], [shifted(BOX, 0, image=1)], 0.9) == 0
    assert matched_boxes([BOX], [shifted(BOX, 0, **{"class": 1})], 0.9) == 0
    assert matched_boxes([BOX], [shifted(BOX, 5)], 0.9) == 0  # IoU 0.78


def test_a_servable_model_passes_every_rule():
    found = verdicts({"loaded": True, "latencies_ms": [30, 40, 500], "pytorch": [BOX], "onnx": [shifted(BOX, 0.1)]})
    assert all(v.passed for v in found.values())
    assert "p50 40.0 ms" in found["servable:latency"].detail


@pytest.mark.parametrize(
    ("probe", "failing"),
    [
        (
            {"loaded": False, "error": "UnpicklingError: bad"},
            {"servable:loads", "servable:onnx_agrees", "servable:latency"},
        ),
        (
            {"loaded": True, "latencies_ms": [5], "pytorch": [BOX], "onnx_error": "InvalidProtobuf"},
            {"servable:onnx_agrees"},
        ),
        (
            {"loaded": True, "latencies_ms": [5], "pytorch": [BOX, shifted(BOX, 100)], "onnx": [BOX]},
            {"servable:onnx_agrees"},
        ),
        (
            {"loaded": True, "latencies_ms": [5], "pytorch": [BOX], "onnx": [BOX, shifted(BOX, 100)]},
            {"servable:onnx_agrees"},
        ),
        ({"loaded": True, "latencies_ms": [150, 200, 20], "pytorch": [], "onnx": []}, {"servable:latency"}),
    ],
)
def test_failing_rules_are_named(probe, failing):
    assert {rule for rule, v in verdicts(probe).items() if not v.passed} == failing


def test_policy_keys():
    policy = parse_policy({"servable": {"images": 4, "max_latency_p50_ms": 250}}, "gate.yaml (gate)").servable
    assert policy == ServablePolicy(images=4, max_latency_p50_ms=250.0)
    assert parse_policy({}, "gate.yaml (gate)").servable == ServablePolicy()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"image": 4}, "'servable' takes conf, images"),
        ({"images": 2.5}, "servable.images must be a whole number"),
        ({"min_iou": 1.5}, r"servable.min_iou is a fraction in \(0, 1\]"),
        ({"max_latency_p50_ms": 0}, "servable.max_latency_p50_ms must be a number > 0"),
        ({"conf": True}, "servable.conf must be a number > 0"),
    ],
)
def test_policy_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_policy({"servable": raw}, "gate.yaml (gate)")
