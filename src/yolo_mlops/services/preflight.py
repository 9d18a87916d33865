"""The preflight CI's `stack` job runs before any training: each server reachable, each credential accepted."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass

from yolo_mlops.core.service_config import BUCKETS, CLIENT_BUCKETS, CLIENT_VARIABLES, local_defaults_in_use


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _request(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> tuple[int, str]:
    """HTTP status (0: no answer) and the start of the body (a 403 says why in it)."""
    request = urllib.request.Request(url, data=data, headers=headers or {})  # configured URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    return _request(url, headers, data)[0]


def preflight(env: Mapping[str, str], local_stack: bool) -> list[Check]:
    """One check per requirement of the training jobs; every failure names what to fix."""
    missing = [k for k in CLIENT_VARIABLES if not env.get(k)]
    checks = [
        Check(
            "variables",
            not missing,
            "all set" if not missing else f"{missing[0]} is not set (a CI/CD variable; see the README's table)",
        )
    ]
    if missing:
        return checks
    defaults = local_defaults_in_use(env) if env.get("CI") == "true" and not local_stack else []
    checks.append(
        Check(
            "credentials",
            not defaults,
            "no local-only default in use"
            if not defaults
            else f"{defaults[0]} holds a local-only default, refused in CI against shared servers",
        )
    )
    checks.append(_check_s3(env))
    checks += _check_mlflow(env)
    checks += _check_zenml(env)
    return checks


def _check_s3(env: Mapping[str, str]) -> Check:
    from botocore.exceptions import BotoCoreError, ClientError

    from yolo_mlops.adapters.s3 import s3_client

    endpoint = env["MLFLOW_S3_ENDPOINT_URL"]
    client = s3_client(endpoint, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    buckets = [env.get(k) or BUCKETS[k] for k in CLIENT_BUCKETS]
    try:
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    except ClientError as exc:
        return Check(
            "s3", False, f"{endpoint} refused AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ({exc.response['Error']['Code']})"
        )
    except BotoCoreError as exc:
        return Check("s3", False, f"{endpoint} unreachable ({type(exc).__name__})")
    absent = [b for b in buckets if b not in existing]
    if absent:
        return Check("s3", False, f"bucket {absent[0]!r} missing at {endpoint}; create it (stack up does)")
    return Check("s3", True, f"{endpoint}: credentials accepted, buckets {', '.join(buckets)} present")


def _check_mlflow(env: Mapping[str, str]) -> list[Check]:
    uri = env["MLFLOW_TRACKING_URI"].rstrip("/")
    if _get(f"{uri}/health") != 200:
        return [Check("mlflow", False, f"{uri} unreachable (GET /health failed)")]
    token = b64encode(f"{env['MLFLOW_TRACKING_USERNAME']}:{env['MLFLOW_TRACKING_PASSWORD']}".encode()).decode()
    status, body = _request(
        f"{uri}/api/2.0/mlflow/experiments/search?max_results=1", {"Authorization": f"Basic {token}"}
    )
    if status == 403 and "Invalid Host header" in body:
        host = urllib.parse.urlsplit(uri).netloc
        return [
            Check(
                "mlflow",
                False,
                f"{uri} refused the Host header {host!r} (HTTP 403 Invalid Host header), before checking any "
                "password: add it to the server's --allowed-hosts (MLFLOW_ALLOWED_HOSTS in its .env)",
            )
        ]
    if status != 200:
        return [Check("mlflow", False, f"{uri} refused MLFLOW_TRACKING_USERNAME/PASSWORD (HTTP {status})")]
    return [Check("mlflow", True, f"{uri}: up, credentials accepted")]


def zenml_api_key_status(url: str, api_key: str) -> int:
    """HTTP status of a ZenML login with a service-account API key (200: accepted)."""
    form = urllib.parse.urlencode({"grant_type": "zenml-api-key", "password": api_key}).encode()
    return _get(f"{url.rstrip('/')}/api/v1/login", {"Content-Type": "application/x-www-form-urlencoded"}, form)


def _check_zenml(env: Mapping[str, str]) -> list[Check]:
    url = env["ZENML_STORE_URL"].rstrip("/")
    if _get(f"{url}/health") != 200:
        return [Check("zenml", False, f"{url} unreachable (GET /health failed)")]
    status = zenml_api_key_status(url, env["ZENML_STORE_API_KEY"])
    if status != 200:
        return [
            Check(
                "zenml",
                False,
                f"{url} rejected ZENML_STORE_API_KEY (HTTP {status}); issue one with "
                "`yolo-mlops zenml bootstrap --rotate`",
            )
        ]
    return [Check("zenml", True, f"{url}: up, API key accepted")]
