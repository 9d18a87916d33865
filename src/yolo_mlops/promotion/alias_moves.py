"""Alias moves: compare-and-set on the registry, the ZenML stage that follows, a ledger entry for each; and
the manual moves (promote one alias to another, roll one back along the ledger)."""

from __future__ import annotations

import getpass
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yolo_mlops.adapters import zenml_client
from yolo_mlops.adapters.mlflow_registry import (
    Registry,
    RegistryError,
    VersionInfo,
)
from yolo_mlops.adapters.registry_lock import registry_lock
from yolo_mlops.configuration.config_files import RegistryConfig
from yolo_mlops.core.errors import MoveRefused, UserError


def actor() -> str:
    """Who moved an alias: the CI job's URL, else user@host."""
    return os.environ.get("CI_JOB_URL") or f"{getpass.getuser()}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AliasMoves:
    """Every change of an alias of one registered model goes through here."""

    def __init__(self, registry: Registry, config: RegistryConfig, state_dir: Path) -> None:
        self.registry = registry
        self.config = config
        self.state_dir = state_dir

    def lock(self) -> Any:
        """Serialises decide → register → move among gates sharing this machine."""
        return registry_lock(self.state_dir, self.config.model_name)

    def _zenml_stage(self, alias: str) -> str | None:
        """The model stage an alias stands for, whatever the configured alias names are."""
        return {self.config.staging_alias: "staging", self.config.production_alias: "production"}.get(alias)

    def move(
        self,
        alias: str,
        expected_current: str | None,
        target: VersionInfo | None,
        *,
        reason: str,
        decision_id: str,
        extra: dict[str, Any] | None = None,
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
                zenml_client.set_model_stage(target.tags["zenml_run_id"], stage)
            except Exception as exc:  # no such run, no model version, server gone: nothing moved yet
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
                **(extra or {}),
            }
        )

    def promote(self, source_alias: str, target_alias: str, version: str | None = None) -> dict[str, Any]:
        """Point `target_alias` at the version behind `source_alias` (the manual Staging → Production job);
        with `version`, only if that is still the version behind `source_alias` (what the gate promoted)."""
        model = self.config.model_name
        with self.lock():
            source = self.registry.alias_version(source_alias)
            if source is None:
                raise UserError(f"nothing to promote: no version of {model} behind {source_alias!r}.")
            if version is not None and source.version != version:
                raise MoveRefused(
                    f"{model}@{source_alias} is v{source.version} now, not v{version} (the version asked for); "
                    f"nothing promoted. Promote v{source.version} with --version {source.version} if you mean it."
                )
            if source.rejected:
                raise MoveRefused(
                    f"{model} v{source.version} is rejected ({source.rejected_reason}); "
                    f"nothing promoted. `yolo-mlops unreject --version {source.version}` lifts that."
                )
            current = self.registry.alias_version(target_alias)
            if current is not None and current.version == source.version:
                return {
                    "moved": False,
                    "version": source.version,
                    "reason": f"{target_alias} is v{source.version} already",
                }
            entry = self.move(
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
        """Move `alias` back to where the ledger says it was before its current version, and mark the version
        it leaves rejected."""
        model = self.config.model_name
        with self.lock():
            current = self.registry.alias_version(alias)
            if current is None:
                raise UserError(f"nothing to roll back: alias {alias!r} of {model} is not set.")
            moves = [e for e in self.registry.ledger() if e["alias"] == alias and e["to_version"] == current.version]
            if not moves:
                raise UserError(
                    f"the ledger has no move of {alias!r} to v{current.version}; cannot tell what came before."
                )
            previous = moves[-1]["from_version"]
            target = self.registry.get_version(previous) if previous else None
            if target is not None and target.rejected:
                raise MoveRefused(
                    f"{model}@{alias} would go back to v{previous}, which is rejected "
                    f"({target.rejected_reason}); nothing changed. "
                    f"`yolo-mlops unreject --version {previous}` first if you mean it."
                )
            reason = f"rollback of {alias} from v{current.version} to {f'v{previous}' if previous else 'nothing'}"
            # Rejected before the move, so that no gate promotes these weights again in between; lifted again
            # when the move does not happen.
            was_rejected = current.rejected
            self.registry.set_rejected(current.version, f"{reason} by {actor()} at {now()}")
            entry = None
            try:
                entry = self.move(
                    alias,
                    current.version,
                    target,
                    reason=reason,
                    decision_id=f"rollback-{alias}",
                    extra={"rejected_version": current.version},
                )
            finally:
                if entry is None and not was_rejected:
                    self.registry.set_rejected(current.version, None)
        if entry is None:
            raise UserError(f"alias {alias!r} moved during the rollback; nothing changed, run it again.")
        return {"from": current.version, "to": previous, "entry": entry}

    def unreject(self, version: str) -> dict[str, Any]:
        """Lift the rejection of `version` (set by a rollback): the gate may promote its weights again."""
        model = self.config.model_name
        with self.lock():
            found = self.registry.version_or_none(version)
            if found is None:
                raise UserError(f"{model} has no version {version}; `--version` takes an existing version number.")
            if not found.rejected:
                return {"changed": False, "version": version}
            self.registry.set_rejected(version, None)
            entry = self.registry.append_ledger(
                {
                    "alias": None,
                    "event": "unreject",
                    "unrejected_version": version,
                    "actor": actor(),
                    "time": now(),
                    "reason": f"rejection lifted (was: {found.rejected_reason})"[:500],
                }
            )
        return {"changed": True, "version": version, "entry": entry}
