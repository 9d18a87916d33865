import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.settings import DEFAULT_EXPERIMENT, check_campaign_id, padded_api_key, resolve_settings

NOW = datetime(2026, 11, 28, 12, 30, 5, tzinfo=UTC)


def test_embedded_defaults(tmp_path):
    s = resolve_settings({}, tmp_path, NOW, "ab12")
    assert s.state_dir == (tmp_path / ".mlops").resolve()
    assert s.campaign == "local-20261128-123005-ab12"
    assert s.experiment_name == DEFAULT_EXPERIMENT == "cv_yolo_tiny"
    assert s.embedded


def test_ci_pipeline_id_is_the_campaign_unless_overridden(tmp_path):
    assert resolve_settings({"CI_PIPELINE_ID": "4711"}, tmp_path, NOW, "x").campaign == "4711"
    env = {"CI_PIPELINE_ID": "4711", "YOLO_MLOPS_CAMPAIGN": "mine"}
    assert resolve_settings(env, tmp_path, NOW, "x").campaign == "mine"


def test_servers_and_state_dir_from_env(tmp_path):
    env = {
        "YOLO_MLOPS_STATE_DIR": str(tmp_path / "s"),
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "MLFLOW_EXPERIMENT_NAME": "exp",
        "ZENML_STORE_URL": "http://127.0.0.1:8237",
    }
    s = resolve_settings(env, Path("/nowhere"), NOW, "x")
    assert s.state_dir == tmp_path / "s"
    assert (s.mlflow_tracking_uri, s.experiment_name, s.zenml_store_url) == (
        "http://127.0.0.1:5000",
        "exp",
        "http://127.0.0.1:8237",
    )
    assert not s.embedded


@pytest.mark.parametrize("bad", ["has space", "a/b", "-lead", "x" * 65])
def test_bad_campaign_ids_are_refused(tmp_path, bad):
    with pytest.raises(ConfigError, match="YOLO_MLOPS_CAMPAIGN"):
        resolve_settings({"YOLO_MLOPS_CAMPAIGN": bad}, tmp_path, NOW, "x")


@pytest.mark.parametrize("odd", ["4711", "Nightly_2026.11-29..rc-1", "a", "A" * 64, "x.-_.y"])
def test_odd_but_allowed_campaign_ids(tmp_path, odd):
    assert resolve_settings({"YOLO_MLOPS_CAMPAIGN": odd}, tmp_path, NOW, "x").campaign == odd
    assert check_campaign_id(odd, "--campaign") == odd


@pytest.mark.parametrize(
    "hostile", ["x' AND tags.campaign != 'y", "../../x", "..", ".hidden", "a\n", 'a"b', "a\\b", ""]
)
def test_hostile_campaign_ids_name_their_source(hostile):
    with pytest.raises(ConfigError, match="^--campaign=.* is not a valid campaign id; use 1-64 characters"):
        check_campaign_id(hostile, "--campaign")


def test_bad_ci_pipeline_id_is_named_as_such(tmp_path):
    with pytest.raises(ConfigError, match="^CI_PIPELINE_ID="):
        resolve_settings({"CI_PIPELINE_ID": "12 34"}, tmp_path, NOW, "x")


@pytest.mark.parametrize("payload", [b"k", b"ke", b"key", b'{"id": "0f3c", "key": "secret"}'])
def test_zenml_api_key_is_accepted_without_its_padding(payload):
    key = "ZENKEY_" + base64.b64encode(payload).decode()
    unpadded = key.rstrip("=")
    assert padded_api_key(unpadded) == key
    assert padded_api_key(key) == key
    assert base64.b64decode(padded_api_key(unpadded).removeprefix("ZENKEY_")) == payload


def test_a_key_that_is_no_base64_is_left_for_the_server_to_reject():
    assert padded_api_key("ZENKEY_abcde") == "ZENKEY_abcde"
