"""The promotion gate's policy (pure): candidates + champion → a decision with a verdict per rule.

Modelled on TFX's Evaluator "blessing" (value thresholds + change thresholds against the last blessed
model, the first model stamped explicitly) and MLflow's MetricThreshold. Fail closed: missing evidence
is never a reason to promote; it is a decision that could not be made.

Over 300 lines on purpose: the rules and the decision read as one written policy, each rule a short
function beside the others it is weighed with. configs/gate.yaml is read into a `GatePolicy` by
`core.policy_file`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from yolo_mlops.core.metrics import DIRECTIONS, HIGHER, METRICS
from yolo_mlops.core.train_params import TrainParams

if TYPE_CHECKING:  # paired_bootstrap needs numpy: every CLI command reads the policy, few compare models
    from yolo_mlops.core.paired_bootstrap import PairedDifference

# Tie-break keys that are not metrics: smaller image size first, then the earliest run.
NON_METRIC_KEYS = ("imgsz", "start_time")
# Margins are compared with this tolerance, so that "at least 0.005" holds for 0.690 vs 0.685 (a float gain of
# 0.00499999…) and a gain of 0 is never an improvement.
MARGIN_TOLERANCE = 1e-9
# The verdict naming the candidates skipped because their weights are those of a rolled-back version.
NOT_REJECTED_RULE = "candidates:not_rejected"
# MLflow's SQL store reads ±inf back as ±1.797e308: any magnitude from here on counts as infinite.
INFINITE = 1e300
_RANGES = {m.name: (m.low, m.high) for m in METRICS}


def metric_valid(name: str, value: Any) -> bool:
    """A real number, finite (MLflow's stand-ins for ±inf are not), within the metric's valid range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    low, high = _RANGES.get(name, (-math.inf, math.inf))
    return abs(value) < INFINITE and low <= value <= high


class Outcome(StrEnum):
    PROMOTE = "promote"  # better than the champion by the required margin
    FIRST_MODEL = "first_model"  # no champion yet: the best candidate passing every floor, stamped explicitly
    ALREADY_CHAMPION = "already_champion"  # the best candidate's weights are the champion's: nothing to do
    KEEP_CHAMPION = "keep_champion"  # rejected by policy
    NO_DECISION = "no_decision"  # missing or broken evidence: fail closed

    @property
    def exit_code(self) -> int:
        return {Outcome.KEEP_CHAMPION: 3, Outcome.NO_DECISION: 4}.get(self, 0)

    @property
    def moves_alias(self) -> bool:
        return self in (Outcome.PROMOTE, Outcome.FIRST_MODEL)


@dataclass(frozen=True)
class ComparisonPolicy:
    """The paired bootstrap against the champion: its lower confidence bound must exceed min_improvement."""

    confidence: float = 0.95
    min_improvement: float = 0.0
    resamples: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class ServablePolicy:
    """`servable:` of configs/gate.yaml: what the winner must show, loaded as a consumer loads it, before any
    alias moves."""

    images: int = 8  # val images it predicts on
    conf: float = 0.25  # boxes compared are those above this confidence
    min_iou: float = 0.9  # an ONNX box matches a PyTorch box of the same class at this IoU
    min_agreement: float = 0.99  # share of boxes that must match
    max_latency_p50_ms: float = 500.0  # one image through the pyfunc, median


@dataclass(frozen=True)
class GatePolicy:
    primary_metric: str = "mAP50"
    directions: dict[str, str] = field(default_factory=lambda: dict(DIRECTIONS))
    floors: dict[str, float] = field(default_factory=dict)
    min_abs_improvement: float = 0.0
    min_rel_improvement: float = 0.0
    tie_break: tuple[str, ...] = ("inference_ms", "imgsz", "start_time")
    require_complete: bool = True
    comparison: ComparisonPolicy | None = None  # None: point estimates only
    servable: ServablePolicy = field(default_factory=ServablePolicy)

    @property
    def required_metrics(self) -> tuple[str, ...]:
        return tuple(self.directions)


@dataclass(frozen=True)
class Candidate:
    """One finished (or not) MLflow run of the campaign."""

    run_id: str
    config: str  # "baseline" or "grid 2/4"
    status: str  # MLflow run status: FINISHED, FAILED, RUNNING, KILLED
    metrics: dict[str, float]
    imgsz: int
    start_time: int
    data_md5: str
    weights_sha256: str
    source_run_id: str  # the run that trained (and holds) the weights


@dataclass(frozen=True)
class Champion:
    """The model behind the staging alias, with the metrics it is compared on."""

    version: str
    run_id: str
    metrics: dict[str, float]
    data_md5: str
    weights_sha256: str
    rescored_from_md5: str | None = None  # set when re-scored on the current data
    imgsz: int = TrainParams.imgsz  # the size it was trained (and is scored) at


@dataclass(frozen=True)
class Verdict:
    rule: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    verdicts: tuple[Verdict, ...]
    ranking: tuple[Candidate, ...] = ()
    winner: Candidate | None = None
    champion: Champion | None = None
    comparison: PairedDifference | None = None


# Scores the candidate and the champion on the same val images (the gate downloads and runs both).
Compare = Callable[[Candidate, Champion], "PairedDifference"]


# ---- the decision -----------------------------------------------------------------------------------


def _signed(policy: GatePolicy, metric: str, value: float) -> float:
    """The value oriented so that larger is better."""
    return value if policy.directions[metric] == HIGHER else -value


def rank_candidates(policy: GatePolicy, candidates: list[Candidate]) -> list[Candidate]:
    """Best first: the primary metric, then each tie-break key (metrics by their direction, imgsz
    smaller first, start_time earlier first)."""

    def key(candidate: Candidate) -> tuple[float, ...]:
        parts = [-_signed(policy, policy.primary_metric, candidate.metrics[policy.primary_metric])]
        for name in policy.tie_break:
            if name == "imgsz":
                parts.append(candidate.imgsz)
            elif name == "start_time":
                parts.append(candidate.start_time)
            else:
                parts.append(-_signed(policy, name, candidate.metrics[name]))
        return tuple(parts)

    return sorted(candidates, key=key)


def _floor_verdicts(policy: GatePolicy, candidate: Candidate) -> list[Verdict]:
    verdicts = []
    for metric, bound in policy.floors.items():
        value = candidate.metrics[metric]
        higher = policy.directions[metric] == HIGHER
        passed = value >= bound if higher else value <= bound
        verdicts.append(
            Verdict(
                f"floor:{metric}",
                passed,
                f"{candidate.config}: {metric}={value:.4f} {'>=' if higher else '<='} {bound:g} required",
            )
        )
    return verdicts


def _latest_per_config(candidates: list[Candidate]) -> list[Candidate]:
    """A retried CI job leaves two runs of one config; the later one counts."""
    latest: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: c.start_time):
        latest[candidate.config] = candidate
    return list(latest.values())


def _planned_only(candidates: list[Candidate], expected: list[str] | None) -> tuple[list[Candidate], list[Verdict]]:
    """Only configs the campaign planned compete: a stray run (another grid, a hand-made run) is reported and
    ignored, never a candidate."""
    if expected is None:
        return candidates, []
    stray = [c for c in candidates if c.config not in expected]
    if not stray:
        return candidates, []
    detail = "ignored, not planned by the campaign: " + ", ".join(f"{c.config} (run {c.run_id})" for c in stray)
    return [c for c in candidates if c.config in expected], [Verdict("evidence:planned_configs", True, detail)]


def _evidence(policy: GatePolicy, candidates: list[Candidate], expected: list[str] | None) -> list[Verdict]:
    verdicts = [
        Verdict("evidence:runs_found", bool(candidates), f"{len(candidates)} run(s) found for the campaign"),
    ]
    if not candidates:
        return verdicts
    unfinished = [c for c in candidates if c.status != "FINISHED"]
    verdicts.append(
        Verdict(
            "evidence:all_runs_finished",
            not unfinished,
            "every run finished"
            if not unfinished
            else "not finished: " + ", ".join(f"{c.config} ({c.status}, run {c.run_id})" for c in unfinished),
        )
    )
    if policy.require_complete and expected is not None:
        have = {c.config for c in candidates if c.status == "FINISHED"}
        missing = [name for name in expected if name not in have]
        verdicts.append(
            Verdict(
                "evidence:complete",
                not missing,
                f"all {len(expected)} expected configs finished"
                if not missing
                else f"missing {len(missing)} of {len(expected)}: {', '.join(missing)}",
            )
        )
    broken = [
        f"{c.config}: {m}={c.metrics.get(m)}"
        for c in candidates
        for m in policy.required_metrics
        if not metric_valid(m, c.metrics.get(m))
    ]
    verdicts.append(
        Verdict(
            "evidence:metrics_finite",
            not broken,
            "every required metric present, finite and within its valid range"
            if not broken
            else "missing, NaN, infinite or out of range: " + "; ".join(broken),
        )
    )
    md5s = sorted({c.data_md5 for c in candidates})
    verdicts.append(
        Verdict(
            "evidence:one_dataset",
            len(md5s) == 1,
            f"all runs scored on data {md5s[0]}" if len(md5s) == 1 else f"runs scored on different data: {md5s}",
        )
    )
    return verdicts


def paired_summary(policy: ComparisonPolicy, difference: PairedDifference, promoted: bool) -> str:
    """The comparison in words: "+0.031 [+0.012, +0.050] at 95 %: promoted" / "…: within noise: kept"."""
    interval = (
        f"{difference.difference:+.3f} [{difference.lower:+.3f}, {difference.upper:+.3f}] "
        f"at {difference.confidence * 100:g} %"
    )
    if promoted:
        return f"{interval}: promoted"
    if difference.upper < 0:
        why = "worse"
    elif difference.lower <= 0:
        why = "within noise"
    elif difference.lower <= policy.min_improvement:
        why = f"lower bound not above the required {policy.min_improvement:+.3f}"
    else:
        why = "another rule failed"
    return f"{interval}: {why}: kept"


def _paired_verdict(policy: ComparisonPolicy, difference: PairedDifference, primary: str) -> Verdict:
    return Verdict(
        "improvement:paired_bootstrap",
        difference.lower > policy.min_improvement,
        f"{primary} candidate − champion on the same {difference.images} val images: {difference.difference:+.4f}, "
        f"{difference.confidence * 100:g} % interval [{difference.lower:+.4f}, {difference.upper:+.4f}] over "
        f"{difference.resamples} paired resamples; lower bound required > {policy.min_improvement:+.4f}",
    )


def _not_rejected(ranking: list[Candidate], rejected: Mapping[str, str]) -> tuple[list[Candidate], list[Verdict]]:
    """The candidates that may win: weights of a rolled-back version never do. A cached nightly re-produces the
    very weights that were rolled back; such a run still counted as evidence that its config ran."""
    skipped = [c for c in ranking if c.weights_sha256 in rejected]
    if not skipped:
        return ranking, []
    detail = "skipped " + "; ".join(f"{c.config}: weights of rejected {rejected[c.weights_sha256]}" for c in skipped)
    contenders = [c for c in ranking if c.weights_sha256 not in rejected]
    return contenders, [Verdict(NOT_REJECTED_RULE, bool(contenders), detail)]


def decide(
    policy: GatePolicy,
    candidates: list[Candidate],
    champion: Champion | None,
    expected: list[str] | None,
    compare: Compare | None = None,
    rejected: Mapping[str, str] | None = None,
) -> Decision:
    """The gate's decision. `expected` lists the config names a complete campaign has ("baseline",
    "grid 1/4", …); None skips the completeness rule. `compare` is required when the policy has a
    `comparison`, and called only when a candidate is weighed against the champion. A candidate whose
    weights_sha256 is a key of `rejected` ("vN (reason)") cannot win."""
    if policy.comparison is not None and compare is None:
        raise ValueError("the policy compares with a paired bootstrap: pass `compare`")
    candidates, verdicts = _planned_only(_latest_per_config(candidates), expected)
    verdicts += _evidence(policy, candidates, expected)
    if not all(v.passed for v in verdicts):
        failed = next(v for v in verdicts if not v.passed)
        return Decision(Outcome.NO_DECISION, f"could not decide: {failed.detail}", tuple(verdicts), champion=champion)

    ranking = rank_candidates(policy, candidates)
    result: dict[str, Any] = {"ranking": tuple(ranking), "champion": champion}
    contenders, skipped = _not_rejected(ranking, rejected or {})
    verdicts += skipped
    if not contenders:
        return Decision(
            Outcome.KEEP_CHAMPION,
            "every candidate's weights were rejected by a rollback; nothing to promote",
            tuple(verdicts),
            **result,
        )
    eligible = [c for c in contenders if all(v.passed for v in _floor_verdicts(policy, c))]
    winner = eligible[0] if eligible else contenders[0]
    floors = _floor_verdicts(policy, winner)
    verdicts += floors
    if not eligible:
        return Decision(
            Outcome.KEEP_CHAMPION,
            f"no candidate passes every floor (best: {winner.config}, "
            f"{next(v.detail for v in floors if not v.passed)})",
            tuple(verdicts),
            winner=None,
            **result,
        )

    primary = policy.primary_metric
    if not winner.weights_sha256:
        verdicts.append(Verdict("evidence:weights_sha256", False, f"{winner.config} (run {winner.run_id}) has no hash"))
        return Decision(
            Outcome.NO_DECISION,
            f"could not decide: the best candidate {winner.config} has no weights_sha256 tag",
            tuple(verdicts),
            **result,
        )
    if champion is None:
        verdicts.append(
            Verdict(
                "champion:first_model",
                True,
                "no model behind the alias yet: the best candidate that passes "
                "every floor is promoted as the first model (explicit rubber stamp)",
            )
        )
        return Decision(
            Outcome.FIRST_MODEL,
            f"first model: {winner.config} ({primary}={winner.metrics[primary]:.4f}) passes every floor",
            tuple(verdicts),
            winner=winner,
            **result,
        )

    if champion.data_md5 != winner.data_md5:
        verdicts.append(
            Verdict(
                "champion:fair_comparison",
                False,
                f"champion v{champion.version} was scored on data "
                f"{champion.data_md5}, candidates on {winner.data_md5}, and it was not re-scored",
            )
        )
        return Decision(
            Outcome.NO_DECISION,
            "could not decide: champion and candidates scored on different data",
            tuple(verdicts),
            **result,
        )
    if champion.rescored_from_md5:
        verdicts.append(
            Verdict(
                "champion:fair_comparison",
                True,
                f"champion v{champion.version} re-scored on the current data "
                f"{champion.data_md5} (it was scored on {champion.rescored_from_md5})",
            )
        )
    if champion.weights_sha256 == winner.weights_sha256:
        verdicts.append(
            Verdict("champion:same_weights", True, f"{winner.config}'s weights are champion v{champion.version}'s")
        )
        return Decision(
            Outcome.ALREADY_CHAMPION,
            f"nothing new: the best candidate ({winner.config}) is champion v{champion.version} already",
            tuple(verdicts),
            winner=winner,
            **result,
        )
    champion_value = champion.metrics.get(primary)
    if not metric_valid(primary, champion_value):
        verdicts.append(Verdict("champion:metrics_finite", False, f"champion {primary}={champion_value}"))
        return Decision(
            Outcome.NO_DECISION,
            f"could not decide: champion v{champion.version} has no valid {primary}",
            tuple(verdicts),
            **result,
        )

    assert isinstance(champion_value, int | float)  # metric_valid checked it
    gain = _signed(policy, primary, winner.metrics[primary]) - _signed(policy, primary, champion_value)
    improved = gain > MARGIN_TOLERANCE
    relative = gain / abs(champion_value) if champion_value else math.inf if improved else 0.0
    verdicts += [
        Verdict(
            "improvement:absolute",
            improved and gain >= policy.min_abs_improvement - MARGIN_TOLERANCE,
            f"{primary} {winner.metrics[primary]:.4f} vs champion {champion_value:.4f}: gain {gain:+.4f}, "
            f"required > 0 and >= {policy.min_abs_improvement:g} (tolerance {MARGIN_TOLERANCE:g})",
        ),
        Verdict(
            "improvement:relative",
            improved and relative >= policy.min_rel_improvement - MARGIN_TOLERANCE,
            f"relative gain {relative:+.2%}, required >= {policy.min_rel_improvement:.2%}",
        ),
    ]
    comparison = None
    if policy.comparison is not None and compare is not None:
        comparison = result["comparison"] = compare(winner, champion)
        verdicts.append(_paired_verdict(policy.comparison, comparison, primary))
    promoted = all(v.passed for v in verdicts)
    paired = ""
    if policy.comparison is not None and comparison is not None:
        paired = f"; paired {primary} difference {paired_summary(policy.comparison, comparison, promoted)}"
    if promoted:
        return Decision(
            Outcome.PROMOTE,
            f"{winner.config} beats champion v{champion.version}: {primary} {champion_value:.4f} → "
            f"{winner.metrics[primary]:.4f}{paired}",
            tuple(verdicts),
            winner=winner,
            **result,
        )
    point_estimates_passed = all(v.passed for v in verdicts if v.rule != "improvement:paired_bootstrap")
    return Decision(
        Outcome.KEEP_CHAMPION,
        f"champion v{champion.version} kept: {winner.config}'s {primary} gain "
        f"({champion_value:.4f} → {winner.metrics[primary]:.4f}) is not beyond noise{paired}"
        if point_estimates_passed
        else f"champion v{champion.version} kept: {winner.config} does not improve {primary} enough "
        f"({champion_value:.4f} → {winner.metrics[primary]:.4f}){paired}",
        tuple(verdicts),
        winner=None,
        **result,
    )
