import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.service_config import (
    CLIENT_VARIABLES,
    CREDENTIALS,
    NAMES,
    ci_stack_up_refusal,
    local_defaults_in_use,
    parse_env_file,
    resolve_stack_config,
)

GOOD = {**{k: f"value-{i}-long-enough" for i, k in enumerate(CREDENTIALS)}, **{k: k.lower() for k in NAMES}}


def test_parse_env_file_skips_comments_and_strips_quotes():
    text = "# comment\n\nA=1\nexport B='two words'\nC=\"x=y\"\nnot a pair\n"
    assert parse_env_file(text) == {"A": "1", "B": "two words", "C": "x=y"}


def test_defaults_environment_overrides_and_derived_urls():
    config = resolve_stack_config(GOOD, {"MLFLOW_PORT": "5555", "UNRELATED": "x"}, ".env")
    assert config.port("MLFLOW_PORT") == 5555 and config.port("S3_PORT") == 9000
    assert config.buckets == ["mlflow", "zenml", "dvc"]
    env = config.client_env()
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5555"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert env["AWS_SECRET_ACCESS_KEY"] == GOOD["MINIO_ROOT_PASSWORD"]
    assert set(config.secrets) == {GOOD[k] for k in CREDENTIALS}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ZENML_DB_PASSWORD": ""}, "ZENML_DB_PASSWORD is not set: add it to .env"),
        ({"MLFLOW_DB_USER": "has space"}, "MLFLOW_DB_USER in .env may only hold"),
        ({"MINIO_ROOT_PASSWORD": "quote'injection"}, "MINIO_ROOT_PASSWORD in .env may only hold"),
        ({"S3_PORT": "http"}, "S3_PORT='http' in .env is not a TCP port"),
        ({"ZENML_PORT": "70000"}, "is not a TCP port"),
        ({"MLFLOW_TRACKING_PASSWORD": "short"}, "at least 12 characters"),
    ],
)
def test_bad_settings_name_the_variable(change, message):
    with pytest.raises(ConfigError, match=message):
        resolve_stack_config({**GOOD, **change}, {}, ".env")


def test_local_only_defaults_are_found_server_and_client_side():
    assert local_defaults_in_use(GOOD) == []
    values = {**GOOD, "ZENML_ADMIN_PASSWORD": "local-only-x", "AWS_SECRET_ACCESS_KEY": "local-only-y"}
    assert local_defaults_in_use(values) == ["ZENML_ADMIN_PASSWORD", "AWS_SECRET_ACCESS_KEY"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"CI": "false"}, None),
        ({"CI": "true", "YOLO_MLOPS_CI_LOCAL_STACK": "true"}, None),
        ({"CI": "true"}, "no server is configured"),
        ({"CI": "true", "YOLO_MLOPS_CI_LOCAL_STACK": "yes"}, "no server is configured"),
        ({"CI": "true", "ZENML_STORE_URL": "https://zenml.example.com"}, "ZENML_STORE_URL names a server"),
    ],
)
def test_ci_stack_up_refusal(env, expected):
    refusal = ci_stack_up_refusal(env)
    if expected is None:
        assert refusal is None
    else:
        assert expected in refusal and "YOLO_MLOPS_CI_LOCAL_STACK=true" in refusal


def test_ci_stack_up_refusal_lists_every_variable_to_set():
    refusal = ci_stack_up_refusal({"CI": "true"})
    assert all(name in refusal for name in CLIENT_VARIABLES)
