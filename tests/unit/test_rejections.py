"""Weights of a rolled-back version never win again (pure: the rule beside the policy's decision)."""

from dataclasses import replace

from tests.unit.test_gate_policy import EXPECTED, POLICY, cand, champ, rules
from yolo_mlops.core.paired_bootstrap import PairedDifference
from yolo_mlops.core.policy import NOT_REJECTED_RULE as RULE
from yolo_mlops.core.policy import ComparisonPolicy, Outcome, decide

REJECTED = {"sha-cached": "v2 (rollback of staging from v2 to v1)"}


def decision(candidates, champion=None, expected=EXPECTED):
    return decide(POLICY, candidates, champion, expected, rejected=REJECTED)


def test_without_rejected_weights_it_is_the_policy_decision():
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.8), cand("grid 2/2", 0.7)]
    assert decision(candidates, champ(0.65)) == decide(POLICY, candidates, champ(0.65), EXPECTED)


def test_rejected_weights_are_skipped_and_the_next_best_may_win():
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.95, sha="sha-cached"), cand("grid 2/2", 0.8)]
    result = decision(candidates, champ(0.7))
    assert (result.outcome, result.winner.config) == (Outcome.PROMOTE, "grid 2/2")
    assert all(v.passed for v in result.verdicts)
    (skipped,) = [v for v in result.verdicts if v.rule == RULE]
    assert "grid 1/2: weights of rejected v2 (rollback of staging" in skipped.detail
    assert rules(result)["evidence:complete"]  # the skipped run still counts as evidence that it ran
    assert [c.config for c in result.ranking] == ["grid 1/2", "grid 2/2", "baseline"]


def test_skipped_winner_and_no_better_candidate_keeps_the_champion():
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.95, sha="sha-cached"), cand("grid 2/2", 0.65)]
    result = decision(candidates, champ(0.7))
    assert (result.outcome, result.winner) == (Outcome.KEEP_CHAMPION, None)
    assert rules(result)[RULE] and not rules(result)["improvement:absolute"]


def test_every_candidate_rejected_keeps_the_champion_with_the_reason():
    candidates = [cand(name, 0.9, sha="sha-cached") for name in EXPECTED]
    result = decision(candidates, champ(0.7))
    assert (result.outcome, result.winner, result.outcome.exit_code) == (Outcome.KEEP_CHAMPION, None, 3)
    assert rules(result)[RULE] is False and "rejected by a rollback" in result.reason


def test_broken_evidence_is_reported_before_rejections():
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.95, sha="sha-cached")]  # grid 2/2 missing
    result = decision(candidates, champ(0.7))
    assert result.outcome == Outcome.NO_DECISION and RULE not in rules(result)


def test_a_rejected_best_and_a_hashless_runner_up_report_the_failing_rule():
    runner_up = replace(cand("grid 2/2", 0.8), weights_sha256="")
    result = decision([cand("baseline", 0.6), cand("grid 1/2", 0.95, sha="sha-cached"), runner_up], champ(0.7))
    assert result.outcome == Outcome.NO_DECISION and "grid 2/2 has no weights_sha256" in result.reason
    assert rules(result)[RULE] and rules(result)["evidence:weights_sha256"] is False


def test_only_the_candidate_that_may_win_is_compared_with_the_champion():
    compared = []

    def compare(candidate, champion):
        compared.append(candidate.config)
        return PairedDifference(0.8, 0.7, 0.1, 0.05, 0.15, 0.95, 1000, 100)

    policy = replace(POLICY, comparison=ComparisonPolicy())
    candidates = [cand("baseline", 0.6), cand("grid 1/2", 0.95, sha="sha-cached"), cand("grid 2/2", 0.8)]
    result = decide(policy, candidates, champ(0.7), EXPECTED, compare, REJECTED)
    assert (result.outcome, result.winner.config) == (Outcome.PROMOTE, "grid 2/2")
    assert compared == ["grid 2/2"]  # the rejected best's weights are never downloaded and scored
