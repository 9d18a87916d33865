"""The gate and the manual alias moves through the CLI, on the real MLflow store (sqlite) and ZenML store of
the session, with real weights: hostile and odd campaign ids, `promote --version`, rollbacks that stick.

Scenario runs carry chosen metrics and per-config weight hashes; their weights are those of the session's
tiny campaign (source_run_id), so registration and alias moves act on real objects. Each test uses its own
registered model (a registry config of its own), so tests are independent."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import SESSION_STATE, cli_env, run_cli
from tests.integration.gate_scenarios import make_campaign, point_estimate_policy, run_of, scenario_world
from yolo_mlops.adapters.mlflow_registry import Registry
from yolo_mlops.adapters.mlflow_tracking import embedded_tracking_uri

pytestmark = pytest.mark.integration

TRACKING = embedded_tracking_uri(SESSION_STATE)


@pytest.fixture(scope="module")
def world(tiny_campaign, tmp_path_factory) -> dict:
    project = tiny_campaign["project"]
    return {
        **scenario_world(TRACKING, tmp_path_factory.mktemp("weights")),
        "project": project,
        "env": cli_env(SESSION_STATE, project.parent / "home", project.parent / "network.log"),
        "policy": point_estimate_policy(project),
    }


@pytest.fixture
def model(tmp_path) -> dict:
    """A registered model of the test's own, and the CLI call that uses it."""
    name = f"model_{uuid.uuid4().hex[:8]}"
    config = tmp_path / "registry.yaml"
    config.write_text(f"registry:\n  model_name: {name}\n")
    return {"name": name, "config": config, "registry": Registry(TRACKING, "cv_yolo_tiny", name)}


def cli(world: dict, model: dict, *args: str, env: dict | None = None):
    gate_args = ["--baseline", "configs/baseline.yaml", "--grid", "configs/grid.yaml", "--policy", str(world["policy"])]
    extra = gate_args if args[0] == "gate" else []
    return run_cli([*args, *extra, "--registry", str(model["config"])], world["project"], env or world["env"])


def alias(model: dict, name: str) -> str | None:
    found = model["registry"].alias_version(name)
    return found.version if found else None


def test_hostile_campaign_ids_are_refused_before_anything_is_read(world, model, tmp_path):
    victim = make_campaign(world, [0.6, 0.9, 0.7])  # what the injection would select
    for hostile in (f"x' AND tags.campaign != '{victim}", "../../x"):
        result = cli(world, model, "gate", "--campaign", hostile)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("error: --campaign=") and "Traceback" not in result.stderr
        env = {**world["env"], "YOLO_MLOPS_CAMPAIGN": hostile}
        result = cli(world, model, "gate", env=env)
        assert result.returncode == 2 and result.stderr.startswith("error: YOLO_MLOPS_CAMPAIGN=")
    assert model["registry"].versions() == [] and model["registry"].ledger() == []
    assert not (SESSION_STATE.parent / "x").exists() and not (SESSION_STATE / "x").exists()


def test_odd_but_allowed_campaign_id_is_gated(world, model):
    campaign = make_campaign(world, [0.6, 0.9, 0.7], campaign=f"Nightly_{uuid.uuid4().hex[:6]}.11-29..rc-1")
    result = cli(world, model, "gate", "--campaign", campaign)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate: first_model" in result.stdout and alias(model, "staging") == "1"
    report = json.loads((SESSION_STATE / "campaigns" / campaign / "gate" / "gate_report.json").read_text())
    assert report["campaign"] == campaign and report["model_version"] == "1"


def test_production_promotes_exactly_the_gated_version(world, model):
    assert cli(world, model, "gate", "--campaign", make_campaign(world, [0.6, 0.7, 0.65])).returncode == 0
    promoted = cli(world, model, "promote", "--from", "staging", "--to", "production", "--version", "1")
    assert promoted.returncode == 0 and "@production -> version 1" in promoted.stdout, promoted.stderr
    # Another pipeline's gate moves staging on; this pipeline's manual job still names version 1.
    assert cli(world, model, "gate", "--campaign", make_campaign(world, [0.6, 0.8, 0.7])).returncode == 0
    assert alias(model, "staging") == "2"
    ledger_before = len(model["registry"].ledger())
    stale = cli(world, model, "promote", "--from", "staging", "--to", "production", "--version", "1")
    assert stale.returncode == 4, stale.stdout + stale.stderr
    assert stale.stderr.count("\n") == 1 and "staging is v2 now, not v1" in stale.stderr
    assert "Traceback" not in stale.stderr
    assert alias(model, "production") == "1" and len(model["registry"].ledger()) == ledger_before
    exact = cli(world, model, "promote", "--from", "staging", "--to", "production", "--version", "2")
    assert exact.returncode == 0 and alias(model, "production") == "2"


def test_rollback_rejects_and_the_cached_weights_never_come_back(world, model):
    assert cli(world, model, "gate", "--campaign", make_campaign(world, [0.6, 0.7, 0.65])).returncode == 0
    bad = make_campaign(world, [0.6, 0.8, 0.7])
    assert cli(world, model, "gate", "--campaign", bad).returncode == 0
    assert alias(model, "staging") == "2"

    rolled = cli(world, model, "rollback", "--alias", "staging")
    assert rolled.returncode == 0 and "version 2 is rejected" in rolled.stdout, rolled.stderr
    assert alias(model, "staging") == "1"
    tags = model["registry"].get_version("2").tags
    assert tags["rejected"] == "true" and "rollback of staging from v2 to v1" in tags["rejected_reason"]
    assert model["registry"].ledger()[-1]["rejected_version"] == "2"
    # Rolling back again would land on the rejected v2 (the ledger's last move to v1 came from it): refused.
    twice = cli(world, model, "rollback", "--alias", "staging")
    assert twice.returncode == 4 and "would go back to v2, which is rejected" in twice.stderr, twice.stderr
    assert alias(model, "staging") == "1" and "rejected" not in model["registry"].get_version("1").tags

    # A cached nightly: grid 1/2 re-appears with v2's very weights and its high score, in a new campaign.
    nightly = make_campaign(world, [0.6, 0.95, 0.68], cached={"grid 1/2": run_of(world, bad, "grid 1/2")})
    kept = cli(world, model, "gate", "--campaign", nightly)
    assert kept.returncode == 3, kept.stdout + kept.stderr
    assert "[pass] candidates:not_rejected: skipped grid 1/2: weights of rejected v2" in kept.stdout
    assert alias(model, "staging") == "1" and len(model["registry"].versions()) == 2
    report = json.loads((SESSION_STATE / "campaigns" / nightly / "gate" / "gate_report.json").read_text())
    assert any(v["rule"] == "candidates:not_rejected" for v in report["verdicts"])

    # Promoting the rejected version by hand is refused too, until `unreject` lifts it.
    model["registry"].set_alias("production", "2")
    refused = cli(world, model, "promote", "--from", "production", "--to", "staging")
    assert refused.returncode == 4 and "v2 is rejected" in refused.stderr and alias(model, "staging") == "1"
    lifted = cli(world, model, "unreject", "--version", "2")
    assert lifted.returncode == 0 and "rejection lifted" in lifted.stdout, lifted.stderr
    assert "rejected" not in model["registry"].get_version("2").tags
    assert model["registry"].ledger()[-1]["unrejected_version"] == "2"
    again = cli(world, model, "gate", "--campaign", nightly)
    assert again.returncode == 0 and "gate: promote" in again.stdout, again.stdout + again.stderr
    assert alias(model, "staging") == "2"
    assert len(model["registry"].versions()) == 2  # the existing version, not a new registration
