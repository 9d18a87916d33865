"""The gate's policy as a scenario table (pure: no registry, no I/O)."""

import math

import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.policy import Candidate, Champion, GatePolicy, Outcome, decide, rank_candidates
from yolo_mlops.core.policy_file import parse_policy

POLICY = GatePolicy(floors={"mAP50": 0.5}, min_abs_improvement=0.01)
EXPECTED = ["baseline", "grid 1/2", "grid 2/2"]
MD5 = "d1.dir"


def cand(config, map50, *, status="FINISHED", ms=5.0, imgsz=320, t=0, md5=MD5, sha=None, **metrics):
    values = {"mAP50": map50, "mAP50_95": map50 / 2, "precision": 0.9, "recall": 0.8, "inference_ms": ms}
    values.update(metrics)
    return Candidate(f"run-{config}-{t}", config, status, values, imgsz, t, md5, sha or f"sha-{config}-{t}", "src")


def champ(map50, *, md5=MD5, sha="sha-champion", rescored=None):
    return Champion("3", "run-champ", {"mAP50": map50, "mAP50_95": map50 / 2}, md5, sha, rescored)


def campaign(*map50s, **kw):
    return [cand(name, v, **kw) for name, v in zip(EXPECTED, map50s, strict=True)]


def rules(decision):
    return {v.rule: v.passed for v in decision.verdicts}


@pytest.mark.parametrize(
    ("name", "candidates", "champion", "outcome", "winner"),
    [
        ("better", campaign(0.6, 0.8, 0.7), champ(0.75), Outcome.PROMOTE, "grid 1/2"),
        ("worse", campaign(0.6, 0.7, 0.65), champ(0.75), Outcome.KEEP_CHAMPION, None),
        ("within margin", campaign(0.6, 0.755, 0.7), champ(0.75), Outcome.KEEP_CHAMPION, None),
        ("exact tie", campaign(0.6, 0.75, 0.7), champ(0.75), Outcome.KEEP_CHAMPION, None),
        ("first model", campaign(0.6, 0.8, 0.7), None, Outcome.FIRST_MODEL, "grid 1/2"),
        ("all below floor", campaign(0.3, 0.4, 0.2), None, Outcome.KEEP_CHAMPION, None),
        ("no runs", [], champ(0.75), Outcome.NO_DECISION, None),
        ("partial grid", campaign(0.6, 0.8, 0.7)[:2], champ(0.5), Outcome.NO_DECISION, None),
        (
            "failed run",
            [*campaign(0.6, 0.8, 0.7)[:2], cand("grid 2/2", 0.9, status="FAILED")],
            champ(0.5),
            Outcome.NO_DECISION,
            None,
        ),
        ("NaN metric", campaign(0.6, math.nan, 0.7), champ(0.5), Outcome.NO_DECISION, None),
        ("champion on other data", campaign(0.6, 0.8, 0.7), champ(0.5, md5="old.dir"), Outcome.NO_DECISION, None),
        (
            "champion re-scored",
            campaign(0.6, 0.8, 0.7),
            champ(0.5, rescored="old.dir"),
            Outcome.PROMOTE,
            "grid 1/2",
        ),
        (
            "same weights",
            [cand("baseline", 0.6), cand("grid 1/2", 0.8, sha="sha-champion"), cand("grid 2/2", 0.7)],
            champ(0.8),
            Outcome.ALREADY_CHAMPION,
            "grid 1/2",
        ),
    ],
)
def test_scenarios(name, candidates, champion, outcome, winner):
    decision = decide(POLICY, candidates, champion, EXPECTED)
    assert decision.outcome == outcome, decision.reason
    assert (decision.winner.config if decision.winner else None) == winner
    assert decision.reason
    if outcome.moves_alias:
        assert all(v.passed for v in decision.verdicts)
    elif outcome in (Outcome.KEEP_CHAMPION, Outcome.NO_DECISION):
        assert not all(v.passed for v in decision.verdicts)


def test_exit_codes_distinguish_rejection_from_no_decision():
    assert {o: o.exit_code for o in Outcome} == {
        Outcome.PROMOTE: 0,
        Outcome.FIRST_MODEL: 0,
        Outcome.ALREADY_CHAMPION: 0,
        Outcome.KEEP_CHAMPION: 3,
        Outcome.NO_DECISION: 4,
    }


def test_failing_rules_are_named():
    d = decide(POLICY, campaign(0.6, math.nan, 0.7), champ(0.5), EXPECTED)
    assert rules(d)["evidence:metrics_finite"] is False and "grid 1/2: mAP50=nan" in d.reason
    d = decide(POLICY, campaign(0.6, 0.8, 0.7)[:2], champ(0.5), EXPECTED)
    assert rules(d)["evidence:complete"] is False and "grid 2/2" in d.reason
    d = decide(POLICY, campaign(0.6, 0.755, 0.7), champ(0.75), EXPECTED)
    assert rules(d)["improvement:absolute"] is False and rules(d)["floor:mAP50"] is True


def test_missing_metric_is_no_decision():
    broken = cand("grid 1/2", 0.8)
    del broken.metrics["recall"]
    d = decide(POLICY, [cand("baseline", 0.6), broken, cand("grid 2/2", 0.7)], None, EXPECTED)
    assert d.outcome == Outcome.NO_DECISION and "recall=None" in d.reason


def test_floor_skips_to_the_best_eligible_candidate():
    policy = GatePolicy(floors={"mAP50": 0.5, "inference_ms": 10.0})
    candidates = [cand("baseline", 0.9, ms=50.0), cand("grid 1/2", 0.8, ms=5.0), cand("grid 2/2", 0.7)]
    d = decide(policy, candidates, None, EXPECTED)
    assert d.outcome == Outcome.FIRST_MODEL and d.winner.config == "grid 1/2"
    assert [c.config for c in d.ranking] == ["baseline", "grid 1/2", "grid 2/2"]


def test_relative_improvement_rule():
    policy = GatePolicy(min_rel_improvement=0.05)
    assert decide(policy, campaign(0.6, 0.8, 0.7), champ(0.78), EXPECTED).outcome == Outcome.KEEP_CHAMPION
    assert decide(policy, campaign(0.6, 0.83, 0.7), champ(0.78), EXPECTED).outcome == Outcome.PROMOTE


def test_lower_is_better_primary_metric():
    policy = GatePolicy(primary_metric="inference_ms")
    candidates = [cand("baseline", 0.6, ms=9.0), cand("grid 1/2", 0.6, ms=4.0), cand("grid 2/2", 0.6, ms=6.0)]
    champion = Champion("1", "r", {"inference_ms": 5.0}, MD5, "x")
    d = decide(policy, candidates, champion, EXPECTED)
    assert d.outcome == Outcome.PROMOTE and d.winner.config == "grid 1/2"


def test_tie_break_order():
    a = cand("baseline", 0.8, ms=6.0, imgsz=320, t=1)
    b = cand("grid 1/2", 0.8, ms=5.0, imgsz=416, t=2)
    c = cand("grid 2/2", 0.8, ms=5.0, imgsz=320, t=3)
    d = cand("grid 3/2", 0.8, ms=5.0, imgsz=320, t=0)
    assert [x.config for x in rank_candidates(GatePolicy(), [a, b, c, d])] == [
        "grid 3/2",
        "grid 2/2",
        "grid 1/2",
        "baseline",
    ]


def test_retried_config_counts_once_latest_wins():
    old = cand("grid 1/2", 0.95, status="FAILED", t=1)
    new = cand("grid 1/2", 0.8, t=2)
    d = decide(POLICY, [cand("baseline", 0.6), old, new, cand("grid 2/2", 0.7)], None, EXPECTED)
    assert d.outcome == Outcome.FIRST_MODEL and d.winner.run_id == new.run_id


def test_mixed_datasets_in_one_campaign():
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.8, md5="other.dir"), cand("grid 2/2", 0.7)]
    assert decide(POLICY, candidates, None, EXPECTED).outcome == Outcome.NO_DECISION


def test_completeness_can_be_switched_off():
    policy = GatePolicy(require_complete=False)
    assert decide(policy, campaign(0.6, 0.8, 0.7)[:1], None, EXPECTED).outcome == Outcome.FIRST_MODEL


def test_parse_policy_defaults_and_overrides():
    p = parse_policy(
        {
            "primary_metric": "mAP50_95",
            "floors": {"mAP50": 0.5, "inference_ms": 20},
            "min_improvement": {"absolute": 0.01, "relative": 0.02},
            "tie_break": ["inference_ms", "imgsz"],
            "directions": {"recall": "higher"},
        },
        "gate.yaml",
    )
    assert p.primary_metric == "mAP50_95" and p.floors == {"mAP50": 0.5, "inference_ms": 20.0}
    assert (p.min_abs_improvement, p.min_rel_improvement) == (0.01, 0.02)
    assert p.tie_break == ("inference_ms", "imgsz") and p.directions["inference_ms"] == "lower"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"primary": "mAP50"}, "unknown gate key 'primary'"),
        ({"primary_metric": "f1"}, "primary_metric 'f1' has no direction"),
        ({"directions": {"mAP50": "up"}}, "must be 'higher' or 'lower'"),
        ({"floors": {"f1": 0.5}}, "floor on unknown metric 'f1'"),
        ({"floors": {"mAP50": "high"}}, "must be a finite number"),
        ({"min_improvement": {"abs": 0.1}}, "takes 'absolute' and/or 'relative'"),
        ({"min_improvement": {"absolute": -1}}, "must be a finite number >= 0"),
        ({"tie_break": ["speed"]}, "tie_break key 'speed'"),
        ({"require_complete": "yes"}, "must be true or false"),
        ("strict", "must be a mapping"),
    ],
)
def test_parse_policy_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_policy(raw, "configs/gate.yaml (gate)")
