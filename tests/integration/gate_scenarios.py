"""Scenario campaigns for the gate's tests: MLflow runs written with chosen metrics, each logging REAL weights.

Each scenario run logs its own copy of the tiny campaign's trained checkpoint (re-saved with a unique marker, so
every run's weights have their own sha256 yet load as the same detector) inside a copy of the tiny campaign's
MLflow model (`model/`, with its ONNX twin of the same network), and is its own source
run; it points at the tiny campaign's ZenML pipeline run, so the ZenML model stage follows real objects.
`weights=` makes the evidence hostile: missing artifact, hash mismatch, no hash, or a file that does not load.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import CAMPAIGN
from yolo_mlops.adapters.mlflow_tracking import file_sha256

CONFIGS = ["baseline", "grid 1/2", "grid 2/2"]
WEIGHTS_KINDS = ("real", "missing", "mismatch", "no_hash", "unloadable")
POINT_ESTIMATES = Path("configs") / "gate_point_estimates.yaml"


def point_estimate_policy(project: Path) -> Path:
    """The shipped policy without its paired comparison, written into the project; its path relative to it.

    Scenario runs give chosen metrics to copies of ONE network: the paired comparison, which scores the real
    predictions, rightly finds no difference between them and keeps every champion. The point-estimate rules
    are what these scenarios exercise; the paired comparison has its own tests (test_paired_gate.py)."""
    shipped = yaml.safe_load((project / "configs" / "gate.yaml").read_text())
    shipped["gate"].pop("comparison", None)
    (project / POINT_ESTIMATES).write_text(yaml.safe_dump(shipped))
    return POINT_ESTIMATES


def scenario_world(tracking_uri: str, workdir: Path) -> dict:
    """The tiny campaign's baseline run, its checkpoint (loaded once), and the experiment to write into."""
    import torch

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    real = client.search_runs([experiment.experiment_id], f"tags.campaign = '{CAMPAIGN}'")
    source = next(r for r in real if r.data.tags["pipeline"] == "baseline")
    model_dir = Path(client.download_artifacts(source.info.run_id, "model", str(workdir)))
    weights = model_dir / "artifacts" / "best.pt"
    return {
        "client": client,
        "experiment_id": experiment.experiment_id,
        "source": source,
        "checkpoint": torch.load(weights, map_location="cpu", weights_only=False),
        "model_dir": model_dir,
    }


def _log_weights(world: dict, run_id: str, kind: str, broken_model_file: str | None) -> str:
    """Log the model folder (its artifacts/best.pt the scenario's weights) into the run as `kind` says; returns
    the weights_sha256 tag to set.
    `broken_model_file` (a path inside the model folder) is overwritten with garbage after hashing."""
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model"
        shutil.copytree(world["model_dir"], model)
        path = model / "artifacts" / "best.pt"
        if kind == "unloadable":
            path.write_bytes(b"not a checkpoint " + uuid.uuid4().bytes)
        else:
            torch.save({**world["checkpoint"], "scenario": uuid.uuid4().hex}, path)
        sha = file_sha256(path)
        if kind != "missing":
            if broken_model_file:
                (model / broken_model_file).write_bytes(b"not a model " * 100)
            world["client"].log_artifacts(run_id, str(model), "model")
    return {"mismatch": uuid.uuid4().hex * 2, "no_hash": ""}.get(kind, sha)


def make_campaign(
    world: dict,
    map50s: list[float],
    *,
    statuses: dict[str, str] | None = None,
    md5: str | None = None,
    weights: str = "real",
    metrics: dict[str, float] | None = None,
    configs: list[str] | None = None,
    broken_model_file: str | None = None,
    campaign: str | None = None,
    cached: dict[str, str] | None = None,
) -> str:
    """One run per config with the given mAP50 (other metrics fixed, or `metrics` overriding them for every run);
    returns the campaign id. `cached` maps a config to an earlier run whose weights this run re-uses, as a run
    whose training came from ZenML's cache does (same `weights_sha256`, `source_run_id` naming that run)."""
    client, source = world["client"], world["source"]
    campaign = campaign or f"scenario-{uuid.uuid4().hex[:8]}"
    for i, (config, value) in enumerate(zip(configs or CONFIGS, map50s, strict=False)):
        pipeline, cell = ("baseline", None) if config == "baseline" else ("grid", config.split()[1])
        tags = {
            "campaign": campaign,
            "pipeline": pipeline,
            "data_md5": md5 or source.data.tags["data_md5"],
            "zenml_run_id": source.data.tags["zenml_run_id"],
            "git_commit": "abc123",
        }
        if cell:
            tags["grid_cell"] = cell
        run_id = client.create_run(world["experiment_id"], tags=tags).info.run_id
        if cached and config in cached:
            earlier = client.get_run(cached[config]).data.tags
            client.set_tag(run_id, "source_run_id", earlier["source_run_id"])
            client.set_tag(run_id, "weights_sha256", earlier["weights_sha256"])
        else:
            client.set_tag(run_id, "source_run_id", run_id)
            client.set_tag(run_id, "weights_sha256", _log_weights(world, run_id, weights, broken_model_file))
        values = {"mAP50": value, "mAP50_95": value / 2, "precision": 0.9, "recall": 0.8, "inference_ms": 5.0 + i}
        for key, metric in {**values, **(metrics or {})}.items():
            client.log_metric(run_id, key, metric)
        client.log_param(run_id, "imgsz", "64")
        client.set_terminated(run_id, (statuses or {}).get(config, "FINISHED"))
    return campaign


def run_of(world: dict, campaign: str, config: str) -> str:
    """The run id of one config of a scenario campaign."""
    pipeline, cell = ("baseline", None) if config == "baseline" else ("grid", config.split()[1])
    query = f"tags.campaign = '{campaign}' and tags.pipeline = '{pipeline}'"
    runs = world["client"].search_runs([world["experiment_id"]], query)
    return next(r.info.run_id for r in runs if r.data.tags.get("grid_cell") == cell)
