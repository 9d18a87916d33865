"""The real pipelines on a tiny dataset against the embedded stores (ZenML local store, MLflow sqlite).

One module-scoped campaign: the baseline and a 2-cell grid (run as two CI-style shards), then the
baseline again under a new campaign, which must be served from ZenML's cache.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import CAMPAIGN, TRAINING_STARTED, cli_env, plain, run_cli
from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri, file_sha256
from yolo_mlops.data.validate import dataset_md5

pytestmark = pytest.mark.integration

FINAL_METRICS = ("mAP50", "mAP50_95", "precision", "recall", "inference_ms")


@pytest.fixture(scope="module")
def campaign(tiny_campaign) -> dict:
    """The session's tiny campaign, plus the baseline run again under a new campaign (served from cache)."""
    project, env = tiny_campaign["project"], tiny_campaign["env"]
    rerun_env = {**env, "YOLO_MLOPS_CAMPAIGN": "test-rerun"}
    rerun = run_cli(["train", "baseline", "--config", "configs/baseline.yaml"], project, rerun_env)
    return {
        **tiny_campaign,
        "results": {**tiny_campaign["results"], "rerun": rerun},
        "client": MlflowClient(tracking_uri=embedded_tracking_uri(tiny_campaign["state"])),
    }


def campaign_runs(campaign: dict, name: str) -> list:
    client = campaign["client"]
    experiment = client.get_experiment_by_name("cv_yolo_tiny")
    return client.search_runs([experiment.experiment_id], filter_string=f"tags.campaign = '{name}'")


def test_every_command_succeeds(campaign):
    for name, result in campaign["results"].items():
        assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_one_mlflow_run_per_pipeline_run_with_the_contract_tags(campaign):
    runs = campaign_runs(campaign, CAMPAIGN)
    assert len(runs) == 3
    md5 = dataset_md5(campaign["project"] / "data")
    by_kind = sorted((r.data.tags["pipeline"], r.data.tags.get("grid_cell")) for r in runs)
    assert by_kind == [("baseline", None), ("grid", "1/2"), ("grid", "2/2")]
    for run in runs:
        tags = run.data.tags
        assert run.info.status == "FINISHED"
        assert tags["campaign"] == CAMPAIGN
        assert tags["data_md5"] == md5
        assert tags["git_commit"] == campaign["commit"]
        assert tags["git_branch"] == "feature-x"
        assert len(tags["weights_sha256"]) == 64
        assert len(tags["zenml_run_id"]) == 36


def test_params_final_metrics_and_per_epoch_history(campaign):
    client = campaign["client"]
    for run in campaign_runs(campaign, CAMPAIGN):
        assert run.data.params["epochs"] == "2"
        assert run.data.params["imgsz"] in {"64", "96"}
        for name in FINAL_METRICS:
            assert math.isfinite(run.data.metrics[name]), name
        assert 0.0 <= run.data.metrics["mAP50"] <= 1.0
        assert run.data.metrics["inference_ms"] > 0
        # Per-epoch history lives in the run that trained the weights (a cached run points to it).
        trained_in = run.data.tags["source_run_id"]
        history = client.get_metric_history(trained_in, "metrics/mAP50B")
        assert [m.step for m in history] == [1, 2]
        assert len(client.get_metric_history(trained_in, "train/box_loss")) == 2


def test_grid_cell_equal_to_the_baseline_reuses_its_training(campaign):
    runs = {(r.data.tags["pipeline"], r.data.tags.get("grid_cell")): r for r in campaign_runs(campaign, CAMPAIGN)}
    baseline, same, other = runs[("baseline", None)], runs[("grid", "1/2")], runs[("grid", "2/2")]
    assert same.data.params["imgsz"] == baseline.data.params["imgsz"] == "64"
    assert same.data.tags["cached"] == "true" and same.data.tags["source_run_id"] == baseline.info.run_id
    assert other.data.tags["cached"] == "false" and other.data.tags["source_run_id"] == other.info.run_id
    assert other.data.tags["weights_sha256"] != baseline.data.tags["weights_sha256"]


def test_logged_weights_match_their_hash_load_and_predict(campaign, tmp_path):
    run = next(r for r in campaign_runs(campaign, CAMPAIGN) if r.data.tags["pipeline"] == "baseline")
    local = Path(campaign["client"].download_artifacts(run.info.run_id, "model/artifacts/best.pt", str(tmp_path)))
    assert file_sha256(local) == run.data.tags["weights_sha256"]
    import ultralytics

    image = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"  # shipped inside the package
    assert ultralytics_runtime.predict_count(local, image, imgsz=64) >= 0


def test_summary_artifacts_in_mlflow(campaign, tmp_path):
    client = campaign["client"]
    run = campaign_runs(campaign, CAMPAIGN)[0]
    summary = Path(client.download_artifacts(run.info.run_id, "summary/summary.json", str(tmp_path)))
    assert '"mAP50"' in summary.read_text()
    assert (Path(client.download_artifacts(run.info.run_id, "summary/summary.md", str(tmp_path)))).read_text()


def test_unchanged_rerun_retrains_nothing_but_is_recorded(campaign):
    rerun = campaign["results"]["rerun"]
    assert TRAINING_STARTED in plain(campaign["results"]["baseline"].stdout)  # the check below can fail
    assert TRAINING_STARTED not in plain(rerun.stdout + rerun.stderr)
    (original,) = [r for r in campaign_runs(campaign, CAMPAIGN) if r.data.tags["pipeline"] == "baseline"]
    (cached,) = campaign_runs(campaign, "test-rerun")  # the new campaign still has its own MLflow run
    assert cached.data.tags["cached"] == "true" and original.data.tags["cached"] == "false"
    assert cached.data.tags["source_run_id"] == original.info.run_id == original.data.tags["source_run_id"]
    assert cached.data.tags["weights_sha256"] == original.data.tags["weights_sha256"]
    assert {k: cached.data.metrics[k] for k in FINAL_METRICS} == {k: original.data.metrics[k] for k in FINAL_METRICS}
    assert cached.data.params == original.data.params
    board = (campaign["state"] / "campaigns" / "test-rerun" / "leaderboard.txt").read_text()
    row = board.splitlines()[3].split()
    assert row[1] == "baseline" and "yes" in row


def test_leaderboard_files_and_plot(campaign):
    out = campaign["state"] / "campaigns" / CAMPAIGN
    assert (out / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "grid 2/2" in (out / "leaderboard.txt").read_text()


def test_network_harness_catches_a_lookup(tmp_path):
    """Positive control: the same harness does record a non-loopback lookup."""
    log = tmp_path / "net.log"
    env = cli_env(tmp_path / "s", tmp_path, log)
    probe = "import socket\ntry:\n    socket.getaddrinfo('example.org', 443)\nexcept OSError:\n    pass\n"
    subprocess.run([sys.executable, "-c", probe], env=env, check=True)
    assert "socket.getaddrinfo 'example.org'" in log.read_text()


def test_training_stays_offline_and_out_of_home(campaign):
    log = campaign["network_log"]
    assert not log.exists() or log.read_text() == "", log.read_text()
    assert sorted(p.relative_to(campaign["home"]) for p in campaign["home"].rglob("*")) == []
