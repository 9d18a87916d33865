"""The winner's weights, checked before anything is registered: the artifact exists in its source run, its
sha256 is the run's `weights_sha256` tag, and it loads as a YOLO detector. A string the gate did not check is
never promoted."""

from __future__ import annotations

import tempfile
from pathlib import Path

from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.adapters.mlflow_registry import Registry, RegistryError
from yolo_mlops.adapters.mlflow_tracking import file_sha256
from yolo_mlops.core.policy import Candidate, Verdict

RULE = "evidence:weights_verified"


def verify_weights(registry: Registry, winner: Candidate) -> Verdict:
    """One verdict: passed only when the weights exist, match their hash and load."""
    where = f"{winner.config} (source run {winner.source_run_id})"
    if not winner.weights_sha256:
        return Verdict(RULE, False, f"{where}: no weights_sha256 tag")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            weights = registry.download_run_weights(winner.source_run_id, Path(tmp))
        except RegistryError as exc:
            return Verdict(RULE, False, f"{where}: weights not found: {exc}")
        if not weights.is_file() or weights.stat().st_size == 0:
            return Verdict(RULE, False, f"{where}: the weights artifact is missing or empty")
        actual = file_sha256(weights)
        if actual != winner.weights_sha256:
            return Verdict(RULE, False, f"{where}: sha256 {actual} != weights_sha256 tag {winner.weights_sha256}")
        error = ultralytics_runtime.load_error(weights)
    if error is not None:
        return Verdict(RULE, False, f"{where}: the weights do not load: {error[:300]}")
    return Verdict(RULE, True, f"{where}: weights present, sha256 {actual[:12]}… matches, they load")
