"""The gate's "never again" rule (pure): weights of a rolled-back (rejected) version cannot win a campaign.

A cached nightly re-produces the very weights that were rolled back; such a candidate still counts as
evidence that its config ran (completeness is judged on every run), but it is skipped when the winner is
chosen, with the reason in the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from yolo_mlops.core.policy import Candidate, Champion, Compare, Decision, GatePolicy, Outcome, Verdict, decide

RULE = "candidates:not_rejected"


def decide_without_rejected(
    policy: GatePolicy,
    candidates: list[Candidate],
    champion: Champion | None,
    expected: list[str] | None,
    rejected: Mapping[str, str],
    compare: Compare | None = None,
) -> Decision:
    """`decide`, with candidates whose weights_sha256 is a key of `rejected` ("vN (reason)") unable to win."""
    decision = decide(policy, candidates, champion, expected, compare)
    # The ranking holds the runs that count (the latest per config); it is empty when the evidence failed.
    skipped = [c for c in decision.ranking if c.weights_sha256 in rejected]
    if not skipped:
        return decision
    detail = "skipped " + "; ".join(f"{c.config}: weights of rejected {rejected[c.weights_sha256]}" for c in skipped)
    kept = [c for c in decision.ranking if c.weights_sha256 not in rejected]
    evidence = tuple(v for v in decision.verdicts if v.rule.startswith("evidence:"))
    if not kept:
        return Decision(
            Outcome.KEEP_CHAMPION,
            "every candidate's weights were rejected by a rollback; nothing to promote",
            (*evidence, Verdict(RULE, False, detail)),
            ranking=decision.ranking,
            champion=champion,
        )
    # The evidence rules passed on every run; the rest is decided on the runs that may win.
    again = decide(policy, kept, champion, None, compare)
    rest = tuple(v for v in again.verdicts if not v.rule.startswith("evidence:"))
    return replace(again, verdicts=(*evidence, Verdict(RULE, True, detail), *rest), ranking=decision.ranking)
