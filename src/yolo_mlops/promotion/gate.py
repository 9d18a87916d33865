"""The gate: gather the campaign's evidence, decide under the written policy, apply the decision to the
registry with compare-and-set, and report.

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
from yolo_mlops.adapters.mlflow_registry import Registry, RegistryError, RunRecord, VersionInfo
from yolo_mlops.configuration.config_files import RegistryConfig
from yolo_mlops.core.decision_report import build_report, run_link
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.policy import Champion, Decision, GatePolicy, Outcome, Verdict, decide
from yolo_mlops.core.settings import Settings
from yolo_mlops.data.validate import require_valid_dataset
from yolo_mlops.promotion.alias_moves import AliasMoves, actor, now
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
        )
        if current_md5 and champion.data_md5 != current_md5:
            champion = self._rescore(champion, version, run, current_md5, dataset_dir)
        return champion

    def _rescore(
        self, champion: Champion, version: VersionInfo, run: RunRecord, md5: str, dataset_dir: Path
    ) -> Champion:
        """Fair comparison: score the champion's weights on the candidates' val split."""
        if require_valid_dataset(dataset_dir) != md5:
            raise UserError(
                f"{dataset_dir} does not hold the campaign's data ({md5}); pass --data with the dataset the campaign "
                "trained on, so the champion can be re-scored on it."
            )
        imgsz = int(run.params.get("imgsz", 320))
        with tempfile.TemporaryDirectory() as tmp:
            weights = self.registry.download_weights(version.version, Path(tmp))
            metrics = ultralytics_runtime.evaluate(
                weights, dataset_dir / "data.yaml", imgsz=imgsz, batch=16, device="auto"
            )
        return replace(champion, metrics=metrics, data_md5=md5, rescored_from_md5=champion.data_md5)

    def _decide(self, request: GateRequest) -> Decision:
        candidates = self.registry.campaign_candidates(request.campaign)
        md5s = {c.data_md5 for c in candidates}
        champion = self._champion(
            self.config.staging_alias, md5s.pop() if len(md5s) == 1 else None, request.dataset_dir
        )
        return decide(self.policy, candidates, champion, request.expected)

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
        """Decide on the campaign and, when allowed and earned, promote; always write the reports."""
        decision_id, version, moved = "none", None, False
        try:
            self.registry.ensure_model()
            decision_id = self.registry.start_decision_run(request.campaign, {"actor": actor()})
            with self.moves.lock():
                for _attempt in range(MAX_DECISION_ATTEMPTS):
                    decision = self._decide(request)
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
            decision = Decision(
                Outcome.NO_DECISION, f"could not decide: {exc}", (Verdict("registry:reachable", False, str(exc)),)
            )
        report = build_report(
            decision,
            self.policy,
            decision_id=decision_id,
            campaign=request.campaign,
            model_name=self.config.model_name,
            alias=self.config.staging_alias,
            version=version,
            moved=moved,
            dry_run=not request.promote,
            actor=actor(),
            time=now(),
            links=self._links(decision),
        )
        try:
            ledger = self.registry.ledger()
        except RegistryError:
            ledger = []
        files = write_reports(report, ledger, request.out_dir)
        if decision_id != "none":
            # If the registry went away after deciding, the local reports still say what happened.
            with contextlib.suppress(RegistryError):
                self.registry.finish_decision_run(decision_id, files)
        return report

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
