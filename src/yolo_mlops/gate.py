"""The gate and the alias moves: decide on a campaign, register and promote safely, promote, roll back.

Pure policy lives in core.gate; this module gathers the evidence, applies the decision to the registry
with compare-and-set, records every alias move in the ledger, and writes the reports.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yolo_mlops.adapters import ultralytics_runtime, zenml_stack
from yolo_mlops.adapters.mlflow_registry import Registry, RegistryError, VersionInfo, load_model_weights_uri
from yolo_mlops.adapters.registry_lock import registry_lock
from yolo_mlops.config import RegistryConfig
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.gate import Champion, Decision, GatePolicy, Outcome, Verdict, decide
from yolo_mlops.core.gate_report import build_report, render_dotenv, render_junit, render_markdown, run_link
from yolo_mlops.core.settings import Settings
from yolo_mlops.datasets import require_valid_dataset

# Re-decisions allowed when the alias moves between a decision and its compare-and-set.
MAX_DECISION_ATTEMPTS = 3
REPORT_FILES = ("gate_report.json", "gate_report.md", "gate_junit.xml", "gate.env", "ledger.json")


def actor() -> str:
    """Who moved an alias: the CI job's URL, else user@host."""
    return os.environ.get("CI_JOB_URL") or f"{getpass.getuser()}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class GateRequest:
    campaign: str
    expected: list[str] | None
    dataset_dir: Path  # the current data, to re-score a champion scored on other data
    promote: bool  # False: dry run, reports only
    out_dir: Path


class Gate:
    def __init__(self, settings: Settings, tracking_uri: str, policy: GatePolicy, registry_config: RegistryConfig):
        self.settings = settings
        self.policy = policy
        self.config = registry_config
        self.registry = Registry(tracking_uri, settings.experiment_name, registry_config.model_name)
        # Test seam: runs between a decision and its compare-and-set (another pipeline moving the alias).
        self.before_alias_move: Callable[[], None] | None = None

    # ---- the decision -------------------------------------------------------------------------------

    def _champion(self, alias: str, current_md5: str | None, dataset_dir: Path) -> Champion | None:
        version = self.registry.alias_version(alias)
        if version is None:
            return None
        run = self.registry.client.get_run(version.run_id)
        champion = Champion(
            version=version.version,
            run_id=version.run_id,
            metrics=dict(json.loads(version.tags.get("metrics", "{}"))) or dict(run.data.metrics),
            data_md5=version.tags.get("data_md5", run.data.tags.get("data_md5", "")),
            weights_sha256=version.tags.get("weights_sha256", ""),
        )
        if current_md5 and champion.data_md5 != current_md5:
            champion = self._rescore(champion, version, run, current_md5, dataset_dir)
        return champion

    def _rescore(self, champion: Champion, version: VersionInfo, run: Any, md5: str, dataset_dir: Path) -> Champion:
        """Fair comparison: score the champion's weights on the candidates' val split."""
        if require_valid_dataset(dataset_dir) != md5:
            raise UserError(
                f"{dataset_dir} does not hold the campaign's data ({md5}); pass --data with the dataset the campaign "
                "trained on, so the champion can be re-scored on it."
            )
        imgsz = int(run.data.params.get("imgsz", 320))
        with tempfile.TemporaryDirectory() as tmp:
            weights = load_model_weights_uri(
                self.registry.tracking_uri, f"models:/{self.config.model_name}/{version.version}", Path(tmp)
            )
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

    # ---- applying it --------------------------------------------------------------------------------

    def _version_for(self, decision: Decision, decision_id: str, campaign: str) -> tuple[VersionInfo, bool]:
        """The winner's model version (an existing one with the same weights, else a new one), and
        whether it was created now."""
        winner = decision.winner
        assert winner is not None
        existing = self.registry.version_with_weights(winner.weights_sha256)
        if existing is not None:
            return existing, False
        run_tags = self.registry.client.get_run(winner.run_id).data.tags
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

    def _zenml_stage(self, alias: str) -> str | None:
        """The model stage an alias stands for, whatever the configured alias names are."""
        return {self.config.staging_alias: "staging", self.config.production_alias: "production"}.get(alias)

    def move_alias(
        self,
        alias: str,
        expected_current: str | None,
        target: VersionInfo | None,
        *,
        reason: str,
        decision_id: str,
    ) -> dict[str, Any] | None:
        """Compare-and-set: move `alias` to `target` only if it still points to `expected_current`.

        Returns the ledger entry, or None when the alias moved meanwhile (nothing is changed then).
        The ZenML stage is set first: if that fails, MLflow's alias has not moved.
        """
        current = self.registry.alias_version(alias)
        if (current.version if current else None) != expected_current:
            return None
        stage = self._zenml_stage(alias)
        if target is not None and stage and target.tags.get("zenml_run_id"):
            try:
                zenml_stack.set_model_stage(target.tags["zenml_run_id"], stage)
            except (RuntimeError, KeyError) as exc:  # no such run / no model version: nothing moved yet
                raise RegistryError(f"ZenML: setting stage {stage!r} failed: {exc}") from None
        self.registry.set_alias(alias, target.version if target else None)
        if target is not None and stage and self.config.mlflow_stage_transition:
            self.registry.transition_stage(target.version, stage)
        return self.registry.append_ledger(
            {
                "alias": alias,
                "from_version": expected_current,
                "to_version": target.version if target else None,
                "actor": actor(),
                "time": now(),
                "reason": reason[:500],
                "decision_id": decision_id,
                "campaign": target.tags.get("campaign") if target else None,
                "data_md5": target.tags.get("data_md5") if target else None,
                "metrics": json.loads(target.tags.get("metrics", "{}")) if target else {},
            }
        )

    def run(self, request: GateRequest) -> dict[str, Any]:
        """Decide on the campaign and, when allowed and earned, promote; always write the reports."""
        decision_id, version, moved = "none", None, False
        try:
            self.registry.ensure_model()
            decision_id = self.registry.start_decision_run(request.campaign, {"actor": actor()})
            with registry_lock(self.settings.state_dir, self.config.model_name):
                for _attempt in range(MAX_DECISION_ATTEMPTS):
                    decision = self._decide(request)
                    if not (decision.outcome.moves_alias and request.promote):
                        break
                    target, created = self._version_for(decision, decision_id, request.campaign)
                    if self.before_alias_move is not None:
                        self.before_alias_move()
                    try:
                        entry = self.move_alias(
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
        files = self._write_reports(report, request.out_dir)
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

    def _write_reports(self, report: dict[str, Any], out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            ledger = self.registry.ledger()
        except RegistryError:
            ledger = []
        contents = {
            "gate_report.json": json.dumps(report, indent=2) + "\n",
            "gate_report.md": render_markdown(report),
            "gate_junit.xml": render_junit(report),
            "gate.env": render_dotenv(report),
            "ledger.json": json.dumps(ledger, indent=2) + "\n",
        }
        for name, text in contents.items():
            (out_dir / name).write_text(text)
        return [out_dir / name for name in REPORT_FILES]

    # ---- manual moves -------------------------------------------------------------------------------

    def promote(self, source_alias: str, target_alias: str) -> dict[str, Any]:
        """Point `target_alias` at the version behind `source_alias` (the manual Staging → Production job)."""
        with registry_lock(self.settings.state_dir, self.config.model_name):
            source = self.registry.alias_version(source_alias)
            if source is None:
                raise UserError(f"nothing to promote: no version of {self.config.model_name} behind {source_alias!r}.")
            current = self.registry.alias_version(target_alias)
            if current is not None and current.version == source.version:
                return {
                    "moved": False,
                    "version": source.version,
                    "reason": f"{target_alias} is v{source.version} already",
                }
            entry = self.move_alias(
                target_alias,
                current.version if current else None,
                source,
                reason=f"promoted {source_alias} v{source.version} to {target_alias}",
                decision_id=f"promote-{source_alias}-{target_alias}",
            )
        if entry is None:
            raise UserError(f"alias {target_alias!r} moved while promoting; nothing changed, run the job again.")
        return {"moved": True, "version": source.version, "entry": entry}

    def rollback(self, alias: str) -> dict[str, Any]:
        """Move `alias` back to where the ledger says it was before its current version."""
        with registry_lock(self.settings.state_dir, self.config.model_name):
            current = self.registry.alias_version(alias)
            if current is None:
                raise UserError(f"nothing to roll back: alias {alias!r} of {self.config.model_name} is not set.")
            moves = [e for e in self.registry.ledger() if e["alias"] == alias and e["to_version"] == current.version]
            if not moves:
                raise UserError(
                    f"the ledger has no move of {alias!r} to v{current.version}; cannot tell what came before."
                )
            previous = moves[-1]["from_version"]
            target = self.registry.get_version(previous) if previous else None
            entry = self.move_alias(
                alias,
                current.version,
                target,
                reason=f"rollback of {alias} from v{current.version} to {f'v{previous}' if previous else 'nothing'}",
                decision_id=f"rollback-{alias}",
            )
        if entry is None:
            raise UserError(f"alias {alias!r} moved during the rollback; nothing changed, run it again.")
        return {"from": current.version, "to": previous, "entry": entry}
