"""The gate's paired comparison through the CLI, on the real weights of the session's tiny campaign.

The real campaign becomes the champion. A second campaign then claims a large mAP50 gain in its recorded
metrics, with the real weights of another run of the tiny campaign: the gate scores both weights on the
same val images, and the paired bootstrap finds the gain within noise (both tiny models detect almost
nothing), so the champion is kept.
"""

from __future__ import annotations

import json
import uuid

import pytest
from mlflow.tracking import MlflowClient
from ultralytics import YOLO

from tests.conftest import CAMPAIGN, SESSION_STATE, run_cli
from tests.integration.gate_scenarios import CONFIGS, make_campaign
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri

pytestmark = pytest.mark.integration

POLICY = (
    "gate:\n  floors: {mAP50: 0.0}\n  min_improvement: {absolute: 0.0}\n"
    "  comparison: {confidence: 0.95, min_improvement: 0.0, resamples: 1000, seed: 0}\n"
)


def gate(tiny_campaign: dict, campaign: str, model: str, out: str) -> tuple[int, dict, str]:
    project = tiny_campaign["project"]
    (project / "paired").mkdir(exist_ok=True)
    (project / "paired" / "gate.yaml").write_text(POLICY)
    (project / "paired" / "registry.yaml").write_text(f"registry:\n  model_name: {model}\n")
    args = ["gate", "--campaign", campaign, "--policy", "paired/gate.yaml", "--registry", "paired/registry.yaml"]
    result = run_cli([*args, "--data", "data", "--out", out], project, tiny_campaign["env"])
    report_file = project / out / "gate_report.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else {}
    return result.returncode, report, result.stdout + result.stderr


def test_the_gate_scores_candidate_and_champion_on_the_same_images(tiny_campaign):
    model = f"paired_{uuid.uuid4().hex[:8]}"
    code, first, out = gate(tiny_campaign, CAMPAIGN, model, "gate-first")
    assert (code, first.get("outcome")) == (0, "first_model"), out[-3000:]
    assert first["comparison"] is None  # no champion: nothing to compare with

    tracking = embedded_tracking_uri(SESSION_STATE)
    client = MlflowClient(tracking_uri=tracking)
    experiment_id = client.get_experiment_by_name("cv_yolo_tiny").experiment_id
    real = client.search_runs([experiment_id], f"tags.campaign = '{CAMPAIGN}'")
    champion_sha = Registry(tracking, "cv_yolo_tiny", model).alias_version("staging").tags["weights_sha256"]
    # Another run's weights: one that trained them (a cached run points at its source and holds none).
    other = next(
        r
        for r in real
        if r.data.tags["weights_sha256"] != champion_sha and r.data.tags["source_run_id"] == r.info.run_id
    )
    world = {"client": client, "experiment_id": experiment_id, "source": other}
    claimed = make_campaign(world, [0.5, 0.9, 0.6], cached=dict.fromkeys(CONFIGS, other.info.run_id))

    code, report, out = gate(tiny_campaign, claimed, model, "gate-second")
    assert (code, report.get("outcome")) == (3, "keep_champion"), out[-3000:]
    comparison = report["comparison"]
    assert comparison["images"] == 8 and comparison["resamples"] == 1000 and comparison["confidence"] == 0.95
    assert comparison["lower"] <= comparison["difference"] <= comparison["upper"]
    assert comparison["summary"].endswith(": within noise: kept"), comparison
    verdicts = {v["rule"]: v["passed"] for v in report["verdicts"]}
    assert verdicts["improvement:absolute"] and not verdicts["improvement:paired_bootstrap"]
    markdown = (tiny_campaign["project"] / "gate-second" / "gate_report.md").read_text()
    assert comparison["summary"] in markdown and "same 8 val images" in markdown
    assert "is not beyond noise" in out and "within noise: kept" in out

    # The champion's AP50 computed here agrees with Ultralytics' own mAP50 of the same weights on the same images
    # (rect=False: its default pads each batch to a rectangle, which changes the input, not the metric; the
    # session's tiny campaign already placed the font and settings Ultralytics needs offline).
    registry = Registry(tracking, "cv_yolo_tiny", model)
    weights = registry.download_weights(registry.alias_version("staging").version, tiny_campaign["project"] / "dl")
    imgsz = int(registry.run(registry.alias_version("staging").run_id).params["imgsz"])
    data_yaml = tiny_campaign["project"] / "data" / "data.yaml"
    val = YOLO(str(weights), task="detect").val(
        data=str(data_yaml),
        imgsz=imgsz,
        batch=16,
        device="cpu",
        rect=False,
        plots=False,
        verbose=False,
        project=str(tiny_campaign["project"] / "val"),
    )
    assert comparison["champion"] == pytest.approx(val.box.map50, abs=0.01)

    # Seeded: the same decision gives the same interval.
    _, again, _ = gate(tiny_campaign, claimed, model, "gate-third")
    assert again["comparison"] == comparison
