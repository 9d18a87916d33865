"""The paired bootstrap of AP50 (pure), and the gate's policy and report when it decides."""

import numpy as np
import pytest

from yolo_mlops.core.decision_report import build_report, render_markdown
from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.paired_bootstrap import ImageDetections, MatchedSet, ap50, paired_bootstrap
from yolo_mlops.core.policy import Candidate, Champion, ComparisonPolicy, GatePolicy, Outcome, decide
from yolo_mlops.core.policy_file import parse_policy

BOX = np.array([[10.0, 10.0, 30.0, 30.0]])
NEAR = BOX + 2  # IoU 0.67 with BOX
APART = BOX + 40


def dets(*pairs):
    """(box, score) pairs -> one image's detections."""
    boxes = np.array([b[0] for b, _ in pairs]).reshape(-1, 4)
    return ImageDetections(boxes, np.array([s for _, s in pairs], dtype=float))


def world(n_images, hit_rate, seed, false_per_image=1):
    """Ground truth (1-3 boxes per image) and a detector that finds each box with `hit_rate` probability,
    scoring hits higher than its false positives on average."""
    rng = np.random.default_rng(seed)
    truths, found = [], []
    for _ in range(n_images):
        corners = rng.uniform(0, 200, (rng.integers(1, 4), 2))
        truth = np.hstack([corners, corners + rng.uniform(10, 40, corners.shape)])
        hits = [(t + rng.normal(0, 1, 4), rng.uniform(0.4, 1.0)) for t in truth if rng.random() < hit_rate]
        misses = [(np.r_[c, c + 20], rng.uniform(0.0, 0.6)) for c in rng.uniform(300, 400, (false_per_image, 2))]
        truths.append(truth)
        found.append(dets(*[(b[None], s) for b, s in hits + misses]))
    return truths, found


def test_ap50_by_hand():
    # Two boxes; ranked TP, FP, TP: precision 1 at recall 0.5, 2/3 at recall 1 -> AP = 0.5 + 0.5 * 2/3.
    truths = [BOX, BOX]
    assert ap50([dets((NEAR, 0.9), (APART, 0.8)), dets((NEAR, 0.7))], truths) == pytest.approx(0.5 + 1 / 3)
    assert ap50([dets((NEAR, 0.9)), dets((NEAR, 0.8))], truths) == pytest.approx(1.0)
    assert ap50([dets((APART, 0.9)), dets()], truths) == 0.0
    # One box, two detections on it: the second is a duplicate, a false positive ranked after the hit.
    assert ap50([dets((BOX, 0.9), (NEAR, 0.95))], [BOX]) == pytest.approx(1.0)


def test_ap50_of_a_resample_is_ap50_of_the_images_it_draws():
    truths, found = world(12, 0.7, seed=3)
    matched = MatchedSet(found, truths)
    counts = np.random.default_rng(0).multinomial(12, np.full(12, 1 / 12), size=20)
    for row, value in zip(counts, matched.ap50(counts), strict=True):
        drawn = [i for i, c in enumerate(row) for _ in range(c)]
        assert value == pytest.approx(ap50([found[i] for i in drawn], [truths[i] for i in drawn]))


def candidate(config="grid 1/2", map50=0.8):
    metrics = {"mAP50": map50, "mAP50_95": map50 / 2, "precision": 0.9, "recall": 0.8, "inference_ms": 5.0}
    return Candidate(f"run-{config}", config, "FINISHED", metrics, 320, 1, "d.dir", f"sha-{config}", "src")


CHAMPION = Champion("3", "run-champ", {"mAP50": 0.7, "mAP50_95": 0.35}, "d.dir", "sha-champion")
POLICY = GatePolicy(floors={"mAP50": 0.5}, comparison=ComparisonPolicy())


def gate_on(difference, policy=POLICY):
    decision = decide(policy, [candidate()], CHAMPION, None, compare=lambda cand, champ: difference)
    return decision, build_report(
        decision,
        policy,
        decision_id="d",
        campaign="c",
        model_name="m",
        alias="staging",
        version=None,
        moved=False,
        dry_run=True,
        actor="t",
        time="now",
        links={},
    )


def test_identical_models_give_an_interval_around_zero_and_are_never_promoted():
    truths, found = world(120, 0.8, seed=1)
    difference = paired_bootstrap(found, found, truths)
    assert difference.difference == difference.lower == difference.upper == 0.0
    decision, report = gate_on(difference)
    assert decision.outcome == Outcome.KEEP_CHAMPION
    assert report["comparison"]["summary"] == "+0.000 [+0.000, +0.000] at 95 %: within noise: kept"


def test_a_clearly_better_model_is_promoted():
    truths, strong = world(120, 0.95, seed=1)
    _, weak = world(120, 0.6, seed=1)
    difference = paired_bootstrap(strong, weak, truths, confidence=0.95, resamples=1000, seed=0)
    assert difference.lower > 0.1 and difference.lower < difference.difference < difference.upper
    decision, report = gate_on(difference)
    assert decision.outcome == Outcome.PROMOTE, decision.reason
    summary = report["comparison"]["summary"]
    assert summary.endswith("at 95 %: promoted") and summary in decision.reason
    assert f"**{summary}**" in render_markdown(report)
    assert {v.rule: v.passed for v in decision.verdicts}["improvement:paired_bootstrap"]


def test_a_tiny_gain_on_few_images_is_kept_within_noise():
    truths, champion = world(8, 0.7, seed=5)
    # The candidate finds one more box on one image than the champion, and nothing else changes.
    missed = next(i for i, (t, d) in enumerate(zip(truths, champion, strict=True)) if len(d.scores) <= len(t))
    better = list(champion)
    extra = dets((truths[missed][:1], 0.5))
    better[missed] = ImageDetections(
        np.vstack([champion[missed].boxes, extra.boxes]), np.r_[champion[missed].scores, extra.scores]
    )
    difference = paired_bootstrap(better, champion, truths)
    assert 0 < difference.difference < 0.1 and difference.lower <= 0 < difference.upper
    decision, report = gate_on(difference)
    assert decision.outcome == Outcome.KEEP_CHAMPION
    assert report["comparison"]["summary"].endswith(": within noise: kept")
    assert "gain (0.7000 → 0.8000) is not beyond noise" in decision.reason and "within noise: kept" in decision.reason


def test_the_bootstrap_is_seeded():
    truths, strong = world(40, 0.9, seed=2)
    _, weak = world(40, 0.8, seed=2)
    assert paired_bootstrap(strong, weak, truths, seed=7) == paired_bootstrap(strong, weak, truths, seed=7)
    assert paired_bootstrap(strong, weak, truths, seed=7) != paired_bootstrap(strong, weak, truths, seed=8)


def test_the_lower_bound_must_clear_min_improvement():
    truths, strong = world(120, 0.95, seed=1)
    _, weak = world(120, 0.6, seed=1)
    difference = paired_bootstrap(strong, weak, truths)
    demanding = GatePolicy(comparison=ComparisonPolicy(min_improvement=round(difference.lower + 0.01, 3)))
    decision, report = gate_on(difference, demanding)
    assert decision.outcome == Outcome.KEEP_CHAMPION
    assert "lower bound not above the required" in report["comparison"]["summary"]


def test_comparison_policy_parses_and_refuses_bad_values():
    policy = parse_policy({"comparison": {"confidence": 0.9, "min_improvement": 0, "resamples": 500}}, "g.yaml")
    assert policy.comparison == ComparisonPolicy(confidence=0.9, min_improvement=0.0, resamples=500, seed=0)
    assert parse_policy({}, "g.yaml").comparison is None
    with pytest.raises(ConfigError, match=r"comparison.confidence must be a number between 0 and 1"):
        parse_policy({"comparison": {"confidence": 95}}, "g.yaml")
    with pytest.raises(ConfigError, match="comparison' takes confidence"):
        parse_policy({"comparison": {"alpha": 0.05}}, "g.yaml")
    with pytest.raises(ConfigError, match="set primary_metric: mAP50 or remove 'comparison'"):
        parse_policy({"primary_metric": "recall", "comparison": {}}, "g.yaml")
