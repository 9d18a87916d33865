"""The real gate on a real MLflow store (sqlite) and the real ZenML store of the session.

Scenario campaigns (tests/integration/gate_scenarios.py) are MLflow runs written here with chosen metrics and
real weights (the tiny campaign's checkpoint, one copy per run), pointing at the tiny campaign's ZenML pipeline
run, so registration, weight checks, alias moves, re-scoring and the ZenML model stage all act on real objects.
Each scenario uses its own registered model name, so scenarios are independent.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import SESSION_STATE, run_cli
from tests.integration.gate_scenarios import POINT_ESTIMATES, make_campaign, point_estimate_policy, scenario_world
from yolo_mlops.adapters import ultralytics_runtime
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri
from yolo_mlops.configuration.config_files import RegistryConfig, expected_configs, load_gate_policy
from yolo_mlops.configuration.environment import current_settings
from yolo_mlops.promotion.gate import Gate, GateRequest

pytestmark = pytest.mark.integration

TRACKING = embedded_tracking_uri(SESSION_STATE)


@pytest.fixture(scope="module")
def world(tiny_campaign, tmp_path_factory) -> dict:
    project = tiny_campaign["project"]
    policy = point_estimate_policy(project)
    return {
        **scenario_world(TRACKING, tmp_path_factory.mktemp("weights")),
        "project": project,
        "expected": expected_configs(project / "configs" / "baseline.yaml", project / "configs" / "grid.yaml"),
        "policy": load_gate_policy(project / policy),
    }


def gate_for(world: dict, model: str, tracking: str = TRACKING) -> Gate:
    return Gate(current_settings(), tracking, world["policy"], RegistryConfig(model_name=model))


def run_gate(world: dict, gate: Gate, campaign: str, tmp_path: Path, promote: bool = True) -> dict:
    out = tmp_path / f"gate-{campaign}"
    return gate.run(GateRequest(campaign, world["expected"], world["project"] / "data", promote, out))


def staging(gate: Gate) -> str | None:
    version = gate.registry.alias_version("staging")
    return version.version if version else None


def new_model() -> str:
    return f"model_{uuid.uuid4().hex[:8]}"


# ---- scenario table ---------------------------------------------------------------------------------

SCENARIOS = {
    # name: (champion campaign mAP50s or None, candidate mAP50s, kwargs, outcome, exit, staging moves)
    "better": ([0.6, 0.7, 0.65], [0.6, 0.8, 0.7], {}, "promote", 0, True),
    "worse": ([0.6, 0.8, 0.65], [0.6, 0.7, 0.65], {}, "keep_champion", 3, False),
    "within margin": ([0.6, 0.8, 0.65], [0.6, 0.803, 0.65], {}, "keep_champion", 3, False),
    "exact tie": ([0.6, 0.8, 0.65], [0.6, 0.8, 0.65], {}, "keep_champion", 3, False),
    "below floor, no champion": (None, [0.3, 0.4, 0.2], {}, "keep_champion", 3, False),
    "NaN metric": ([0.6, 0.7, 0.65], [0.6, math.nan, 0.9], {}, "no_decision", 4, False),
    "partial grid": ([0.6, 0.7, 0.65], [0.6, 0.9], {}, "no_decision", 4, False),
    "failed run": ([0.6, 0.7, 0.65], [0.6, 0.9, 0.7], {"statuses": {"grid 2/2": "FAILED"}}, "no_decision", 4, False),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(world, tmp_path, name):
    champion_map, candidate_map, kwargs, outcome, exit_code, moves = SCENARIOS[name]
    gate = gate_for(world, new_model())
    if champion_map is not None:
        first = run_gate(world, gate, make_campaign(world, champion_map), tmp_path)
        assert first["outcome"] == "first_model", first["reason"]
    before, ledger_before = staging(gate), len(gate.registry.ledger())
    report = run_gate(world, gate, make_campaign(world, candidate_map, **kwargs), tmp_path)
    assert (report["outcome"], report["exit_code"]) == (outcome, exit_code), report["reason"]
    assert (staging(gate) != before) is moves
    assert len(gate.registry.ledger()) == ledger_before + (1 if moves else 0)
    if not moves:
        assert not report["alias_moved"] and any(not v["passed"] for v in report["verdicts"])


def test_first_model_is_rubber_stamped_and_resolves_by_alias(world, tmp_path, monkeypatch):
    model = new_model()
    gate = gate_for(world, model)
    report = run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path)
    assert report["outcome"] == "first_model" and report["alias_moved"]
    assert any(v["rule"] == "champion:first_model" and v["passed"] for v in report["verdicts"])
    version = gate.registry.alias_version("staging")
    assert version.version == report["model_version"] == "1"
    assert version.tags["config"] == "grid 1/2" and version.tags["decision_id"] == report["decision_id"]
    for key in ("run_id", "campaign", "git_commit", "data_md5", "weights_sha256", "decision_id"):
        assert version.tags[key], key
    (entry,) = gate.registry.ledger()
    assert (entry["alias"], entry["from_version"], entry["to_version"]) == ("staging", None, "1")
    assert entry["actor"] and entry["metrics"]["mAP50"] == 0.9 and entry["data_md5"]
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", TRACKING)  # as a user resolves it (README, "The gate")
    folder = mlflow.artifacts.download_artifacts(f"models:/{model}@staging", dst_path=str(tmp_path / "dl"))
    assert (Path(folder) / "MLmodel").is_file()  # the version is the MLflow model, best.pt inside it
    weights = Path(folder) / "artifacts" / "best.pt"
    import ultralytics

    image = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    assert ultralytics_runtime.predict_count(weights, image, imgsz=64) >= 0


def test_reports(world, tmp_path):
    gate = gate_for(world, new_model())
    run_gate(world, gate, make_campaign(world, [0.6, 0.7, 0.65]), tmp_path)
    campaign = make_campaign(world, [0.6, 0.8, 0.7])
    report = run_gate(world, gate, campaign, tmp_path)
    out = tmp_path / f"gate-{campaign}"
    assert json.loads((out / "gate_report.json").read_text()) == report
    markdown = (out / "gate_report.md").read_text()
    assert "`promote`" in markdown and "| grid 1/2 🏆 |" in markdown and "+0.1000" in markdown
    assert "improvement:absolute | pass" in markdown
    suite = ElementTree.parse(out / "gate_junit.xml").getroot().find("testsuite")
    cases = {c.get("name"): c.find("failure") is None for c in suite.findall("testcase")}
    assert cases == {v["rule"]: v["passed"] for v in report["verdicts"]} and all(cases.values())
    env = dict(line.split("=", 1) for line in (out / "gate.env").read_text().splitlines())
    assert env == {
        "GATE_DECISION": "promote",
        "MODEL_VERSION": "2",
        "MODEL_URI": f"models:/{gate.config.model_name}/2",
    }
    assert len(json.loads((out / "ledger.json").read_text())) == 2
    decision_run = world["client"].get_run(report["decision_id"])
    assert decision_run.data.tags["gated_campaign"] == campaign
    logged = {a.path for a in world["client"].list_artifacts(report["decision_id"], "gate")}
    assert "gate/gate_report.md" in logged and "gate/ledger.json" in logged


def test_same_campaign_twice_is_idempotent(world, tmp_path):
    gate = gate_for(world, new_model())
    campaign = make_campaign(world, [0.6, 0.9, 0.7])
    assert run_gate(world, gate, campaign, tmp_path)["outcome"] == "first_model"
    again = run_gate(world, gate, campaign, tmp_path)
    assert (again["outcome"], again["exit_code"], again["model_version"]) == ("already_champion", 0, "1")
    versions = gate.registry.versions()
    assert len(versions) == 1 and len(gate.registry.ledger()) == 1


def test_dry_run_changes_nothing(world, tmp_path):
    gate = gate_for(world, new_model())
    report = run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path, promote=False)
    assert report["outcome"] == "first_model" and report["dry_run"] and not report["alias_moved"]
    assert staging(gate) is None and gate.registry.ledger() == []
    assert gate.registry.versions() == []


def test_champion_scored_on_older_data_is_rescored(world, tmp_path):
    gate = gate_for(world, new_model())
    run_gate(world, gate, make_campaign(world, [0.6, 0.7, 0.65], md5="0" * 32 + ".dir"), tmp_path)
    # The older campaign was on other data: its own gate could only see its own runs, so it was first.
    assert staging(gate) == "1"
    report = run_gate(world, gate, make_campaign(world, [0.6, 0.8, 0.7]), tmp_path)
    assert report["champion"]["rescored_from_md5"] == "0" * 32 + ".dir"
    assert report["champion"]["data_md5"] == world["source"].data.tags["data_md5"]
    # Re-scored: the champion's real weights on the tiny val split, not the 0.7 it was registered with.
    assert report["champion"]["metrics"]["mAP50"] != 0.7
    assert any(v["rule"] == "champion:fair_comparison" and v["passed"] for v in report["verdicts"])
    assert "re-scored on the current data" in (tmp_path / f"gate-{report['campaign']}" / "gate_report.md").read_text()
    assert report["outcome"] == "promote"


class RacedRegistry(Registry):
    """The registry as another pipeline's gate changes it: right after this gate registers its winner, the
    other gate promotes its own (better) model, before this gate's compare-and-set."""

    def __init__(self, tracking_uri: str, model_name: str, other_promotion) -> None:
        super().__init__(tracking_uri, "cv_yolo_tiny", model_name)
        self.other_promotion = other_promotion

    def register(self, source_run_id: str, tags: dict[str, str]):
        registered = super().register(source_run_id, tags)
        if self.other_promotion is not None:
            other, self.other_promotion = self.other_promotion, None
            other(self)
        return registered


def test_alias_moved_during_the_decision_is_decided_again(world, tmp_path):
    model = new_model()
    gate = gate_for(world, model)
    run_gate(world, gate, make_campaign(world, [0.6, 0.7, 0.65]), tmp_path)
    newer = make_campaign(world, [0.6, 0.95, 0.7])  # another pipeline's better model, promoted meanwhile
    newer_run = next(c for c in gate.registry.campaign_candidates(newer) if c.config == "grid 1/2")

    def another_pipeline_promotes(registry: Registry) -> None:
        tags = {
            "weights_sha256": newer_run.weights_sha256,
            "metrics": json.dumps(newer_run.metrics),
            "data_md5": newer_run.data_md5,
            "campaign": newer,
        }
        registry.set_alias("staging", registry.register(newer_run.source_run_id, tags).version)

    raced = Gate(
        current_settings(),
        TRACKING,
        world["policy"],
        RegistryConfig(model_name=model),
        registry=RacedRegistry(TRACKING, model, another_pipeline_promotes),
    )
    report = run_gate(world, raced, make_campaign(world, [0.6, 0.8, 0.7]), tmp_path)
    # Decided again against the newer champion (0.95): the 0.8 candidate must not overwrite it.
    assert report["outcome"] == "keep_champion", report["reason"]
    assert report["champion"]["version"] == staging(gate) == "3"
    assert [e["to_version"] for e in gate.registry.ledger()] == ["1"]
    versions = gate.registry.versions()
    assert sorted(v.version for v in versions) == ["1", "3"]  # the losing registration was withdrawn


def test_registry_unreachable_fails_closed(world, tmp_path):
    # The process's MLflow retry budget is the CLI's (configure_process_env, default 20 s), not MLflow's minutes.
    gate = gate_for(world, new_model(), tracking="http://127.0.0.1:9")  # nothing listens on port 9
    started = time.monotonic()
    report = run_gate(world, gate, "any-campaign", tmp_path)
    assert time.monotonic() - started < 20
    assert (report["outcome"], report["exit_code"], report["alias_moved"]) == ("no_decision", 4, False)
    assert "127.0.0.1:9" in report["reason"]
    assert (tmp_path / "gate-any-campaign" / "gate_report.md").exists()


def test_zenml_model_stage_follows_the_alias(world, tmp_path):
    from zenml.client import Client

    gate = gate_for(world, new_model())
    run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path)
    zenml_run = Client().get_pipeline_run(world["source"].data.tags["zenml_run_id"])
    assert str(zenml_run.model_version.stage) == "staging"
    assert zenml_run.model_version.model.name == "yolo_tiny_person"


def test_promote_and_rollback_round_trip(world, tmp_path):
    gate = gate_for(world, new_model())
    run_gate(world, gate, make_campaign(world, [0.6, 0.7, 0.65]), tmp_path)
    assert gate.promote("staging", "production")["version"] == "1"
    assert gate.promote("staging", "production")["moved"] is False  # nothing new: no ledger entry
    run_gate(world, gate, make_campaign(world, [0.6, 0.8, 0.7]), tmp_path)
    assert staging(gate) == "2" and gate.registry.alias_version("production").version == "1"

    assert gate.rollback("staging") == {"from": "2", "to": "1", "entry": gate.registry.ledger()[-1]}
    assert staging(gate) == "1"
    assert gate.rollback("production")["to"] is None  # production had nothing before v1
    assert gate.registry.alias_version("production") is None
    moves = [(e["alias"], e["from_version"], e["to_version"]) for e in gate.registry.ledger()]
    assert moves == [
        ("staging", None, "1"),
        ("production", None, "1"),
        ("staging", "1", "2"),
        ("staging", "2", "1"),
        ("production", "1", None),
    ]
    assert "rollback" in gate.registry.ledger()[-1]["reason"]


def test_two_gates_in_parallel_processes(world, tmp_path):
    """Two gate processes on one registry: the alias ends on the better model, the ledger is a chain."""
    model = new_model()
    registry = tmp_path / "registry.yaml"
    registry.write_text(f"registry:\n  model_name: {model}\n")
    gate = gate_for(world, model)
    run_gate(world, gate, make_campaign(world, [0.6, 0.7, 0.65]), tmp_path)
    better, good = make_campaign(world, [0.6, 0.9, 0.7]), make_campaign(world, [0.6, 0.8, 0.7])
    project, env = world["project"], {**_cli_env(world)}
    args = ["gate", "--baseline", "configs/baseline.yaml", "--grid", "configs/grid.yaml", "--registry", str(registry)]
    args += ["--policy", str(POINT_ESTIMATES)]
    procs = [
        subprocess.Popen(
            [*_cli(), *args, "--campaign", c, "--out", str(tmp_path / c)],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in (good, better)
    ]
    codes = [p.wait(timeout=600) for p in procs]
    assert set(codes) <= {0, 3}, [p.stderr.read()[-2000:] for p in procs]
    best = gate.registry.alias_version("staging")
    assert json.loads(best.tags["metrics"])["mAP50"] == 0.9
    ledger = gate.registry.ledger()
    assert [e["seq"] for e in ledger] == list(range(1, len(ledger) + 1))
    for before, after in zip(ledger, ledger[1:], strict=False):
        assert after["from_version"] == before["to_version"]
    assert ledger[-1]["to_version"] == best.version


def _cli() -> list[str]:
    from tests.conftest import CLI

    return CLI


def _cli_env(world: dict) -> dict:
    from tests.conftest import cli_env

    return cli_env(SESSION_STATE, world["project"].parent / "home", world["project"].parent / "network.log")


def test_gate_cli_exit_codes_and_summary(world, tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text(f"registry:\n  model_name: {new_model()}\n")
    common = ["--baseline", "configs/baseline.yaml", "--grid", "configs/grid.yaml", "--registry", str(registry)]
    env = _cli_env(world)
    first = run_cli(["gate", "--campaign", make_campaign(world, [0.6, 0.9, 0.7]), *common], world["project"], env)
    assert first.returncode == 0, first.stderr
    assert "gate: first_model" in first.stdout and "[pass] floor:mAP50" in first.stdout
    worse = run_cli(["gate", "--campaign", make_campaign(world, [0.6, 0.5, 0.4]), *common], world["project"], env)
    assert worse.returncode == 3 and "gate: keep_champion" in worse.stdout
    partial = run_cli(["gate", "--campaign", make_campaign(world, [0.6]), *common], world["project"], env)
    assert partial.returncode == 4 and "[FAIL] evidence:complete" in partial.stdout
    promote = run_cli(
        ["promote", "--from", "staging", "--to", "production", "--registry", str(registry)], world["project"], env
    )
    assert promote.returncode == 0 and "@production -> version 1" in promote.stdout
    empty = run_cli(
        ["rollback", "--alias", "staging", "--registry", str(tmp_path / "none.yaml")], world["project"], env
    )
    assert empty.returncode == 2 and "config file not found" in empty.stderr


def test_opt_in_deprecated_stage_transition(world, tmp_path):
    gate = Gate(
        current_settings(),
        TRACKING,
        world["policy"],
        RegistryConfig(model_name=new_model(), mlflow_stage_transition=True),
    )
    run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path)
    assert gate.registry.version_stage("1") == "Staging"
    gate.promote("staging", "production")
    assert gate.registry.version_stage("1") == "Production"
    plain = gate_for(world, new_model())
    run_gate(world, plain, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path)
    assert plain.registry.version_stage("1") == "None"


def test_zenml_stage_failure_moves_nothing(world, tmp_path):
    """The winner's ZenML run is unknown to ZenML: the ZenML stage cannot follow, so MLflow's alias must not
    move either; the registration is withdrawn and the gate could not decide."""
    gate = gate_for(world, new_model())
    campaign = make_campaign(world, [0.6, 0.9, 0.7])
    client = world["client"]
    for run in client.search_runs([world["experiment_id"]], f"tags.campaign = '{campaign}'"):
        client.set_tag(run.info.run_id, "zenml_run_id", "00000000-0000-0000-0000-000000000000")
    report = run_gate(world, gate, campaign, tmp_path)
    assert (report["outcome"], report["exit_code"], report["alias_moved"]) == ("no_decision", 4, False)
    assert "ZenML: setting stage 'staging' failed" in report["reason"]
    assert staging(gate) is None and gate.registry.ledger() == []
    assert gate.registry.versions() == []


# ---- the servable check -----------------------------------------------------------------------------

BROKEN_MODELS = {
    # name: (file of the logged model folder overwritten with garbage, the rule that must fail first)
    "corrupted ONNX twin": ("artifacts/best.onnx", "servable:onnx_agrees"),
    "a model definition that cannot load": ("MLmodel", "servable:loads"),
    "weights that cannot load": ("artifacts/best.pt", "evidence:weights_verified"),
}


@pytest.mark.parametrize("name", list(BROKEN_MODELS))
def test_a_model_that_is_not_servable_stops_the_gate_with_nothing_registered(world, tmp_path, name):
    broken_file, rule = BROKEN_MODELS[name]
    gate = gate_for(world, new_model())
    report = run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7], broken_model_file=broken_file), tmp_path)
    assert (report["outcome"], report["exit_code"], report["alias_moved"]) == ("no_decision", 4, False)
    assert next(v["rule"] for v in report["verdicts"] if not v["passed"]) == rule
    assert rule in report["reason"] or "weights" in report["reason"]
    assert staging(gate) is None and gate.registry.versions() == [] and gate.registry.ledger() == []


def test_a_servable_winner_passes_every_servable_rule(world, tmp_path):
    gate = gate_for(world, new_model())
    report = run_gate(world, gate, make_campaign(world, [0.6, 0.9, 0.7]), tmp_path)
    servable = {v["rule"]: v["passed"] for v in report["verdicts"] if v["rule"].startswith("servable:")}
    assert servable == {"servable:loads": True, "servable:onnx_agrees": True, "servable:latency": True}
