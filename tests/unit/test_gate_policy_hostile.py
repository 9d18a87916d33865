"""The policy against hostile evidence and hostile policy files (pure: no registry, no I/O)."""

import math
from dataclasses import replace

import pytest

from tests.unit.test_gate_policy import EXPECTED, POLICY, campaign, cand, champ, rules
from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.policy import GatePolicy, Outcome, decide, metric_valid
from yolo_mlops.core.policy_file import parse_policy

MLFLOW_INF = 1.7976931348623157e308  # what MLflow's SQL store reads back for a logged +inf


@pytest.mark.parametrize(
    "value", [math.inf, -math.inf, MLFLOW_INF, -MLFLOW_INF, 1e300, math.nan, 1.5, -0.1, None, "0.9", True]
)
def test_infinite_out_of_range_or_foreign_metric_is_no_decision(value):
    d = decide(POLICY, campaign(0.6, 0.8, 0.7, mAP50_95=value), champ(0.5), EXPECTED)
    assert d.outcome == Outcome.NO_DECISION and rules(d)["evidence:metrics_finite"] is False
    assert d.winner is None


def test_valid_ranges_come_from_the_metric_definitions():
    assert metric_valid("mAP50", 0.0) and metric_valid("mAP50", 1.0) and metric_valid("inference_ms", 1e6)
    assert not metric_valid("inference_ms", -0.5) and not metric_valid("recall", 1.0000001)
    assert metric_valid("custom_score", -3.0) and not metric_valid("custom_score", MLFLOW_INF)


def test_champion_with_an_infinite_stand_in_is_no_decision():
    d = decide(POLICY, campaign(0.6, 0.8, 0.7), champ(MLFLOW_INF), EXPECTED)
    assert d.outcome == Outcome.NO_DECISION and rules(d)["champion:metrics_finite"] is False


def test_a_gain_of_exactly_the_margin_is_at_least_the_margin():
    policy = GatePolicy(floors={"mAP50": 0.5}, min_abs_improvement=0.005)
    assert 0.690 - 0.685 < 0.005  # the float rounding the tolerance is for
    d = decide(policy, campaign(0.6, 0.690, 0.65), champ(0.685), EXPECTED)
    assert d.outcome == Outcome.PROMOTE, d.reason
    short = decide(policy, campaign(0.6, 0.6899, 0.65), champ(0.685), EXPECTED)
    assert short.outcome == Outcome.KEEP_CHAMPION


def test_an_exact_tie_is_never_an_improvement_even_with_no_margin():
    d = decide(GatePolicy(), campaign(0.6, 0.75, 0.7), champ(0.75), EXPECTED)
    assert d.outcome == Outcome.KEEP_CHAMPION


def test_unplanned_configs_are_reported_and_never_compete():
    stray = cand("grid 1/4", 0.99)
    d = decide(POLICY, [*campaign(0.6, 0.8, 0.7), stray], champ(0.5), EXPECTED)
    assert d.outcome == Outcome.PROMOTE and d.winner.config == "grid 1/2"
    verdict = next(v for v in d.verdicts if v.rule == "evidence:planned_configs")
    assert verdict.passed and "grid 1/4" in verdict.detail and stray.run_id in verdict.detail
    assert stray not in d.ranking


def test_an_unplanned_config_cannot_complete_a_campaign():
    d = decide(POLICY, [*campaign(0.6, 0.8, 0.7)[:2], cand("grid 1/4", 0.9)], champ(0.5), EXPECTED)
    assert d.outcome == Outcome.NO_DECISION and rules(d)["evidence:complete"] is False


@pytest.mark.parametrize("champion", [None, champ(0.5, sha="")])
def test_a_winner_with_no_hash_is_never_promoted_nor_the_champion(champion):
    candidates = campaign(0.6, 0.8, 0.7)
    candidates[1] = replace(candidates[1], weights_sha256="")
    d = decide(POLICY, candidates, champion, EXPECTED)
    assert d.outcome == Outcome.NO_DECISION and rules(d)["evidence:weights_sha256"] is False


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"tie_break": 5}, "'tie_break' must be a list"),
        ({"tie_break": [5]}, "tie_break key 5"),
        ({"directions": ["x"]}, "'directions' must map metric names"),
        ({"directions": "higher"}, "'directions' must map metric names"),
        ({"primary_metric": ["mAP50"]}, "primary_metric"),
        ({"floors": {1: 0.5}}, "floor on unknown metric 1"),
        ({"min_improvement": {"absolute": math.nan}}, "must be a finite number >= 0, got nan"),
        ({"min_improvement": {"relative": math.inf}}, "must be a finite number >= 0, got inf"),
        ({"min_improvement": ["absolute"]}, "takes 'absolute' and/or 'relative'"),
        ({"floors": {"mAP50": math.nan}}, "must be a finite number"),
    ],
)
def test_policy_of_the_wrong_type_is_one_config_error(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_policy(raw, "configs/gate.yaml (gate)")
