"""The gate fails closed on hostile evidence and on server faults, through the CLI as CI calls it.

Real MLflow sqlite store of the session, real weights (tests/integration/gate_scenarios.py), a fresh registered
model per test; every CLI failure path ends with one line, the documented exit code and no traceback.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import SESSION_STATE, cli_env, run_cli
from tests.integration.gate_scenarios import WEIGHTS_KINDS, make_campaign, point_estimate_policy, scenario_world
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri, file_sha256

pytestmark = pytest.mark.integration

TRACKING = embedded_tracking_uri(SESSION_STATE)
MLFLOW_INF = 1.7976931348623157e308
# A hang detector, not a timing target: the fault budget is 20 s, MLflow's own default retries for minutes; the rest
# is the CLI's imports on a loaded 2-core machine (measured 16-19 s per command in all).
HANG = 60


@pytest.fixture(scope="module")
def world(tiny_campaign, tmp_path_factory) -> dict:
    return {
        **scenario_world(TRACKING, tmp_path_factory.mktemp("weights")),
        "project": tiny_campaign["project"],
        "env": cli_env(SESSION_STATE, tiny_campaign["home"], tiny_campaign["network_log"]),
        "policy": point_estimate_policy(tiny_campaign["project"]),
    }


class Model:
    """A fresh registered model, its registry config, and the CLI commands against it."""

    def __init__(self, world: dict, tmp_path: Path) -> None:
        self.world, self.tmp_path = world, tmp_path
        self.name = f"model_{uuid.uuid4().hex[:8]}"
        self.registry_file = tmp_path / f"{self.name}.yaml"
        self.registry_file.write_text(f"registry:\n  model_name: {self.name}\n")
        self.registry = Registry(TRACKING, "cv_yolo_tiny", self.name)

    def cli(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        result = run_cli(
            [*args, "--registry", str(self.registry_file)], self.world["project"], env or self.world["env"]
        )
        assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
        return result

    def gate(self, campaign: str, *extra: str) -> subprocess.CompletedProcess:
        out = self.tmp_path / f"gate-{campaign}"
        common = ["--baseline", "configs/baseline.yaml", "--grid", "configs/grid.yaml", "--out", str(out)]
        policy = [] if "--policy" in extra else ["--policy", str(self.world["policy"])]
        return self.cli("gate", "--campaign", campaign, *common, *policy, *extra)

    def ledger_file(self, campaign: str) -> list:
        return json.loads((self.tmp_path / f"gate-{campaign}" / "ledger.json").read_text())

    def staging(self) -> str | None:
        version = self.registry.alias_version("staging")
        return version.version if version else None

    def versions(self) -> int:
        return len(self.registry.versions())


def assert_nothing_moved(model: Model, result: subprocess.CompletedProcess, campaign: str) -> None:
    assert result.returncode == 4, result.stdout + result.stderr
    assert "gate: no_decision" in result.stdout
    assert model.staging() is None and model.versions() == 0 and model.registry.ledger() == []
    assert model.ledger_file(campaign) == []


@pytest.mark.parametrize("kind", [k for k in WEIGHTS_KINDS if k != "real"])
def test_unverified_weights_are_never_registered(world, tmp_path, kind):
    model = Model(world, tmp_path)
    campaign = make_campaign(world, [0.6, 0.9, 0.7], weights=kind)
    result = model.gate(campaign)
    assert_nothing_moved(model, result, campaign)
    rule = "evidence:weights_sha256" if kind == "no_hash" else "evidence:weights_verified"
    assert f"[FAIL] {rule}" in result.stdout


@pytest.mark.parametrize("value", [float("inf"), MLFLOW_INF, 1.5, -1.0])
def test_infinite_or_out_of_range_metric_is_no_decision(world, tmp_path, value):
    model = Model(world, tmp_path)
    campaign = make_campaign(world, [0.6, 0.9, 0.7], metrics={"precision": value})
    result = model.gate(campaign)
    assert_nothing_moved(model, result, campaign)
    assert "[FAIL] evidence:metrics_finite" in result.stdout


def test_verified_winner_is_promoted_and_a_gain_of_exactly_the_margin_counts(world, tmp_path):
    model = Model(world, tmp_path)
    first = model.gate(make_campaign(world, [0.6, 0.685, 0.65]))
    assert first.returncode == 0 and "[pass] evidence:weights_verified" in first.stdout
    exact = model.gate(make_campaign(world, [0.6, 0.690, 0.65]))  # gain 0.005 = the margin in configs/gate.yaml
    assert exact.returncode == 0 and "gate: promote" in exact.stdout, exact.stdout
    assert model.staging() == "2" and model.versions() == 2 and len(model.registry.ledger()) == 2


def test_unplanned_config_is_reported_and_ignored(world, tmp_path):
    model = Model(world, tmp_path)
    campaign = make_campaign(world, [0.6, 0.7, 0.65, 0.99], configs=["baseline", "grid 1/2", "grid 2/2", "grid 1/4"])
    result = model.gate(campaign)
    assert result.returncode == 0 and "ignored, not planned by the campaign: grid 1/4" in result.stdout
    assert model.registry.alias_version("staging").tags["config"] == "grid 1/2"


def test_lost_champion_is_no_decision_until_allowed(world, tmp_path):
    model = Model(world, tmp_path)
    assert model.gate(make_campaign(world, [0.6, 0.9, 0.7])).returncode == 0
    model.registry.delete_version("1")  # the alias goes with it; the ledger still says staging -> v1
    campaign = make_campaign(world, [0.6, 0.8, 0.7])
    refused = model.gate(campaign)
    assert refused.returncode == 4 and "[FAIL] champion:resolves" in refused.stdout
    assert "--allow-first-model" in refused.stdout and model.staging() is None and model.versions() == 0
    assert len(model.ledger_file(campaign)) == 1
    allowed = model.gate(campaign, "--allow-first-model")
    assert allowed.returncode == 0 and "gate: first_model" in allowed.stdout and model.staging() == "2"


def test_champion_run_deleted_and_garbage_collected(world, tmp_path):
    model = Model(world, tmp_path)
    assert model.gate(make_campaign(world, [0.6, 0.9, 0.7])).returncode == 0
    champion_run = model.registry.alias_version("staging").run_id
    world["client"].delete_run(champion_run)
    gc = subprocess.run(
        [sys.executable, "-m", "mlflow", "gc", "--backend-store-uri", TRACKING, "--run-ids", champion_run],
        env={**world["env"], "MLFLOW_TRACKING_URI": TRACKING},
        capture_output=True,
        text=True,
        cwd=world["project"],
    )
    assert gc.returncode == 0, gc.stderr[-2000:]
    campaign = make_campaign(world, [0.6, 0.95, 0.7])
    result = model.gate(campaign)
    assert result.returncode == 4 and f"reading run {champion_run} failed" in result.stdout
    assert model.staging() == "1" and model.versions() == 1 and len(model.ledger_file(campaign)) == 1
    decision = decision_run(world, campaign)
    assert decision.info.status == "FINISHED"


def decision_run(world: dict, campaign: str):
    """The gate's own MLflow run for a campaign (tagged `gated_campaign`, never `campaign`)."""
    runs = world["client"].search_runs([world["experiment_id"]], f"tags.gated_campaign = '{campaign}'", max_results=1)
    return runs[0]


def test_a_gate_stopped_by_bad_input_leaves_its_decision_run_failed(world, tmp_path):
    model = Model(world, tmp_path)
    assert model.gate(make_campaign(world, [0.6, 0.9, 0.7], md5="0" * 32 + ".dir")).returncode == 0
    campaign = make_campaign(world, [0.6, 0.95, 0.7])  # on other data: the champion must be re-scored on --data
    result = model.gate(campaign, "--data", str(tmp_path / "no-such-dataset"))
    assert result.returncode == 2 and result.stderr.startswith("error: ") and model.staging() == "1"
    decision = decision_run(world, campaign)
    assert decision.info.status == "FAILED"


def test_rollback_to_a_deleted_version_is_one_line(world, tmp_path):
    model = Model(world, tmp_path)
    assert model.gate(make_campaign(world, [0.6, 0.7, 0.65])).returncode == 0
    assert model.gate(make_campaign(world, [0.6, 0.8, 0.7])).returncode == 0
    model.registry.delete_version("1")
    result = model.cli("rollback", "--alias", "staging")
    assert result.returncode == 4 and result.stderr.count("\n") == 1 and "reading version 1" in result.stderr
    assert model.staging() == "2" and len(model.registry.ledger()) == 2


def test_policy_of_the_wrong_type_is_exit_2(world, tmp_path):
    model = Model(world, tmp_path)
    policy = tmp_path / "gate.yaml"
    policy.write_text("gate:\n  tie_break: 5\n")
    result = model.cli("gate", "--campaign", "any", "--policy", str(policy))
    assert result.returncode == 2 and "'tie_break' must be a list" in result.stderr
    assert result.stderr.count("\n") == 1


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


def _servers_down(world: dict) -> dict:
    return {
        **world["env"],
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{_dead_port()}",
        "ZENML_STORE_URL": f"http://127.0.0.1:{_dead_port()}",
        "ZENML_STORE_API_KEY": "ZENKEY_unused",
    }


def test_gate_with_servers_unreachable_reports_no_decision_in_seconds(world, tmp_path):
    model = Model(world, tmp_path)
    out = tmp_path / "gate-out"
    (out).mkdir()
    (out / "ledger.json").write_text('[{"seq": 1}]')  # an earlier run's ledger: must survive
    started = time.monotonic()
    result = model.cli("gate", "--campaign", "c1", "--out", str(out), env=_servers_down(world))
    assert time.monotonic() - started < HANG
    assert result.returncode == 4 and "gate: no_decision — could not decide: ZenML server at" in result.stdout
    assert json.loads((out / "gate_report.json").read_text())["outcome"] == "no_decision"
    assert "GATE_DECISION=no_decision" in (out / "gate.env").read_text()
    assert json.loads((out / "ledger.json").read_text()) == [{"seq": 1}]


@pytest.mark.parametrize("command", [["promote"], ["rollback", "--alias", "staging"]])
def test_alias_moves_with_servers_unreachable_are_one_line_exit_4(world, tmp_path, command):
    model = Model(world, tmp_path)
    started = time.monotonic()
    result = model.cli(*command, env=_servers_down(world))
    assert time.monotonic() - started < HANG
    assert result.returncode == 4 and result.stderr.startswith("error: ZenML server at http://127.0.0.1:")
    assert result.stderr.count("\n") == 1


def test_train_with_servers_unreachable_is_exit_1(world):
    result = run_cli(["train", "baseline", "--config", "configs/baseline.yaml"], world["project"], _servers_down(world))
    assert result.returncode == 1 and "ZenML server at" in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_the_traceback(world, tmp_path):
    env = {**world["env"], "ZENML_STORE_URL": f"http://127.0.0.1:{_dead_port()}", "ZENML_STORE_API_KEY": "x"}
    result = run_cli(["--debug", "promote"], world["project"], env)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bad_server_budget_is_exit_2(world):
    result = run_cli(["promote"], world["project"], {**world["env"], "YOLO_MLOPS_SERVER_TIMEOUT_S": "soon"})
    assert result.returncode == 2 and "YOLO_MLOPS_SERVER_TIMEOUT_S='soon'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("seed", range(4))
def test_random_hostile_campaign_through_the_real_gate(world, tmp_path, seed):
    """A handful of random campaigns through the CLI: a verified, rule-abiding promotion, or nothing moved."""
    rng = random.Random(seed)
    model = Model(world, tmp_path)
    kind = rng.choice(WEIGHTS_KINDS)
    hostile = rng.choice([None, float("nan"), float("inf"), MLFLOW_INF, 1.5])
    metrics = {rng.choice(["mAP50_95", "precision", "recall"]): hostile} if hostile is not None else None
    values = [rng.choice([0.3, 0.55, 0.7, 0.9]) for _ in range(3)]
    campaign = make_campaign(world, values, weights=kind, metrics=metrics)
    result = model.gate(campaign)
    version = model.registry.alias_version("staging")
    if version is None:
        assert result.returncode in (3, 4) and model.versions() == 0 and model.registry.ledger() == []
        return
    assert result.returncode == 0 and kind == "real" and hostile is None and max(values) >= 0.5
    weights = model.registry.download_weights(version.version, tmp_path / "dl")
    assert file_sha256(weights) == version.tags["weights_sha256"]
    assert json.loads(version.tags["metrics"])["mAP50"] == max(values)
