"""The preflight tells MLflow's DNS-rebinding guard (403 "Invalid Host header": the server's --allowed-hosts
lacks the name the runner uses) from a rejected password, on a real MLflow server started for the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import run_cli
from tests.integration.test_native_stack import free_port_block

pytestmark = pytest.mark.integration


@pytest.fixture
def mlflow_allowing_another_name(tmp_path):
    """An MLflow server that answers only Host: mlflow.example.com, as behind a proxy with that name."""
    port = free_port_block(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
        + ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--allowed-hosts", "mlflow.example.com"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow server did not answer /health within 120 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the uvicorn worker it started
        server.wait(timeout=30)


def test_host_header_refusal_is_not_reported_as_a_bad_password(sandbox, mlflow_allowing_another_name):
    closed = "http://127.0.0.1:9"
    env = {
        **sandbox["env"],
        "MLFLOW_TRACKING_URI": mlflow_allowing_another_name,
        "MLFLOW_TRACKING_USERNAME": "someone",
        "MLFLOW_TRACKING_PASSWORD": "a-password-of-length",
        "MLFLOW_S3_ENDPOINT_URL": closed,
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "ZENML_STORE_URL": closed,
        "ZENML_STORE_API_KEY": "ZENKEY_x",
    }
    status = run_cli(["stack", "status", "--shared"], sandbox["project"], env)
    assert status.returncode == 1
    mlflow_line = next(line for line in status.stdout.splitlines() if " mlflow: " in line)
    assert mlflow_line.startswith("FAIL")
    assert "Invalid Host header" in mlflow_line and "MLFLOW_ALLOWED_HOSTS" in mlflow_line
    assert "PASSWORD" not in mlflow_line
