"""Property: for random campaigns, hostile ones included, `decide()` either moves the alias to a candidate that
satisfies every rule of the policy, or moves nothing. The rules are restated here independently of the policy
module, from the README's "The gate" section. Seeded, so a failure reproduces."""

from __future__ import annotations

import math
import random

import pytest

from yolo_mlops.core.metrics import METRICS
from yolo_mlops.core.policy import Candidate, Champion, GatePolicy, Outcome, decide

EXPECTED = ["baseline", "grid 1/2", "grid 2/2"]
STRAY = ["grid 1/4", "grid 3/4"]
MD5 = "d1.dir"
HOSTILE = [math.nan, math.inf, -math.inf, 1.7976931348623157e308, -1.7976931348623157e308, 1.5, -0.2, None]
RANGES = {m.name: (m.low, m.high) for m in METRICS}


def valid(name: str, value: object) -> bool:
    if not isinstance(value, float | int) or isinstance(value, bool) or math.isnan(value) or abs(value) >= 1e300:
        return False
    low, high = RANGES[name]
    return low <= value <= high


def random_value(rng: random.Random, name: str, hostility: float) -> float | None:
    if rng.random() < hostility:
        return rng.choice(HOSTILE)
    if name == "inference_ms":
        return rng.choice([2.0, 5.0, 9.5])
    return rng.randrange(0, 201) * 0.005  # a coarse grid: ties and exact margins happen


def random_candidate(rng: random.Random, config: str, t: int, champion_sha: str, hostility: float) -> Candidate:
    metrics = {}
    for metric in METRICS:
        value = random_value(rng, metric.name, hostility)
        if value is not None:
            metrics[metric.name] = value
    sha = rng.choices([f"sha-{rng.getrandbits(32):08x}", "", champion_sha], weights=[6, 1, 3])[0]
    status = "FINISHED" if rng.random() >= hostility else rng.choice(["FAILED", "RUNNING"])
    md5 = rng.choices([MD5, "other.dir"], weights=[20, 1])[0]
    return Candidate(f"run-{t}", config, status, metrics, rng.choice([64, 96]), t, md5, sha, f"src-{t}")


def random_campaign(rng: random.Random) -> tuple[GatePolicy, list[Candidate], Champion | None]:
    policy = GatePolicy(
        floors={"mAP50": rng.choice([0.0, 0.3, 0.5])},
        min_abs_improvement=rng.choice([0.0, 0.005, 0.01]),
        min_rel_improvement=rng.choice([0.0, 0.0, 0.02]),
    )
    champion = None
    if rng.random() < 0.7:
        value = rng.choice([*HOSTILE[:5], *(rng.randrange(0, 201) * 0.005 for _ in range(8))])
        champion = Champion(
            "1",
            "run-champ",
            {"mAP50": value},
            rng.choices([MD5, "old.dir"], weights=[9, 1])[0],
            rng.choice(["sha-champion", ""]),
        )
    champion_sha = champion.weights_sha256 if champion else "sha-champion"
    # Half the campaigns are clean (every outcome is reachable), half hostile: a broken value here and there.
    hostility = rng.choice([0.0, 0.0, 0.03, 0.1])
    candidates, t = [], 0
    for config in EXPECTED + STRAY:
        runs = rng.choices([0, 1, 2], weights=[1, 12, 2] if config in EXPECTED else [10, 2, 0])[0]
        for _ in range(runs):  # two runs of one config: a retried CI job
            t += 1
            candidates.append(random_candidate(rng, config, t, champion_sha, hostility))
    return policy, candidates, champion


def signed(policy: GatePolicy, name: str, value: float) -> float:
    return value if policy.directions[name] == "higher" else -value


def assert_earned(policy: GatePolicy, candidates: list[Candidate], champion: Champion | None, winner: Candidate):
    latest = {}
    for candidate in sorted(candidates, key=lambda c: c.start_time):
        if candidate.config in EXPECTED:
            latest[candidate.config] = candidate
    assert winner is latest[winner.config], "only the latest run of a planned config competes"
    assert set(latest) == set(EXPECTED) and all(c.status == "FINISHED" for c in latest.values())
    assert all(valid(m, c.metrics.get(m)) for c in latest.values() for m in policy.required_metrics)
    assert len({c.data_md5 for c in latest.values()}) == 1
    assert winner.weights_sha256, "a winner with no hash is never promoted"
    primary = policy.primary_metric

    def passes_floors(c: Candidate) -> bool:
        return all(signed(policy, m, c.metrics[m]) >= signed(policy, m, b) for m, b in policy.floors.items())

    assert passes_floors(winner)
    best = max(signed(policy, primary, c.metrics[primary]) for c in latest.values() if passes_floors(c))
    assert signed(policy, primary, winner.metrics[primary]) == best
    if champion is not None:
        assert champion.data_md5 == winner.data_md5 and champion.weights_sha256 != winner.weights_sha256
        value = champion.metrics.get(primary)
        assert valid(primary, value)
        gain = signed(policy, primary, winner.metrics[primary]) - signed(policy, primary, value)
        assert gain > 0 and gain >= policy.min_abs_improvement - 1e-9
        if value:
            assert gain / abs(value) >= policy.min_rel_improvement - 1e-9


@pytest.mark.parametrize("seed", range(200))
def test_random_campaign_promotes_an_earned_candidate_or_nothing(seed):
    rng = random.Random(seed)
    policy, candidates, champion = random_campaign(rng)
    decision = decide(policy, candidates, champion, EXPECTED)
    assert decision.outcome in Outcome and decision.reason
    if decision.outcome.moves_alias:
        assert decision.winner is not None and all(v.passed for v in decision.verdicts)
        assert_earned(policy, candidates, champion, decision.winner)
        assert decision.outcome == (Outcome.FIRST_MODEL if champion is None else Outcome.PROMOTE)
    elif decision.outcome == Outcome.ALREADY_CHAMPION:
        assert champion is not None and decision.winner.weights_sha256 == champion.weights_sha256 != ""
    else:
        assert decision.winner is None and not all(v.passed for v in decision.verdicts)


def test_the_generator_reaches_every_outcome():
    outcomes = {decide(*random_campaign(random.Random(s)), EXPECTED).outcome for s in range(200)}
    assert outcomes == set(Outcome)
