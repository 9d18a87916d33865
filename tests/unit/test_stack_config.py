import pytest

from yolo_mlops.core.errors import ConfigError
from yolo_mlops.core.service_config import (
    CLIENT_VARIABLES,
    CREDENTIALS,
    IDENTITY_CREDENTIALS,
    NAMES,
    PROMOTER,
    TRAINER,
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
    assert set(config.secrets) == {GOOD[k] for k in CREDENTIALS}


IDENTITIES = {key: f"{key.lower()}-generated" for keys in IDENTITY_CREDENTIALS.values() for key in keys}


def test_each_identity_gets_its_own_credentials_never_the_admins():
    config = resolve_stack_config(GOOD, {"MLFLOW_PORT": "5555"}, ".env").with_identities(IDENTITIES)
    trainer, promoter = config.client_env(TRAINER), config.client_env(PROMOTER)
    assert trainer["MLFLOW_TRACKING_URI"] == promoter["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5555"
    assert trainer["MLFLOW_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert (trainer["MLFLOW_TRACKING_USERNAME"], promoter["MLFLOW_TRACKING_USERNAME"]) == (
        "yolo-mlops-trainer",
        "yolo-mlops-promoter",
    )
    assert trainer["AWS_SECRET_ACCESS_KEY"] == "s3_trainer_secret_key-generated"
    assert promoter["MLFLOW_TRACKING_PASSWORD"] == "mlflow_promoter_password-generated"
    admin = {GOOD[k] for k in CREDENTIALS}
    assert not admin & {*trainer.values(), *promoter.values()}
    assert set(config.secrets) == admin | set(IDENTITIES.values())


def test_s3_identities_scope_each_to_its_buckets():
    config = resolve_stack_config(GOOD, {}, ".env").with_identities(IDENTITIES)
    root, trainer, promoter = config.s3_identities()
    assert root["credentials"] == [{"accessKey": GOOD["MINIO_ROOT_USER"], "secretKey": GOOD["MINIO_ROOT_PASSWORD"]}]
    assert "Admin" in root["actions"]
    assert trainer["credentials"] == [
        {"accessKey": "s3_trainer_access_key-generated", "secretKey": "s3_trainer_secret_key-generated"}
    ]
    assert "Write:dvc" not in trainer["actions"] and "Write:dvc" in promoter["actions"]
    for identity in (trainer, promoter):
        assert {"Read:zenml", "Write:zenml", "Read:dvc"} <= set(identity["actions"])
        assert not any(action.endswith(":mlflow") or ":" not in action for action in identity["actions"])


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
