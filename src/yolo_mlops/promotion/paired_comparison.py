"""The gate's paired comparison: the candidate's and the champion's weights scored on the SAME val images of
the campaign's dataset, then a paired bootstrap of the AP50 difference (core.paired_bootstrap)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.core.errors import UserError
from yolo_mlops.core.paired_bootstrap import PairedDifference, paired_bootstrap
from yolo_mlops.core.policy import Candidate, Champion, ComparisonPolicy
from yolo_mlops.core.train_params import TrainParams
from yolo_mlops.data.ground_truth import val_ground_truth
from yolo_mlops.data.layout import DATA_YAML
from yolo_mlops.data.validate import dataset_md5


class PairedComparison:
    """A `core.policy.Compare`: called by `decide` only when a candidate is weighed against the champion."""

    def __init__(self, registry: Registry, policy: ComparisonPolicy, dataset_dir: Path) -> None:
        self.registry = registry
        self.policy = policy
        self.dataset_dir = dataset_dir

    def __call__(self, candidate: Candidate, champion: Champion) -> PairedDifference:
        with tempfile.TemporaryDirectory(prefix="yolo-mlops-compare-") as tmp:
            mine = self.registry.download_run_weights(candidate.source_run_id, Path(tmp) / "candidate")
            theirs = self.registry.download_weights(champion.version, Path(tmp) / "champion")
            return score_pair(
                self.dataset_dir,
                candidate.data_md5,
                (mine, candidate.imgsz or TrainParams.imgsz),
                (theirs, champion.imgsz),
                self.policy,
            )


def score_pair(
    dataset_dir: Path,
    data_md5: str,
    candidate: tuple[Path, int],
    champion: tuple[Path, int],
    policy: ComparisonPolicy,
) -> PairedDifference:
    """Both (weights, imgsz) scored on the val images of `dataset_dir`, which must hold the data `data_md5`."""
    # The md5 alone suffices: the campaign validated this very data before training on it.
    if not (dataset_dir / DATA_YAML).is_file() or dataset_md5(dataset_dir) != data_md5:
        raise UserError(
            f"{dataset_dir} does not hold the campaign's data ({data_md5}); pass --data with the dataset the "
            "campaign trained on, so candidate and champion are scored on the same val images."
        )
    images, truths = val_ground_truth(dataset_dir)
    ours = ultralytics_runtime.predict_images(candidate[0], images, imgsz=candidate[1])
    others = ultralytics_runtime.predict_images(champion[0], images, imgsz=champion[1])
    return paired_bootstrap(
        ours, others, truths, confidence=policy.confidence, resamples=policy.resamples, seed=policy.seed
    )
