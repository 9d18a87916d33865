"""The gate: gather the campaign's evidence, decide under the written policy, verify the winner's weights,
apply the decision to the registry with compare-and-set, and report.

Pure policy lives in core.policy; alias moves and the ledger in promotion.alias_moves; report files in
promotion.report_files.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.adapters.mlflow_registry import Registry, RegistryError, VersionInfo
from yolo_mlops.configuration.config_files import RegistryConfig
from yolo_mlops.core.decision_report import build_report, run_link
from yolo_mlops.core.errors import ServiceUnavailable, UserError
from yolo_mlops.core.policy import Champion, Decision, GatePolicy, Outcome, Verdict, decide
from yolo_mlops.core.settings import Settings
from yolo_mlops.core.train_params import TrainParams
from yolo_mlops.data.validate import require_valid_dataset
from yolo_mlops.promotion.alias_moves import AliasMoves, actor, now
from yolo_mlops.promotion.evidence_check import verify_weights
from yolo_mlops.promotion.paired_comparison import PairedComparison
from yolo_mlops.promotion.report_files import write_reports
from yolo_mlops.promotion.servable_check import check_servable

# Re-decisions allowed when the alias moves between a decision and its compare-and-set.
MAX_DECISION_ATTEMPTS = 3


@dataclass(frozen=True)
class GateRequest:
    campaign: str
    expected: list[str] | None
    dataset_dir: Path  # the current data, to re-score a champion scored on other data
    promote: bool  # False: dry run, reports only
    out_dir: Path
    allow_first_model: bool = False  # the ledger says the alias was set, yet it resolves to nothing: go on anyway


class Gate:
    def __init__(
        self,
        settings: Settings,
        tracking_uri: str,
        policy: GatePolicy,
        registry_config: RegistryConfig,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.config = registry_config
        self.registry = registry or Registry(tracking_uri, settings.experiment_name, registry_config.model_name)
        self.moves = AliasMoves(self.registry, registry_config, settings.state_dir)
        self.decision_id = "none"  # the current decision's MLflow run, once started

    # ---- the decision -------------------------------------------------------------------------------

    def _champion(self, alias: str, current_md5: str | None, dataset_dir: Path) -> Champion | None:
        version = self.registry.alias_version(alias)
        if version is None:
            return None
        run = self.registry.run(version.run_id)
        champion = Champion(
            version=version.version,
            run_id=version.run_id,
            metrics=dict(json.loads(version.tags.get("metrics", "{}"))) or dict(run.metrics),
            data_md5=version.tags.get("data_md5", run.tags.get("data_md5", "")),
            weights_sha256=version.tags.get("weights_sha256", ""),
            imgsz=int(run.params.get("imgsz", TrainParams.imgsz)),
        )
        if current_md5 and champion.data_md5 != current_md5:
            champion = self._rescore(champion, current_md5, dataset_dir)
        return champion

    def _rescore(self, champion: Champion, md5: str, dataset_dir: Path) -> Champion:
        """Fair comparison: score the champion's weights on the candidates' val split."""
        if require_valid_dataset(dataset_dir) != md5:
            raise UserError(
                f"{dataset_dir} does not hold the campaign's data ({md5}); pass --data with the dataset the campaign "
                "trained on, so the champion can be re-scored on it."
            )
        with tempfile.TemporaryDirectory() as tmp:
            weights = self.registry.download_weights(champion.version, Path(tmp))
            metrics = ultralytics_runtime.evaluate(
                weights, dataset_dir / "data.yaml", imgsz=champion.imgsz, batch=16, device="auto"
            )
        return replace(champion, metrics=metrics, data_md5=md5, rescored_from_md5=champion.data_md5)

    def _decide(self, request: GateRequest) -> Decision:
        candidates = self.registry.campaign_candidates(request.campaign)
        md5s = {c.data_md5 for c in candidates}
        champion = self._champion(
            self.config.staging_alias, md5s.pop() if len(md5s) == 1 else None, request.dataset_dir
        )
        if champion is None and not request.allow_first_model:
            lost = self._lost_champion()
            if lost is not None:
                return lost
        rejected = self.registry.rejected_weights()
        compare = None
        if self.policy.comparison is not None:
            compare = PairedComparison(self.registry, self.policy.comparison, request.dataset_dir)
        return decide(self.policy, candidates, champion, request.expected, compare, rejected)

    def _lost_champion(self) -> Decision | None:
        """The alias resolves to nothing although the ledger's last move of it set a version (deleted since, or
        the alias removed by hand): a "first model" would skip the comparison, so the gate cannot decide."""
        alias = self.config.staging_alias
        moves = [e for e in self.registry.ledger() if e["alias"] == alias]
        if not moves or moves[-1]["to_version"] is None:
            return None
        detail = (
            f"ledger #{moves[-1]['seq']} set {alias!r} to v{moves[-1]['to_version']}, but the alias resolves to no "
            "version now; pass --allow-first-model to promote without a champion"
        )
        return Decision(
            Outcome.NO_DECISION, f"could not decide: {detail}", (Verdict("champion:resolves", False, detail),)
        )

    def _verify(self, decision: Decision) -> Decision:
        """A winner that would move the alias, with its weights checked; could not decide when they fail."""
        if not decision.outcome.moves_alias or decision.winner is None:
            return decision
        verdict = verify_weights(self.registry, decision.winner)
        verdicts = (*decision.verdicts, verdict)
        if verdict.passed:
            return replace(decision, verdicts=verdicts)
        return replace(
            decision, outcome=Outcome.NO_DECISION, reason=f"could not decide: {verdict.detail}", verdicts=verdicts
        )

    def _servable(self, decision: Decision, dataset_dir: Path) -> Decision:
        """The winner, loaded as its consumers will load it, before anything is registered or moved."""
        assert decision.winner is not None
        verdicts = decision.verdicts + check_servable(
            self.registry, decision.winner.source_run_id, dataset_dir, self.policy.servable
        )
        failed = next((v for v in verdicts if not v.passed), None)
        if failed is None:
            return replace(decision, verdicts=verdicts)
        reason = f"could not decide: {decision.winner.config} is not servable ({failed.rule}: {failed.detail})"
        return replace(decision, outcome=Outcome.NO_DECISION, reason=reason, verdicts=verdicts, winner=None)

    # ---- applying it --------------------------------------------------------------------------------

    def _version_for(self, decision: Decision, decision_id: str, campaign: str) -> tuple[VersionInfo, bool]:
        """The winner's model version (an existing one with the same weights, else a new one), and
        whether it was created now."""
        winner = decision.winner
        assert winner is not None
        existing = self.registry.version_with_weights(winner.weights_sha256)
        if existing is not None:
            return existing, False
        run_tags = self.registry.run(winner.run_id).tags
        created = self.registry.register(
            winner.source_run_id,
            {
                "run_id": winner.run_id,
                "source_run_id": winner.source_run_id,
                "campaign": campaign,
                "config": winner.config,
                "git_commit": run_tags.get("git_commit", "unknown"),
                "zenml_run_id": run_tags.get("zenml_run_id", ""),
                "data_md5": winner.data_md5,
                "weights_sha256": winner.weights_sha256,
                "decision_id": decision_id,
                "metrics": json.dumps({k: winner.metrics[k] for k in self.policy.required_metrics}),
            },
        )
        return created, True

    def run(self, request: GateRequest) -> dict[str, Any]:
        """Decide on the campaign and, when allowed and earned, promote; always write the reports. The decision
        run ends FINISHED, or FAILED when anything stops the gate on the way."""
        self.decision_id = "none"
        finished = False
        try:
            report, files = self._run(request)
            if self.decision_id != "none":
                # If the registry went away after deciding, the local reports still say what happened.
                with contextlib.suppress(RegistryError):
                    self.registry.finish_decision_run(self.decision_id, files)
                    finished = True
            return report
        finally:
            if self.decision_id != "none" and not finished:
                with contextlib.suppress(RegistryError):
                    self.registry.finish_decision_run(self.decision_id, [], status="FAILED")

    def _run(self, request: GateRequest) -> tuple[dict[str, Any], list[Path]]:
        """gather evidence → decide → verify the winner → apply → report."""
        version, moved = None, False
        try:
            self.registry.ensure_model()
            self.decision_id = decision_id = self.registry.start_decision_run(request.campaign, {"actor": actor()})
            with self.moves.lock():
                for _attempt in range(MAX_DECISION_ATTEMPTS):
                    decision = self._verify(self._decide(request))
                    if not (decision.outcome.moves_alias and request.promote):
                        break
                    decision = self._servable(decision, request.dataset_dir)
                    if not decision.outcome.moves_alias:
                        break
                    target, created = self._version_for(decision, decision_id, request.campaign)
                    try:
                        entry = self.moves.move(
                            self.config.staging_alias,
                            decision.champion.version if decision.champion else None,
                            target,
                            reason=decision.reason,
                            decision_id=decision_id,
                        )
                    except RegistryError:
                        if created:  # the alias did not move: leave no orphan version behind
                            self.registry.delete_version(target.version)
                        raise
                    if entry is not None:
                        version, moved = target.version, True
                        break
                    if created:  # lost the compare-and-set: leave no orphan version behind
                        self.registry.delete_version(target.version)
                else:
                    decision = Decision(
                        Outcome.NO_DECISION,
                        f"could not decide: alias {self.config.staging_alias!r} kept moving during "
                        f"{MAX_DECISION_ATTEMPTS} decisions",
                        (Verdict("registry:compare_and_set", False, "the alias moved after every decision"),),
                    )
                if decision.outcome == Outcome.ALREADY_CHAMPION and decision.champion:
                    version = decision.champion.version
        except RegistryError as exc:
            decision = _unreachable(exc)
        report = _render(
            decision,
            self.policy,
            self.config,
            request,
            decision_id=self.decision_id,
            version=version,
            moved=moved,
            links=self._links(decision),
        )
        try:
            ledger = self.registry.ledger()
        except RegistryError:
            ledger = None  # unread: an earlier ledger.json stays as it was
        return report, write_reports(report, ledger, request.out_dir)

    def _links(self, decision: Decision) -> dict[str, str | None]:
        experiment_id = None
        if self.registry.tracking_uri.startswith(("http://", "https://")):
            try:
                experiment_id = self.registry.experiment_id()
            except RegistryError:
                experiment_id = None
        ui = os.environ.get("MLFLOW_UI_URL") or self.registry.tracking_uri
        return {c.run_id: run_link(ui, experiment_id, c.run_id) for c in decision.ranking}

    def promote(self, source_alias: str, target_alias: str) -> dict[str, Any]:
        return self.moves.promote(source_alias, target_alias)

    def rollback(self, alias: str) -> dict[str, Any]:
        return self.moves.rollback(alias)


def _unreachable(fault: ServiceUnavailable) -> Decision:
    return Decision(
        Outcome.NO_DECISION, f"could not decide: {fault}", (Verdict("registry:reachable", False, str(fault)),)
    )


def _render(
    decision: Decision,
    policy: GatePolicy,
    config: RegistryConfig,
    request: GateRequest,
    *,
    decision_id: str,
    version: str | None,
    moved: bool,
    links: dict[str, str | None],
) -> dict[str, Any]:
    return build_report(
        decision,
        policy,
        decision_id=decision_id,
        campaign=request.campaign,
        model_name=config.model_name,
        alias=config.staging_alias,
        version=version,
        moved=moved,
        dry_run=not request.promote,
        actor=actor(),
        time=now(),
        links=links,
    )


def unreachable_report(
    request: GateRequest, policy: GatePolicy, config: RegistryConfig, fault: ServiceUnavailable
) -> dict[str, Any]:
    """The reports of a gate whose servers failed on the way in (no decision run exists): could not decide. The
    ledger is not written: it could not be read."""
    report = _render(
        _unreachable(fault), policy, config, request, decision_id="none", version=None, moved=False, links={}
    )
    write_reports(report, None, request.out_dir)
    return report
