"""The CLI's one error boundary: which exceptions are server faults, and the budget they run under."""

import pytest
from mlflow.exceptions import MlflowException

from yolo_mlops.cli.main import service_fault
from yolo_mlops.configuration.process_env import server_budget_env, server_timeout_s
from yolo_mlops.core.errors import ConfigError, ServiceUnavailable


def test_client_library_errors_name_their_server():
    fault = service_fault(MlflowException("API request to http://x:5000 failed"))
    assert isinstance(fault, ServiceUnavailable) and str(fault) == "MLflow: API request to http://x:5000 failed"
    assert str(service_fault(ConnectionRefusedError("refused"))) == "a server: refused"


def test_bugs_and_bad_input_are_not_server_faults():
    assert service_fault(ValueError("a bug keeps its traceback")) is None
    assert service_fault(ConfigError("bad input")) is None


def test_budget_bounds_each_mlflow_request_and_zenml_only_on_a_server():
    env = server_budget_env(20, "http://zenml:8237")
    attempts = 1 + int(env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    backoff = sum(int(env["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"]) * 2**i for i in range(1, attempts - 1))
    assert attempts * int(env["MLFLOW_HTTP_REQUEST_TIMEOUT"]) + backoff <= 20
    assert env["ZENML_STORE_HTTP_TIMEOUT"] == env["MLFLOW_HTTP_REQUEST_TIMEOUT"]
    assert "ZENML_STORE_HTTP_TIMEOUT" not in server_budget_env(20, "mysql://db/zenml")


@pytest.mark.parametrize("raw", ["soon", "0", "3", "-5"])
def test_a_bad_budget_is_bad_input(monkeypatch, raw):
    monkeypatch.setenv("YOLO_MLOPS_SERVER_TIMEOUT_S", raw)
    with pytest.raises(ConfigError, match="YOLO_MLOPS_SERVER_TIMEOUT_S"):
        server_timeout_s()
